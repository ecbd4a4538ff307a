"""UTC instants as text: the one home of every format the product writes them in.

- `utc_iso`: ISO 8601 with a Z, as the API and the tables show a moment (microseconds when
  present).
- `utc_seconds`: to the second, as answers state period bounds and UTC bucket labels.
- `sortable`: fixed width with microseconds always present, so string order is time order (the
  task indexes' sort keys, the pricing versions' effective times, cursor positions).

Every one converts to UTC first, and writes a four-digit year (strftime's %Y does not below
1000), so keys of any plausible moment sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_seconds(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def sortable(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond:06d}Z"
    )


__all__ = ["sortable", "utc_iso", "utc_seconds"]
