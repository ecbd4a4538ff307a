"""The HTTP API Lambda authorizer's decision (simple responses, payload 2.0).

HTTP APIs cannot shape the gateway's own error responses (a denied request gets a bare
{"message": "Forbidden"}, an authorizer that fails a bare 500), so the authorizer never denies
and never raises: it resolves the key and passes either the caller or the reason it has none.
Every handler's check_request then answers 401/403 as problem+json, or 503 with Retry-After
when the key could not be looked up because storage was unavailable. The gateway caches this
answer per Authorization header for ReauthorizeEvery seconds, so a revoked key stops working
within that window (and an outage answer can outlive the outage by as much)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usage_pricing.core.errors import StorageError
from usage_pricing.core.observability import logger
from usage_pricing.core.scopes import MISSING_KEY, UNAVAILABLE
from usage_pricing.edge.key_store import ApiKeyRepository
from usage_pricing.edge.keys import KEY_PATTERN, bearer_token


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def authorize(headers: Mapping[str, Any] | None, keys: ApiKeyRepository) -> dict[str, Any]:
    token = bearer_token(_header(headers, "authorization"))
    if token is None:
        return _anonymous(MISSING_KEY)
    if not KEY_PATTERN.fullmatch(token):
        return _anonymous("malformed API key")
    try:
        record = keys.get(token)
    except StorageError as error:
        logger.error("API key lookup failed", extra={"error": error.detail})
        return _anonymous("API keys are unavailable (storage unavailable); retry", unavailable=True)
    if record is None:
        return _anonymous("unknown API key")
    if record.revoked:
        return _anonymous("revoked API key")
    return {
        "isAuthorized": True,
        "context": {"team_id": record.team_id, "scopes": " ".join(record.scopes), "reason": ""},
    }


def _anonymous(reason: str, *, unavailable: bool = False) -> dict[str, Any]:
    context = {"team_id": "", "scopes": "", "reason": reason}
    if unavailable:
        context[UNAVAILABLE] = "true"
    return {"isAuthorized": True, "context": context}
