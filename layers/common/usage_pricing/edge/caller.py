"""GET /keys/current: what the calling key may do (docs/api.md#keys-scopes-and-versions).

A client (the dashboard is one) asks this once instead of trying an action to learn whether it
is allowed: the answer is read from the same authorizer context every route checks, so it can
never disagree with what a route would answer. It names the key's team, the namespace whose apps
`apps:write` edits (a team's own, named by its team id), the scopes the key was given and, of the
scopes routes require (core.scopes.SCOPES), those the key grants."""

from __future__ import annotations

from pydantic import BaseModel, Field

from usage_pricing.core.scopes import SCOPES, Caller


class CallerView(BaseModel):
    team_id: str
    namespace: str = Field(
        description="The namespace whose apps this key's team owns: apps:write edits, publishes "
        "and backtests there only."
    )
    scopes: list[str] = Field(description="The scopes the key was given, sorted.")
    grants: list[str] = Field(
        description=f"Of the scopes routes require ({', '.join(SCOPES)}), those the key grants."
    )

    @classmethod
    def of(cls, caller: Caller) -> CallerView:
        return cls(
            team_id=caller.team_id,
            namespace=caller.team_id,
            scopes=sorted(caller.scopes),
            grants=list(caller.grants()),
        )
