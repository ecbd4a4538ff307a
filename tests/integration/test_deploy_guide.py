"""The README's deploy guide (docs/operations.md), checked where it can be without AWS: the guided deploy's
parameters and samconfig.toml against template.yaml, the stack outputs it names, the put-events
entry against the rule's pattern and the billing event model, and its first task billed through
the real functions (moto) to the cost and breakdown the README shows."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from typing import Any

from local.first_task import SAMPLE, stamped
from local.template import load_template
from tests.conftest import ROOT, AwsWorld, LambdaContext, sample_event
from tests.events import http_event
from usage_pricing.usage.events import TaskCompletedEvent, TaskEventEnvelope

README = (ROOT / "README.md").read_text()
GUIDE = README[README.index("## Deploying to AWS") :]


def readme_json(marker: str) -> Any:
    match = re.search(rf"<!-- deploy-example:{marker} -->\s*```json\n(.*?)```", GUIDE, re.S)
    assert match, marker
    return json.loads(match.group(1))


def entries() -> list[dict[str, Any]]:
    return json.loads(SAMPLE.read_text())  # type: ignore[no-any-return]


def as_delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge builds from a PutEvents entry and puts on the queue."""
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000001",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2026-12-01T08:10:00Z",
        "region": "us-east-1",
        "resources": entry.get("Resources", []),
        "detail": json.loads(entry["Detail"]),
    }


def test_every_template_parameter_is_explained_and_has_a_samconfig_default() -> None:
    parameters = load_template().parameters
    for name in parameters:
        assert f"Parameter `{name}`" in GUIDE, name
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    overrides = {}
    for item in deploy["parameter_overrides"]:
        key, value = item.split("=", 1)
        overrides[key] = value.strip('"')
    assert set(overrides) == set(parameters)
    for name, value in overrides.items():
        spec = parameters[name]
        assert value == str(spec.get("Default", "")), name  # committed defaults are the template's
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], name
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert config["default"]["global"]["parameters"]["stack_name"] == "usage-pricing"
    assert "STACK=usage-pricing" in GUIDE


def test_the_outputs_the_guide_names_exist() -> None:
    outputs = load_template().document["Outputs"]
    for name in re.findall(r"OutputKey=='(\w+)'", GUIDE) + re.findall(r"`(\w+)` output", GUIDE):
        assert name in outputs, name
    for name in (
        "ApiUrl",
        "ApiKeysTableName",
        "AlarmTopicArn",
        "BillingQueueArn",
        "BillingDeadLetterQueueArn",
        "BillingDeadLetterQueueUrl",
    ):
        assert name in outputs
        assert f"`{name}`" in GUIDE, name


def test_the_alarms_the_guide_lists_exist() -> None:
    alarms = set(load_template().of_type("AWS::CloudWatch::Alarm"))
    named = set(re.findall(r"^\| `(\w+Alarm)` \|", GUIDE, re.M))
    assert named and named <= alarms
    per_function = {a for a in alarms if a.endswith(("ErrorsAlarm", "ThrottlesAlarm"))}
    assert alarms - per_function == named
    assert "`<Function>ErrorsAlarm`" in GUIDE and "`<Function>ThrottlesAlarm`" in GUIDE


def test_make_targets_the_guide_uses_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"make ([a-z][\w-]*)", GUIDE)):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target
    assert "$(STACK)" in makefile or "STACK" in (ROOT / "local" / "api_key.py").read_text()


def test_put_events_entry_matches_the_rule_pattern() -> None:
    (rule,) = load_template().of_type("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    for entry in entries():
        assert set(entry) <= {"Source", "DetailType", "Detail", "EventBusName", "Resources", "Time"}
        assert entry.get("EventBusName", "default") == "default"  # the rule is on the default bus
        assert entry["Source"] in pattern["source"]
        assert entry["DetailType"] in pattern["detail-type"]
        assert isinstance(entry["Detail"], str)  # PutEvents takes the detail as a JSON string
        assert len(json.dumps(entry).encode()) < 256 * 1024


def test_put_events_entry_is_a_valid_billing_event() -> None:
    for entry in entries() + stamped(entries(), datetime.now(UTC), "first_task_0002"):
        event = TaskEventEnvelope.parse(as_delivered(entry))
        assert isinstance(event, TaskCompletedEvent)
        assert event.detail.team_id == "team_acme"
        assert event.detail.app.startswith("team_acme/")
    assert "TEAM=team_acme" in GUIDE


def test_first_task_stamping_keeps_the_run_length() -> None:
    now = datetime(2027, 3, 4, 5, 6, 7, 123, tzinfo=UTC)
    (entry,) = stamped(entries(), now, "t2")
    detail = json.loads(entry["Detail"])
    assert (detail["task_id"], detail["started_at"], detail["completed_at"]) == (
        "t2",
        "2027-03-04T04:56:07.000123Z",
        "2027-03-04T05:06:07.000123Z",
    )
    original = json.loads(entries()[0]["Detail"])
    assert {k: v for k, v in detail.items() if not k.endswith("_at") and k != "task_id"} == {
        k: v for k, v in original.items() if not k.endswith("_at") and k != "task_id"
    }


def _http(handler: Any, route_key: str, path: str, params: dict[str, str], **extra: Any) -> Any:
    event = http_event(
        route_key,
        path,
        team="team_acme",
        scopes="billing:read apps:read apps:write",
        path_parameters=params,
    )
    event.update(extra)
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def test_the_first_billed_task_costs_what_the_readme_says(aws: AwsWorld) -> None:
    pricing = aws.handler("pricing", "PricingFunction")
    billing = aws.handler("billing", "BillingFunction")
    task_cost = aws.handler("task_cost", "TaskCostFunction")
    breakdown = aws.handler("breakdown", "BreakdownFunction")

    # step 2: the PATCH body and publish exactly as the README sends them
    patch = re.search(r"first-app/pricing .*?-d '(\{.*?\})'", GUIDE, re.S)
    assert patch
    route = "/apps/{namespace}/{name}/pricing"
    params = {"namespace": "team_acme", "name": "first-app"}
    path = "/apps/team_acme/first-app/pricing"
    _http(pricing, f"PATCH {route}", path, params, body=patch.group(1))
    _http(pricing, f"POST {route}/publish", f"{path}/publish", params)

    # step 3: make first-task, then the entry as EventBridge delivers it through the queue
    (entry,) = stamped(entries(), datetime.now(UTC))
    body = json.dumps(as_delivered(entry))
    batch = {
        "Records": [
            {
                **sample_event("billing")["Records"][0],
                "messageId": "first-task",
                "body": body,
            }
        ]
    }
    assert billing.lambda_handler(batch, LambdaContext())["batchItemFailures"] == []

    # step 4: the cost and the breakdown the README shows
    cost = _http(
        task_cost,
        "GET /usage/tasks/{taskID}/cost",
        "/usage/tasks/first_task_0001/cost",
        {"taskID": "first_task_0001"},
    )
    expected = readme_json("cost")
    assert {k: cost[k] for k in expected} == expected
    answer = _http(
        breakdown,
        "GET /usage/breakdown",
        "/usage/breakdown",
        {},
        queryStringParameters={"range": "1d"},
        rawQueryString="range=1d",
    )
    expected = readme_json("breakdown")
    assert {k: answer[k] for k in expected} == expected
