"""Limits on untrusted input (docs/limits.md). One place, so validation, the engines and tests
agree."""

import re
from datetime import timedelta
from typing import Annotated

from pydantic import Field

MAX_BODY_BYTES = 256 * 1024
# A task event as billing receives it (EventBridge's limit on an event): what bounds a billing
# record, which keeps the event's usage, under DynamoDB's 400 KB item limit.
MAX_EVENT_BYTES = 256 * 1024
MAX_FORMULA_BYTES = 4 * 1024
MAX_META_ITEMS = 1_000
MAX_PRICES = 200
# A price name: 1 to this many characters, none of them a control character (docs/pricing.md).
MAX_PRICE_NAME = 64
MAX_RESOURCES = 64
# Any JSON document (request body, task event): nesting depth, checked before parsing.
MAX_JSON_DEPTH = 32
# Per-item quantities are capped so that a sum over MAX_META_ITEMS stays exact in a double
# (< 2**53) and far inside int64: no helper can overflow on valid input.
MAX_QUANTITY = 10**12
MAX_SECONDS = 10.0**9
# Static bounds on a formula's shape, checked before either CEL engine parses it.
MAX_FORMULA_DEPTH = 32
MAX_COMPREHENSIONS = 8
# The completion-time allowance (docs/billing.md): billing accepts a task's completed_at up to this
# far
# after the moment it runs (clock skew between the reporter and billing). It bounds everything
# else that must stay ahead of a task already billed: a scheduled version takes effect at least
# this far ahead, and can be cancelled only while it is still this far ahead (pricing_store).
CLOCK_SKEW = timedelta(minutes=15)
# Versions an app may have scheduled (published, not yet in effect) at once: what bounds the
# owner's view, the scheduled list and a cancel's lookup (each reads them all).
MAX_SCHEDULED_VERSIONS = 20

# Free text a task event carries (app_version, function, a resource's name and model, a refund's
# reason): it reaches records, aggregate keys, CSV cells and logs, so it is short and printable.
MAX_EVENT_TEXT = 128

# The one home of the identifier and app-path rules (docs/api.md). A task or team id is 1-128 of
# ASCII letters, digits and _ . : @ - (IDENTIFIER_PATTERN for pydantic, beside max_length;
# IDENTIFIER to match a path parameter whole). An app path is namespace/name, each part 1-128 of
# lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.
MAX_IDENTIFIER = 128
_IDENTIFIER_CHARS = "A-Za-z0-9_.:@-"
IDENTIFIER_PATTERN = rf"^[{_IDENTIFIER_CHARS}]+$"
IDENTIFIER = re.compile(rf"[{_IDENTIFIER_CHARS}]{{1,{MAX_IDENTIFIER}}}")
APP_PART = r"[a-z0-9][a-z0-9_.-]{0,127}"
APP_PATH = rf"^{APP_PART}/{APP_PART}$"
MAX_APP_PATH = 257  # two parts of 128 and the slash
# The same rules as pydantic field types, for every model that takes an id or an app path.
Identifier = Annotated[
    str, Field(min_length=1, max_length=MAX_IDENTIFIER, pattern=IDENTIFIER_PATTERN)
]
AppPath = Annotated[str, Field(max_length=MAX_APP_PATH, pattern=APP_PATH)]
# C0 and C1 controls (DEL included), the Unicode line and paragraph separators, and the invisible
# format characters (zero-width spaces and joiners, bidirectional overrides and marks, the byte
# order mark): none belongs in a name; each can split a log line or a CSV row, or make one name
# look like another.
FORMAT_CHARACTERS = "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
CONTROL_CHARACTERS = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{FORMAT_CHARACTERS}]")


def printable(value: str) -> str:
    """`value` unchanged, or ValueError naming the rule (a pydantic AfterValidator)."""
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


# Every spend answer (breakdown, summary, costs feed) reads at most this many aggregate items:
# one per (bucket, app, shard) it covers. A 90-day breakdown of 100 busy apps reads 9,000; a team
# whose window holds more is asked to narrow it (422), never answered by reading without bound.
MAX_AGGREGATE_ITEMS = 20_000
# The usage summary shows at most this many values per dimension (the most seconds first); the
# rest are added up under `other`, so its answer has a bounded size whatever the team runs.
MAX_SUMMARY_VALUES = 100

# What one response may carry, measured as Lambda returns it (the proxy result as JSON, its body
# escaped): Lambda refuses a synchronous response over 6 MB, which the client would see as a
# gateway 502 with no problem document. The edge (edge.http.Api) answers a larger one with a
# 422 instead; answers that grow with a team's data are shaped to stay well below it.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
# A costs-feed page holds at most this many results (docs/costs-feed.md): one per bucket, app and
# fee group, each at most ~450 bytes with the longest app path, so a page stays under ~4 MB.
MAX_COST_RESULTS = 8_000
