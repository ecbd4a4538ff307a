"""Create or revoke API keys (make api-key / make revoke-key).

Targets the running local stack by default (the DynamoDB endpoint `make dev` left in
.local-stack.json, local/state.py; table ApiKeysTable). Point it
at a deployed stack with STACK=<cloudformation stack name> (the table name is read from the
stack's ApiKeysTableName output, with your usual AWS credentials), or name the table directly
with API_KEYS_TABLE=<name>. The new key is the last line printed; only its hash is stored."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

from usage_pricing import UsagePricingError
from usage_pricing.edge.key_store import ApiKeyRepository

from .state import local_resource, probe


def _table(stack: str | None, table_name: str | None) -> Any:
    if stack:
        outputs = (
            boto3.client("cloudformation")
            .describe_stacks(StackName=stack)["Stacks"][0]
            .get("Outputs", [])
        )
        names = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        return boto3.resource("dynamodb").Table(names["ApiKeysTableName"])
    if table_name:
        return boto3.resource("dynamodb").Table(table_name)
    resource, endpoint = local_resource()
    problem = probe(endpoint)
    if problem:
        raise SystemExit(problem)
    return resource.Table("ApiKeysTable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.api_key", description=__doc__)
    parser.add_argument("--stack", default=os.environ.get("STACK") or None)
    parser.add_argument("--table", default=os.environ.get("API_KEYS_TABLE") or None)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key; prints it as the last line")
    create.add_argument("--team", required=True)
    create.add_argument(
        "--scopes", required=True, help="space-separated, e.g. 'billing:read apps:read'"
    )
    revoke = commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("--key", required=True)
    args = parser.parse_args(argv)

    keys = ApiKeyRepository(_table(args.stack, args.table))
    try:
        if args.command == "create":
            scopes = args.scopes.split()
            if not args.team.strip() or not scopes:
                parser.error("--team and --scopes must not be empty")
            key, record = keys.create(args.team.strip(), scopes)
            print(f"created key for team {record.team_id} with scopes {' '.join(record.scopes)}")
            print(key)
        else:
            record = keys.revoke(args.key)
            print(f"revoked key of team {record.team_id} at {record.revoked_at}")
    except UsagePricingError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
