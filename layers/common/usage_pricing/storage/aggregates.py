"""The spend aggregates: their layout, encoded and decoded here and nowhere else.

The billing transaction that writes a record also ADDs its figures to one small item per
(team, granularity, shard, time bucket, app); the breakdown and the summary read those items and
never the records. The ledger (writes), analytics (reads) and the tests all go through this module.

Keys
    pk  "{team}#{G}#{shard}"      G: M minute, Q quarter-hour, H hour, D day (UTC buckets)
    sk  "{bucket}#{app}"          bucket: the UTC start "YYYY-MM-DDTHH:MM:SSZ", the year always
                                  four digits, so keys sort chronologically as strings
    app                           the app again, as an attribute, so a read can filter on it
    expires_at                    minute items only: DynamoDB's TTL drops them after 3 days

Counters (DynamoDB Numbers, ADDed; a refund ADDs the negation, so each stays exact)
    cost, calls                   charged microcents and calls, refunded ones taken out again
    r:cost, r:calls               what refunds took out (by the bucket the task completed in)
    f:<group>                     the charged share of each fee: resource, inference, royalty,
                                  partner, and adjustment = charged minus the four (a minimum
                                  charge in total_expression, say); the five add up to cost
    fn:<group>                    calls whose share of that group is not zero
    t:<tier>:cost, t:<tier>:calls by tier (cloud, private)
    u:tier:<t>, u:type:<t>, u:model:<m>, u:total   resource-seconds, for the summary
    v2:calls                      calls written with this layout (see "Older items" below)
    day items only: d:tier, d:type, d:model   string sets, the dimension values the item counts
                                  (see "Bounded dimensions" below); not counters
    day items only, per UTC hour HH (00-23) and quarter QQ (00-95) of the day:
    hHHc hHHn hHHr, qQQc qQQn qQQr   cost, calls and refunded cost of that hour or quarter

Why this layout (the trade-off)
    Writes stay small and cheap: every item holds one app, so an update costs 2 write units per
    transactional KB, and one app's traffic never contends with another's. A day item grows with
    its slots: a day with tasks in every quarter-hour reaches about 2.5 KB (6 write units per
    transactional update instead of 2, about $0.0000025 per task at on-demand prices).
    Reads grow with the answer: a breakdown reads one item per (bucket, app) it shows, and asks
    DynamoDB only for the counters it needs (a projection), which is most of its CPU.
    The slots are what make local days cheap: a day in Berlin or Kolkata is a UTC day's totals
    plus or minus the few hour and quarter slots its midnight cuts off, so a 90-day breakdown in
    any zone reads the same 90 day items per app as in UTC, instead of 2,160 hour items (or 8,640
    quarter-hour items where midnight is on the half hour).
    The rejected alternative, one item per (team, bucket) holding every app's counters, reads
    fewer items but makes every write pay for every app: a team with 100 apps would update a
    ~30 KB item per task (60 write units), and every task of the team would contend for it.

Bounded dimensions
    A usage dimension's values come from the task event (a resource's model is any string up to
    128 characters), so an item that took one counter per distinct value would grow with what a
    team sends until DynamoDB refuses it (400 KB) and the app's next charge fails: one team could
    make its own app unbillable. So each dimension has a fixed number of values per item
    (DIMENSION_LIMITS); beyond it a value is counted under OTHER, and the summary shows `other`.
    The day item keeps the values it counts in a string set per dimension, and the charge's day
    update ADDs its values to that set under a condition that the set stays within its limit.
    Every finer item (minute, quarter, hour) lies inside one day item of the same shard and gets
    the same values from the same charge, so it never counts more values than its day item: one
    condition bounds them all. Sets only grow (a refund leaves them), so a value once admitted
    stays admitted. A charge whose condition fails reads the day item's sets (one consistent
    GetItem, only when a dimension is full), admits what is already there, counts the rest as
    OTHER and tries again; the last round admits nothing new and has no condition, so a charge
    always lands (storage.ledger). The record keeps its usage as charged (with OTHER), so its
    refund and the audit reverse and replay exactly what the charge added.
    Worst case, with every value 128 characters of 4 UTF-8 bytes each: a day item carries 32
    model counters and set members (~33 KB) plus its 360 slot counters (~5 KB), inside the 64 KB
    item budget (with ASCII names, ~9 KB).

Shards
    One item takes about 1,000 write units per second. A (team, app) writes shard 0 until one
    of its transactions meets contention (a conflict or throttling); from then on, for
    HOT_SECONDS, its tasks spread over every shard by task id (ShardPolicy). Quiet apps, most of
    them, keep one item per bucket, so reads do not multiply by the shard count; a hot app's
    buckets are read from up to `shards` items and summed. The record keeps the shard its
    charge used, and its refund reverses exactly those items. Never lower AggregateShards: the
    readers only look in shards below it.

Older items
    Items written before this layout (records with aggregate_layout 1) carry cost, calls and the
    usage counters, and app and bucket as attributes. They keep answering the app grouping, the
    summary and UTC days exactly. Their calls are not in v2:calls, which is how a reader knows:
    in fee and tier groupings their cost shows as the group "unattributed", their refunds are
    not in r:cost, and a local day that needs their (missing) slots is answered from hour or
    quarter-hour items instead. Refunding such a record reverses exactly what its charge wrote.
    Recomputing the aggregates from the records removes all of that.

Where the code lives
    This module is the schema: keys, counter names, slots, dimension sets and decoding. The
    ledger writes through usage_pricing.ledger.aggregate_writer (a charge's and a refund's
    Updates, bounded dimensions, shards); the spend routes read through
    usage_pricing.spend.aggregate_reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from usage_pricing.core.fees import ADJUSTMENT as ADJUSTMENT  # noqa: PLC0414 — the schema's names for readers
from usage_pricing.core.fees import FEE_GROUPS as FEE_GROUPS  # noqa: PLC0414

# The shards of a hot (team, app) (see Shards above): template.yaml's AggregateShards, whose
# Default and MaxValue these are (a test holds them equal); the one default every writer, reader
# and tool falls back to.
DEFAULT_SHARDS = 4
MAX_SHARDS = 64

# The layout a charge is written with; kept on the record so its refund can reverse it.
LAYOUT = 2
LEGACY_LAYOUT = 1


class Granularity(StrEnum):
    MINUTE = "M"
    QUARTER = "Q"
    HOUR = "H"
    DAY = "D"

    @property
    def step(self) -> timedelta:
        return _STEPS[self]

    def floor(self, moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        if self is Granularity.DAY:
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self is Granularity.HOUR:
            return moment.replace(minute=0, second=0, microsecond=0)
        if self is Granularity.QUARTER:
            return moment.replace(
                minute=moment.minute - moment.minute % 15, second=0, microsecond=0
            )
        return moment.replace(second=0, microsecond=0)

    def ceil(self, moment: datetime) -> datetime:
        """The first bucket boundary at or after `moment`."""
        floor = self.floor(moment)
        return floor if floor == moment.astimezone(UTC) else floor + self.step

    def aligned(self, moment: datetime) -> bool:
        return self.floor(moment) == moment


_STEPS = {
    Granularity.MINUTE: timedelta(minutes=1),
    Granularity.QUARTER: timedelta(minutes=15),
    Granularity.HOUR: timedelta(hours=1),
    Granularity.DAY: timedelta(days=1),
}
# Coarsest first: a reader uses the coarsest granularity its boundaries are aligned to.
COARSEST_FIRST = (Granularity.DAY, Granularity.HOUR, Granularity.QUARTER, Granularity.MINUTE)

# Minute items expire (DynamoDB TTL) this long after their bucket: 1m buckets reach back no further.
MINUTE_RETENTION = timedelta(days=3)

# ---- keys -------------------------------------------------------------------------------------

BUCKET_KEY_LENGTH = len("2026-01-01T00:00:00Z")


def bucket_key(moment: datetime) -> str:
    """A UTC moment as a bucket key. The year is always four digits (strftime's %Y is not, for
    years below 1000), so keys sort chronologically as strings."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def parse_bucket(key: str) -> datetime:
    return datetime(
        int(key[0:4]),
        int(key[5:7]),
        int(key[8:10]),
        int(key[11:13]),
        int(key[14:16]),
        int(key[17:19]),
        tzinfo=UTC,
    )


