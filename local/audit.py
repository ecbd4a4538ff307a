"""`make audit TEAM=<team> [START=…] [END=…] [STACK=<stack>]` (docs/operations.md): prices every record of
the window again from its stored inputs and pricing version, recomputes every aggregate from the
records, prints each difference, and exits 1 on any drift (usage_pricing.ledger.audit).

Targets the running local stack by default (the DynamoDB endpoint `make dev` left in
.local-stack.json, local/state.py; LOCAL_DB_PORT overrides it). Point it at a
deployed stack with STACK=<cloudformation stack name>: the table names are read from the stack's
BillingTableName, AggregatesTableName and PricingTableName outputs and the shard count from its
AggregateShards parameter, with your usual AWS credentials (read access to the three tables is
all it needs; it writes nothing).

START and END are RFC 3339 date-times with an offset or dates (UTC midnight); START is inclusive,
END exclusive. Without them the audit covers the team's whole history up to now (plus the 15
minutes of clock skew billing accepts). Records are read through the by_team_time index, which
is eventually consistent: on a deployed stack still billing, a task billed in the last second
may show as aggregate drift; audit windows that end a little before now."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

from .state import local_resource, probe

LOCAL_TABLES = {
    "BillingTableName": "BillingTable",
    "AggregatesTableName": "AggregatesTable",
    "PricingTableName": "PricingTable",
}


def _describe(stack: str) -> dict[str, Any]:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    described: dict[str, Any] = stacks[0]
    return described


def _parameters(described: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}


def _engine(stack: str | None) -> str:
    """The CEL engine the target bills with (error messages differ between engines; the fees
    do not): the stack's CelEngine parameter, else CEL_ENGINE, else cel-expr."""
    if stack:
        return _parameters(_describe(stack)).get("CelEngine", "cel-expr")
    return os.environ.get("CEL_ENGINE") or "cel-expr"


def _tables(stack: str | None) -> tuple[Any, dict[str, str], int]:
    """The DynamoDB resource, the table names and the shard count of the target."""
    from usage_pricing.storage.aggregates import DEFAULT_SHARDS  # noqa: PLC0415

    if stack:
        described = _describe(stack)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        missing = sorted(set(LOCAL_TABLES) - set(outputs))
        if missing:
            raise SystemExit(
                f"stack {stack} has no output {', '.join(missing)}: deploy this version"
            )
        shards = int(_parameters(described).get("AggregateShards", DEFAULT_SHARDS))
        return boto3.resource("dynamodb"), {k: outputs[k] for k in LOCAL_TABLES}, shards
    resource, endpoint = local_resource()
    problem = probe(endpoint)
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    shards = int(os.environ.get("AGGREGATE_SHARDS", DEFAULT_SHARDS))
    return resource, dict(LOCAL_TABLES), shards


def main(
    argv: list[str] | None = None, target: tuple[Any, dict[str, str], int] | None = None
) -> int:
    """Exit status 0 when the ledger is clean, 1 on drift, 2 on bad arguments or no storage.
    `target` replaces the tables' lookup (tests)."""
    parser = argparse.ArgumentParser(prog="python -m local.audit", description=__doc__)
    parser.add_argument("--team", required=True)
    parser.add_argument("--start", default=os.environ.get("START") or None)
    parser.add_argument("--end", default=os.environ.get("END") or None)
    parser.add_argument("--stack", default=os.environ.get("STACK") or None)
    parser.add_argument(
        "--engine",
        choices=("cel-expr", "cel-python"),
        help="the CEL engine to price with (default: the one the target bills with)",
    )
    args = parser.parse_args(argv)

    # The layer is imported after argument parsing: `--help` needs none of it.
    from datetime import UTC  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from usage_pricing import PricingEvaluator, UsagePricingError, new_engine  # noqa: PLC0415
    from usage_pricing.core.windows import parse_moment  # noqa: PLC0415
    from usage_pricing.ledger.audit import Auditor  # noqa: PLC0415
    from usage_pricing.ledger.repository import LedgerRepository  # noqa: PLC0415
    from usage_pricing.pricing.repository import PricingRepository  # noqa: PLC0415

    utc = ZoneInfo("UTC")
    try:
        start = None if args.start is None else parse_moment(args.start, "START", utc)
        end = None if args.end is None else parse_moment(args.end, "END", utc)
    except UsagePricingError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 2
    if start is not None and end is not None and end <= start:
        print("error: END must be after START", file=sys.stderr)
        return 2
    resource, names, shards = target or _tables(args.stack)
    auditor = Auditor(
        LedgerRepository(
            resource.Table(names["BillingTableName"]),
            resource.Table(names["AggregatesTableName"]),
            shards=shards,
        ),
        PricingRepository(resource.Table(names["PricingTableName"])),
        PricingEvaluator(new_engine(args.engine or _engine(None if target else args.stack))),
    )
    try:
        report = auditor.audit(args.team, start.astimezone(UTC) if start else None, end)
    except UsagePricingError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
