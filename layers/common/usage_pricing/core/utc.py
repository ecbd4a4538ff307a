"""UTC instants as text: the one home of every format the product writes them in.

- `utc_iso`: ISO 8601 with a Z, as the API and the tables show a moment (microseconds when
  present).
- `utc_seconds`: to the second, as answers state period bounds and UTC bucket labels.
- `sortable`: fixed width with microseconds always present, so string order is time order (the
  task indexes' sort keys, the pricing versions' effective times, cursor positions).

Every one converts to UTC first, and writes a four-digit year (strftime's %Y does not below
1000), so keys of any plausible moment sort as strings.

It is also the one home of reading an RFC 3339 date-time (`parse_rfc3339`) and of the product's
years (`EARLIEST`, `LATEST`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# The product's years, [EARLIEST, LATEST): billing refuses a completion before 2000 (no real task
# is older), and every key writes a four-digit year, so nothing may reach 3000. Windows, Unix
# seconds on the costs feed, audits and scheduled prices all stay inside.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
# The same years in the words of messages: "between 2000-01-01 and 2999-12-31".
YEARS = f"between {EARLIEST.date()} and {LATEST.year - 1}-12-31"

# RFC 3339 date-time with an offset. ASCII digits only: \d alone would take any script's digits.
# In a query string a "+" arrives as a space, so `query=True` reads a space offset as "+".
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d{1,9})?"
    r"(?P<offset>[Zz]|[+\- ]\d{2}:\d{2})",
    re.ASCII,
)


def parse_rfc3339(text: str, *, query: bool = False) -> datetime | None:
    """An RFC 3339 date-time with an offset (text already stripped), as UTC; None when the text
    is not shaped like one. A text so shaped that names no instant (February 30, hour 24, or a
    moment before year 1 in UTC) is a ValueError. Fraction digits beyond microseconds are
    dropped. Callers turn both into a 400 naming their field, in their own words."""
    found = _RFC3339.fullmatch(text)
    if found is None or (" " in found["offset"] and not query):
        return None
    offset = found["offset"].upper().replace(" ", "+")
    fraction = (found["fraction"] or "")[:7]  # microseconds: more digits are dropped
    try:
        return datetime.fromisoformat(
            f"{found['date']}T{found['time']}{fraction}{'+00:00' if offset == 'Z' else offset}"
        ).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


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


__all__ = [
    "EARLIEST",
    "LATEST",
    "YEARS",
    "parse_rfc3339",
    "sortable",
    "utc_iso",
    "utc_seconds",
]