def partition_key(team_id: str, granularity: Granularity, shard: int) -> str:
    return f"{team_id}#{granularity.value}#{shard}"


def sort_key(bucket: str, app: str) -> str:
    return f"{bucket}#{app}"


def item_key(
    team_id: str, granularity: Granularity, shard: int, moment: datetime, app: str
) -> dict[str, str]:
    bucket = bucket_key(granularity.floor(moment))
    return {"pk": partition_key(team_id, granularity, shard), "sk": sort_key(bucket, app)}


def split_sort_key(sk: str) -> tuple[str, str]:
    """(bucket key, app) of an item's sort key."""
    return sk[:BUCKET_KEY_LENGTH], sk[BUCKET_KEY_LENGTH + 1 :]


# ---- counters ---------------------------------------------------------------------------------

COST = "cost"
CALLS = "calls"
REFUNDED_COST = "r:cost"
REFUNDED_CALLS = "r:calls"
LAYOUT_CALLS = "v2:calls"
# The fee groups: each fee's charged share and the adjustment (usage_pricing.core.fees, the one
# definition of the fee components).
TIERS = ("cloud", "private")
# The group of an older item's cost in fee and tier groupings (see "Older items" above).
UNATTRIBUTED = "unattributed"
USAGE_PREFIX = "u:"
USAGE_TOTAL = "u:total"
USAGE_DIMENSIONS = ("tier", "type", "model")
# How many distinct values of each dimension one item counts; beyond that, OTHER (see "Bounded
# dimensions" above). Tier and type are closed sets at the event edge; the limit still holds
# whatever an older record or a future event carries.
DIMENSION_LIMITS = {"tier": 8, "type": 8, "model": 32}
OTHER = "other"


