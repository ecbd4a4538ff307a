"""The API-keys table: one item per key, addressed by the key's hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from usage_pricing.core.errors import NotFoundError
from usage_pricing.edge.keys import hash_api_key, new_api_key
from usage_pricing.storage.dynamo import storage_errors


# A NamedTuple, not a dataclass: a dataclass's generated methods are exec'd at every cold start.
class ApiKey(NamedTuple):
    key_hash: str
    team_id: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ApiKeyRepository:
    def __init__(self, table: Any) -> None:
        self.table = table

    def create(self, team_id: str, scopes: list[str], key: str | None = None) -> tuple[str, ApiKey]:
        """Store a new key (or a given one, for the local dev key) and return it with its record;
        the plain key is never stored and cannot be shown again."""
        key = key or new_api_key()
        record = ApiKey(hash_api_key(key), team_id, tuple(scopes), _now())
        with storage_errors("create API key"):
            self.table.put_item(
                Item={
                    "key_hash": record.key_hash,
                    "team_id": team_id,
                    "scopes": " ".join(scopes),
                    "created_at": record.created_at,
                },
                ConditionExpression="attribute_not_exists(key_hash)",
            )
        return key, record

    def ensure(self, key: str, team_id: str, scopes: list[str]) -> ApiKey:
        """Create the key unless it already exists (idempotent, for the local dev key)."""
        existing = self.get(key)
        if existing is not None:
            return existing
        return self.create(team_id, scopes, key=key)[1]

    def get(self, key: str) -> ApiKey | None:
        with storage_errors("read API key"):
            item = self.table.get_item(Key={"key_hash": hash_api_key(key)}).get("Item")
        if item is None:
            return None
        return ApiKey(
            key_hash=item["key_hash"],
            team_id=item["team_id"],
            scopes=tuple(str(item.get("scopes", "")).split()),
            created_at=item["created_at"],
            revoked_at=item.get("revoked_at"),
        )

    def revoke(self, key: str) -> ApiKey:
        with storage_errors(
            "revoke API key", on_condition=lambda: NotFoundError("no such API key")
        ):
            item = self.table.update_item(
                Key={"key_hash": hash_api_key(key)},
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(key_hash)",
                ExpressionAttributeValues={":now": _now()},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        return ApiKey(
            item["key_hash"],
            item["team_id"],
            tuple(item["scopes"].split()),
            item["created_at"],
            item["revoked_at"],
        )
