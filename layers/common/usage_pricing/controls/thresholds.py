"""Threshold arithmetic, pure (docs/spend-controls.md, "Exactly-once crossings").

A threshold t (percent) of a budget with limit L is crossed while the period's spend is at least
its level ceil(t × L / 100). The crossed set is never stored: it is a function of the spend, so a
crossing is exactly a transition of that function, and each transition is recorded by the write
that makes it (the charge or the refund), in its own transaction.

The write does not lock the counter. It reads the spend `before`, computes the transitions its
amount makes from there, and conditions its update on the spend still lying in the interval of
`before` values that give the same transitions: [low, high]. Concurrent charges that keep the
spend inside that interval (most charges cross nothing) commit without retrying; one that moved
it across a boundary cancels this transaction, which re-reads and recomputes."""

from __future__ import annotations

from typing import NamedTuple

from usage_pricing.core.money import INT64_MAX, INT64_MIN


def level(threshold: int, limit: int) -> int:
    """The spend at which `threshold` percent of `limit` is reached: before < level ≤ after."""
    return -(-threshold * limit // 100)


def crossed(thresholds: list[int], limit: int, spent: int) -> list[int]:
    return [t for t in thresholds if spent >= level(t, limit)]


class Transitions(NamedTuple):
    """What adding `delta` to a spend of `before` does to the thresholds, and the interval of
    `before` values (inclusive) for which it does exactly the same."""

    crossed: list[int]  # thresholds whose level lies in (before, before + delta]
    cleared: list[int]  # thresholds whose level lies in (before + delta, before]
    low: int
    high: int


def transitions(thresholds: list[int], limit: int, before: int, delta: int) -> Transitions:
    after = before + delta
    ups: list[int] = []
    downs: list[int] = []
    points: list[int] = []  # the `before` values at which the outcome changes
    for t in thresholds:
        lv = level(t, limit)
        # t is crossed for before in [lv - delta, lv) (delta > 0), cleared for
        # before in [lv, lv - delta) (delta < 0): both ends are breakpoints.
        points += [lv, lv - delta]
        if before < lv <= after:
            ups.append(t)
        elif after < lv <= before:
            downs.append(t)
    low = max((p for p in points if p <= before), default=INT64_MIN)
    high = min((p - 1 for p in points if p > before), default=INT64_MAX)
    return Transitions(sorted(ups), sorted(downs), low, high)
