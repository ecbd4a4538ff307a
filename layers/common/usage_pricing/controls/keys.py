"""The controls table's item keys, in one place (template.yaml defines the table: pk, sk, and
the sparse index `unsent` over outbox items not yet delivered)."""

from __future__ import annotations

META = "META"
BUDGET = "BUDGET#"
UNSENT_INDEX = "unsent"
UNSENT = "unsent"


def team_pk(team_id: str) -> str:
    return f"TEAM#{team_id}"


def meta_key(team_id: str) -> dict[str, str]:
    """The team's budget-set revision: bumped by every budget change, checked by every charge."""
    return {"pk": team_pk(team_id), "sk": META}


def budget_key(team_id: str, budget_id: str) -> dict[str, str]:
    return {"pk": team_pk(team_id), "sk": BUDGET + budget_id}


def counter_key(team_id: str, budget_id: str, generation: int, period: str) -> dict[str, str]:
    """One period of one generation of a budget (a generation: its app, period and tz)."""
    return {"pk": f"COUNTER#{team_id}#{budget_id}#{generation}", "sk": period}


def hold_key(team_id: str, task_id: str) -> dict[str, str]:
    return {"pk": f"HOLD#{team_id}#{task_id}", "sk": "HOLD"}


def charge_key(task_id: str) -> dict[str, str]:
    """Which budget periods a task's charge was added to, so its refund takes it from them."""
    return {"pk": f"CHARGE#{task_id}", "sk": "CHARGE"}


def outbox_key(event_id: str) -> dict[str, str]:
    return {"pk": f"OUTBOX#{event_id}", "sk": "OUTBOX"}


def bucket_attribute(minute: int) -> str:
    """A counter's holds expiring in one UTC minute (Unix minutes), summed."""
    return f"h{minute}"


def bucket_minute(attribute: str) -> int | None:
    if attribute.startswith("h") and attribute[1:].isdigit():
        return int(attribute[1:])
    return None


def crossings_attribute(threshold: int) -> str:
    """How many times a threshold has been crossed this period (it may cross again after a
    refund clears it): the n in the crossing's event id."""
    return f"n{threshold}"