def dimension_set(dimension: str) -> str:
    """The day item's string set of the values it counts for a dimension."""
    return f"d:{dimension}"


DIMENSION_SETS = tuple(dimension_set(d) for d in USAGE_DIMENSIONS)
# Attributes of an item that are not counters.
NON_COUNTERS = frozenset({"pk", "sk", "app", "bucket", "expires_at", *DIMENSION_SETS})


def fee_share(group: str) -> str:
    return f"f:{group}"


def fee_calls(group: str) -> str:
    return f"fn:{group}"


def tier_cost(tier: str) -> str:
    return f"t:{tier}:cost"


def tier_calls(tier: str) -> str:
    return f"t:{tier}:calls"


def usage_counter(dimension: str, value: str) -> str:
    return f"u:{dimension}:{value}"


def parse_usage_counter(name: str) -> tuple[str, str] | None:
    """(dimension, value) of a usage counter other than the total, else None."""
    if not name.startswith(USAGE_PREFIX) or name == USAGE_TOTAL:
        return None
    dimension, _, value = name[len(USAGE_PREFIX) :].partition(":")
    return (dimension, value) if dimension in USAGE_DIMENSIONS else None


# Day-item slots: hour HH of the UTC day and quarter QQ of it, each with cost, calls, refunded.
QUARTERS_PER_DAY = 96
SLOT_FIGURES = ("c", "n", "r")  # cost, calls, refunded cost


def hour_slot(hour: int) -> str:
    return f"h{hour:02d}"


def quarter_slot(quarter: int) -> str:
    return f"q{quarter:02d}"


def slot_counter(slot: str, figure: str) -> str:
    return f"{slot}{figure}"


def slot_counters(moment: datetime, cost: int, calls: int, refunded: int) -> dict[str, int]:
    """A day item's hour and quarter slots for figures at `moment`."""
    moment = moment.astimezone(UTC)
    quarter = moment.hour * 4 + moment.minute // 15
    out: dict[str, int] = {}
    for slot in (hour_slot(moment.hour), quarter_slot(quarter)):
        for figure, value in zip(SLOT_FIGURES, (cost, calls, refunded), strict=True):
            if value:
                out[slot_counter(slot, figure)] = value
    return out


# ---- bounded dimensions -----------------------------------------------------------------------

# Values of each dimension a day item already counts, as read back when a charge found one full.
Known = dict[str, frozenset[str]]


def known_dimensions(item: dict[str, Any] | None) -> Known:
    """The values a day item counts per dimension, from its sets (a table resource's item)."""
    item = item or {}
    return {d: frozenset(item.get(dimension_set(d)) or ()) for d in USAGE_DIMENSIONS}


def day_key(team_id: str, shard: int, moment: datetime, app: str) -> dict[str, str]:
    return item_key(team_id, Granularity.DAY, shard, moment, app)


# ---- reads ------------------------------------------------------------------------------------

# A NamedTuple and a plain slotted class, not dataclasses: a dataclass's generated methods are
# exec'd at import, a cost of every cold start.


class Cell(NamedTuple):
    """One aggregate item as read: its bucket key, app and the counters asked for (absent
    counters are zero)."""

    bucket: str
    app: str
    counters: dict[str, int]


def decode_item(item: dict[str, Any]) -> Cell:
    """An item as a table resource returns it (numbers as Decimal) as a Cell."""
    bucket, app = split_sort_key(item["sk"])
    counters = {
        name: int(value)
        for name, value in item.items()
        if isinstance(value, Decimal) and name not in NON_COUNTERS
    }
    return Cell(bucket, app, counters)


# botocore walks every attribute of a response through its shape model: about 10 µs per item of
# a few counters, most of a breakdown's CPU. While one of these reads waits for its response,
# the JSON Items array is lifted out before botocore's parser runs and handed on unparsed, as
# the wire-format dicts botocore would have built from it (strings and numbers, all an aggregate
# holds); the table resource then turns them into Python values as it always does. Without the
# before-parse event (an older botocore) nothing changes but the speed.
