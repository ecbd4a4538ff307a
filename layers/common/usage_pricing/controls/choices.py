"""What a budget offers to choose (docs/spend-controls.md): its period, what happens at its limit,
and its thresholds' bounds, spelled once here.

The API's models validate with these types (controls.model), the period arithmetic takes them
(controls.periods), and the dashboard lists them for its form (functions/dashboard, rules(),
through typing.get_args), so a choice added here reaches every one of them. A Literal is the one
spelling: a tuple cannot be unpacked into a Literal for mypy, while get_args reads a Literal's
values back exactly. This module imports nothing of the layer and no pydantic, so the dashboard's
cold start can read it without building the budget models."""

from __future__ import annotations

from typing import Literal

# A local day, a week starting on Monday, or a calendar month, in the budget's zone.
Period = Literal["day", "week", "month"]
# At the limit: only alert (the crossing is recorded and sent), or also block new holds (402).
BudgetAction = Literal["alert", "block"]
DEFAULT_ACTION: BudgetAction = "alert"
# Thresholds are whole percentages of the limit, 1 to MAX_THRESHOLD_PERCENT, at most
# MAX_THRESHOLDS of them: each crossing is an outbox item of the charge's transaction (model.py).
MAX_THRESHOLDS = 10
MAX_THRESHOLD_PERCENT = 1000
DEFAULT_THRESHOLDS = (50, 80, 100)
