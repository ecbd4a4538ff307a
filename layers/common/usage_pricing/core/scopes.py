"""API key scopes. Hierarchical: "billing" grants "billing:read" and "billing:write" (spend
controls: budgets and holds), "*" grants everything."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from usage_pricing.core.errors import ForbiddenError, StorageError, UnauthorizedError

MISSING_KEY = "missing API key: send Authorization: Bearer <key>"
# The authorizer's context flag for "the key could not be looked up" (storage unavailable).
UNAVAILABLE = "unavailable"


# Every scope a route can require; what a key's (possibly broader) scopes grant is read against
# these. "billing" grants both billing scopes, "*" all four (scope_grants).
SCOPES = ("apps:read", "apps:write", "billing:read", "billing:write")


def scope_grants(granted: str, required: str) -> bool:
    if granted in ("*", required):
        return True
    return required.startswith(granted + ":")


def has_scope(granted: Iterable[str], required: str) -> bool:
    return any(scope_grants(g, required) for g in granted)


class Caller(NamedTuple):
    """Who is calling, as the authorizer resolved it from the API key."""

    team_id: str
    scopes: frozenset[str]

    @classmethod
    def from_authorizer(cls, context: object) -> Caller:
        """The caller the authorizer resolved. No context at all means the request carried no
        key (the gateway only skips the authorizer when its identity header is absent)."""
        if isinstance(context, dict) and context.get(UNAVAILABLE) in ("true", True):
            raise StorageError(str(context.get("reason") or "API keys are unavailable"))
        if not isinstance(context, dict) or not context.get("team_id"):
            reason = context.get("reason") if isinstance(context, dict) else None
            raise UnauthorizedError(str(reason) if reason else MISSING_KEY)
        scopes = context.get("scopes") or ""
        if not isinstance(scopes, str):
            raise UnauthorizedError("the authorizer passed no usable scopes")
        return cls(team_id=str(context["team_id"]), scopes=frozenset(scopes.split()))

    def grants(self) -> tuple[str, ...]:
        """The route scopes (SCOPES) this caller's key grants, in SCOPES order."""
        return tuple(scope for scope in SCOPES if has_scope(self.scopes, scope))

    def require(self, *any_of: str) -> None:
        """Pass when any one of the scopes is granted."""
        if not any(has_scope(self.scopes, required) for required in any_of):
            raise ForbiddenError(f"this API key lacks the {' or '.join(any_of)} scope")
