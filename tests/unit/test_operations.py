"""template.yaml's operations (docs/operations.md): alarms to one SNS topic, log retention, API access
logs, and a recorded reason for every skipped security check. A function added without its log
group and alarms fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template
from usage_pricing.core.observability import METRICS_NAMESPACE, SERVICE
from usage_pricing.storage.aggregates import DEFAULT_SHARDS, MAX_SHARDS

ROOT = Path(__file__).resolve().parents[2]
TOPIC = {"Ref": "AlarmTopic"}


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v.get("Properties", {}) for k, v in load_template().of_type(kind).items()}


def alarms() -> dict[str, dict[str, Any]]:
    return resources("AWS::CloudWatch::Alarm")


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def functions() -> list[str]:
    return sorted(load_template().of_type("AWS::Serverless::Function"))


def alarms_on(namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        a
        for a in alarms().values()
        if a.get("Namespace") == namespace and a.get("MetricName") == metric
    ]


def test_the_alarm_topic_and_its_optional_email_subscription() -> None:
    template = load_template()
    assert "AlarmTopic" in template.of_type("AWS::SNS::Topic")
    parameter = template.parameters["AlarmEmail"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert re.fullmatch(parameter["AllowedPattern"], "oncall@example.com")
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")
    (subscription,) = template.of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert template.document["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    props = subscription["Properties"]
    assert (props["TopicArn"], props["Protocol"], props["Endpoint"]) == (
        TOPIC,
        "email",
        {"Ref": "AlarmEmail"},
    )


def test_every_alarm_notifies_the_topic_and_treats_missing_data_as_fine() -> None:
    assert alarms()
    for name, alarm in alarms().items():
        assert alarm["AlarmActions"] == [TOPIC], name
        assert alarm["OKActions"] == [TOPIC], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmDescription"], name


@pytest.mark.parametrize("function", functions())
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(function: str, metric: str) -> None:
    matching = [
        a
        for a in alarms_on("AWS/Lambda", metric)
        if dimensions(a) == {"FunctionName": {"Ref": function}}
    ]
    assert len(matching) == 1, f"{function} has no {metric} alarm"
    (alarm,) = matching
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )


@pytest.mark.parametrize("function", functions())
def test_every_function_has_a_log_group_with_retention(function: str) -> None:
    groups = [
        g
        for g in resources("AWS::Logs::LogGroup").values()
        if g.get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert len(groups) == 1, f"{function} has no explicit log group"
    assert groups[0]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_log_retention_parameter_is_a_valid_cloudwatch_value() -> None:
    parameter = load_template().parameters["LogRetentionDays"]
    assert parameter["Default"] in parameter["AllowedValues"]
    assert 365 in parameter["AllowedValues"]


def test_dead_letter_queue_depth_alarm() -> None:
    (alarm,) = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dimensions(alarm) == {
        "QueueName": {"Fn::GetAtt": ["BillingDeadLetterQueue", "QueueName"]}
    }
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Maximum", 1)


@pytest.mark.parametrize(
    "metric",
    [
        "BillingNeedsReview",
        "ConflictingDuplicates",
    ],
)
def test_billing_metric_alarms_match_what_the_billing_function_emits(metric: str) -> None:
    # Powertools Metrics publishes under usage_pricing.core.observability's namespace, with the
    # service as the only default dimension: the alarm must name both exactly, or it never fires.
    (alarm,) = alarms_on(METRICS_NAMESPACE, metric)
    assert dimensions(alarm) == {"service": SERVICE}
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    emitted = (ROOT / "functions" / "billing" / "app.py").read_text()
    emitted += (ROOT / "layers" / "common" / "usage_pricing" / "ledger" / "billing.py").read_text()
    assert f'"{metric}"' in emitted


def test_alarm_exists_for_conflicting_duplicates() -> None:
    (alarm,) = alarms_on(METRICS_NAMESPACE, "ConflictingDuplicates")
    assert dimensions(alarm) == {"service": SERVICE}


def test_api_5xx_alarm_and_access_logs() -> None:
    (alarm,) = alarms_on("AWS/ApiGateway", "5xx")
    assert dimensions(alarm) == {"ApiId": {"Ref": "HttpApi"}}
    api = resources("AWS::Serverless::HttpApi")["HttpApi"]
    settings = api["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert "$context.requestId" in settings["Format"]
    assert "Authorization" not in settings["Format"]  # no API key in the access log
    group = resources("AWS::Logs::LogGroup")["ApiAccessLogGroup"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_detailed_tracing_is_a_parameter_off_by_default() -> None:
    template = load_template()
    assert template.parameters["DetailedTracing"]["Default"] == "false"
    for spec in template.functions().values():
        assert spec.environment["DETAILED_TRACING"] == "false"
    assert template.document["Globals"]["Function"]["Tracing"] == "Active"


def test_every_security_scan_skip_has_a_one_line_reason() -> None:
    skips = 0
    for name, resource in load_template().resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips += 1
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
            comment = skip.get("comment", "")
            assert len(comment) >= 40 and "\n" not in comment, (name, skip["id"])
    assert skips > 0


def test_every_function_records_its_security_scan_decisions() -> None:
    # The same four decisions for every function; a new function states them too.
    for function in functions():
        metadata = load_template().resources[function].get("Metadata", {})
        ids = {s["id"] for s in metadata.get("checkov", {}).get("skip", [])}
        assert ids >= {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}, function


def test_given_the_aggregate_shards_parameter_then_its_default_and_bounds_are_the_layers() -> None:
    parameter = load_template().parameters["AggregateShards"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (
        DEFAULT_SHARDS,
        1,
        MAX_SHARDS,
    )
