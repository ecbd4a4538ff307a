"""The authorizer resolves keys from the API-keys table (moto, built from template.yaml)."""

from typing import Any

import pytest

from tests.conftest import LambdaContext, load_handler, sample_event
from usage_pricing.edge.auth import authorize
from usage_pricing.edge.key_store import ApiKeyRepository
from usage_pricing.edge.keys import hash_api_key


@pytest.fixture
def keys(aws_tables: Any) -> ApiKeyRepository:
    return ApiKeyRepository(aws_tables.Table("ApiKeysTable"))


def context_of(headers: dict[str, str], keys: ApiKeyRepository) -> dict[str, Any]:
    answer = authorize(headers, keys)
    assert answer["isAuthorized"] is True  # never denies at the gateway; handlers answer 401/403
    return answer["context"]  # type: ignore[no-any-return]


def test_a_valid_key_resolves_to_its_team_and_scopes(keys: ApiKeyRepository) -> None:
    key, _ = keys.create("team_a", ["billing:read", "apps:read"])
    assert key.startswith("inf_") and len(key) == 47
    assert context_of({"Authorization": f"Bearer {key}"}, keys) == {
        "team_id": "team_a",
        "scopes": "billing:read apps:read",
        "reason": "",
    }


def test_only_the_hash_is_stored(keys: ApiKeyRepository, aws_tables: Any) -> None:
    key, _ = keys.create("team_a", ["*"])
    items = aws_tables.Table("ApiKeysTable").scan()["Items"]
    assert [i["key_hash"] for i in items] == [hash_api_key(key)]
    assert key not in str(items)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing API key: send Authorization: Bearer <key>"),
        ({"authorization": ""}, "missing API key: send Authorization: Bearer <key>"),
        (
            {"authorization": "Basic dXNlcjpwYXNz"},
            "missing API key: send Authorization: Bearer <key>",
        ),
        ({"authorization": "Bearer "}, "missing API key: send Authorization: Bearer <key>"),
        ({"authorization": "Bearer sk_live_123456789"}, "malformed API key"),
        ({"authorization": "Bearer inf_short"}, "malformed API key"),
        ({"authorization": "Bearer inf_" + "a" * 200}, "malformed API key"),
        ({"authorization": "Bearer inf_unknownunknownunknown"}, "unknown API key"),
    ],
)
def test_keys_that_resolve_to_no_caller(
    keys: ApiKeyRepository, headers: dict[str, str], reason: str
) -> None:
    assert context_of(headers, keys) == {"team_id": "", "scopes": "", "reason": reason}


def test_revoked_key(keys: ApiKeyRepository) -> None:
    key, _ = keys.create("team_a", ["*"])
    revoked = keys.revoke(key)
    assert revoked.revoked_at is not None
    assert keys.revoke(key).revoked_at == revoked.revoked_at  # revoking twice keeps the first time
    assert context_of({"authorization": f"bearer {key}"}, keys)["reason"] == "revoked API key"


def test_revoking_an_unknown_key_is_not_found(keys: ApiKeyRepository) -> None:
    from usage_pricing import NotFoundError

    with pytest.raises(NotFoundError, match="no such API key"):
        keys.revoke("inf_neverissuedneverissued")


def test_ensure_is_idempotent(keys: ApiKeyRepository) -> None:
    first = keys.ensure("inf_local_dev", "team_local", ["*"])
    assert keys.ensure("inf_local_dev", "other", ["billing"]) == first


def test_authorizer_handler_with_sample_event(aws_tables: Any) -> None:
    ApiKeyRepository(aws_tables.Table("ApiKeysTable")).create(
        "team_local", ["*"], key="inf_local_dev"
    )
    handler = load_handler("authorizer", {"API_KEYS_TABLE": "ApiKeysTable"})
    answer = handler.lambda_handler(sample_event("authorizer"), LambdaContext())
    assert answer == {
        "isAuthorized": True,
        "context": {"team_id": "team_local", "scopes": "*", "reason": ""},
    }


def test_storage_errors_are_translated(aws_tables: Any) -> None:
    from usage_pricing import StorageError

    keys = ApiKeyRepository(aws_tables.Table("NoSuchTable"))
    with pytest.raises(StorageError, match="read API key failed: ResourceNotFoundException"):
        keys.get("inf_local_dev")
