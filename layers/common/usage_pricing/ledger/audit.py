"""The audit (docs/operations.md, `make audit`): proves a team's ledger from its own records.

1. Every record of the window is priced again from what it keeps (usage_pricing.ledger.charges)
with its
   own pricing version and the platform defaults it was billed with; every component, the
   discount, what was charged, the billing status and the errors must be what it stores.
2. Every aggregate item is recomputed from the records, twice:
   - replayed: the Updates each record's charge (and, if refunded, its refund) sends, exactly as
     the ledger builds them, added up per item key; each stored item must hold exactly those
     counters (a lost, doubled or hand-edited aggregate write shows here, naming the item);
   - summed independently of the writer: per granularity, bucket and app, over the shards, the
     cost must be the charged of the records not refunded and calls their number (a writer that
     counts wrongly shows here, even though its replay agrees with it).
   Aggregates cover whole buckets, so they are checked over the window widened to whole UTC
   days, from every record in it. Minute items whose TTL has passed are skipped (DynamoDB may or
   may not have deleted them yet).

Records billed before records kept their inputs cannot be priced again: they are listed, and are
not drift. Every difference is one line naming the record or the item; the CLI (local/audit.py)
exits 1 when there is any."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import Key

from usage_pricing.core.fees import COMPONENTS
from usage_pricing.core.limits import CLOCK_SKEW
from usage_pricing.core.utc import EARLIEST, utc_iso
from usage_pricing.ledger.charges import Charge, NotReproducibleError, reprice
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import LedgerRepository
from usage_pricing.pricing.evaluator import PricingEvaluator
from usage_pricing.pricing.model import AppPricing
from usage_pricing.pricing.repository import PricingRepository
from usage_pricing.storage.aggregates import (
    CALLS,
    COST,
    NON_COUNTERS,
    Granularity,
    bucket_key,
    partition_key,
)
from usage_pricing.storage.dynamo import storage_errors

_ADD_PAIR = re.compile(r"(#\w+)\s+(:\w+)")


# A NamedTuple and a plain slotted class, not dataclasses: a dataclass's generated methods are
# exec'd at import, a cost of every cold start.


class Difference(NamedTuple):
    subject: str  # "record t-1 (team/app, pricing version 2)" or "aggregate <pk> <sk>"
    figure: str
    stored: object
    expected: object
    source: str  # what the expected figure comes from

    def __str__(self) -> str:
        return f"{self.subject}: {self.figure} is {self.stored!r}, {self.source} {self.expected!r}"


class AuditReport:
    __slots__ = (
        "aggregate_items",
        "differences",
        "end",
        "not_reproducible",
        "records",
        "refunded",
        "repriced",
        "start",
        "team_id",
    )

    def __init__(  # noqa: PLR0917 — the dataclass's positional signature, kept
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        records: int = 0,
        repriced: int = 0,
        refunded: int = 0,
        not_reproducible: list[str] | None = None,
        aggregate_items: int = 0,
        differences: list[Difference] | None = None,
    ) -> None:
        self.team_id = team_id
        self.start = start
        self.end = end
        self.records = records
        self.repriced = repriced
        self.refunded = refunded
        self.not_reproducible = [] if not_reproducible is None else not_reproducible
        self.aggregate_items = aggregate_items
        self.differences = [] if differences is None else differences

    @property
    def clean(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        head = (
            f"audit of team {self.team_id}, records completed in "
            f"[{utc_iso(self.start)}, {utc_iso(self.end)})"
        )
        out = [head, *(str(d) for d in self.differences)]
        if self.not_reproducible:
            shown = ", ".join(self.not_reproducible[:10])
            more = len(self.not_reproducible) - 10
            out.append(
                f"{len(self.not_reproducible)} record(s) billed before records kept their "
                f"inputs cannot be priced again (not drift): {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        verdict = "no drift" if self.clean else f"{len(self.differences)} difference(s): DRIFT"
        out.append(
            f"{self.records} records ({self.refunded} refunded), {self.repriced} priced again, "
            f"{self.aggregate_items} aggregate items checked: {verdict}"
        )
        return out


Counters = dict[str, int]


def _replay(updates: Iterable[dict[str, Any]], into: dict[tuple[str, str], Counters]) -> None:
    """Add what each TransactWriteItems Update's ADD clause adds, per item key."""
    for update in updates:
        body = update["Update"]
        key = (body["Key"]["pk"], body["Key"]["sk"])
        names, values = body["ExpressionAttributeNames"], body["ExpressionAttributeValues"]
        expression = body["UpdateExpression"]
        add = expression.split(" SET ")[0].removeprefix("ADD ")
        counters = into.setdefault(key, {})
        for name, value in _ADD_PAIR.findall(add):
            counter = names[name]
            counters[counter] = counters.get(counter, 0) + int(values[value])


def _expires(updates: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """The TTL an Update sets on its item, where it sets one (minute items)."""
    found = {}
    for update in updates:
        body = update["Update"]
        names = body["ExpressionAttributeNames"]
        for placeholder, name in names.items():
            if name == "expires_at":
                value = body["ExpressionAttributeValues"][":" + placeholder.removeprefix("#")]
                found[(body["Key"]["pk"], body["Key"]["sk"])] = int(value)
    return found


class Auditor:
    def __init__(
        self,
        ledger: LedgerRepository,
        pricing: PricingRepository,
        evaluator: PricingEvaluator,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.pricing = pricing
        self.evaluator = evaluator
        self.clock = clock
        self._versions: dict[tuple[str, int], AppPricing | None] = {}

    def audit(
        self, team_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> AuditReport:
        now = self.clock()
        start = start or EARLIEST
        end = end or now + CLOCK_SKEW  # billing accepts completions up to then
        report = AuditReport(team_id, start, end)
        first_day = Granularity.DAY.floor(start)
        last_day = Granularity.DAY.ceil(end)

        def unreadable(item: dict[str, Any], error: ValueError) -> None:
            first_line = str(error).splitlines()[:3]
            report.differences.append(
                Difference(
                    f"record {item.get('task_id', item.get('pk'))}",
                    "item",
                    "unreadable",
                    "a billing record",
                    " ".join(first_line) + "; expected",
                )
            )

        records = list(self.ledger.records(team_id, first_day, last_day, unreadable=unreadable))
        for record in records:
            if start <= record.completed_at < end:
                self._check_record(record, report)
        self._check_aggregates(records, report, days=(first_day, last_day), now=now)
        return report

    # ---- records --------------------------------------------------------------------------

    def _pricing(self, app: str, version: int) -> AppPricing | None:
        if version == 0:
            return AppPricing()
        key = (app, version)
        if key not in self._versions:
            found = self.pricing.version(app, version)
            self._versions[key] = None if found is None else found.pricing
        return self._versions[key]

    def _check_record(self, record: BillingRecord, report: AuditReport) -> None:
        report.records += 1
        report.refunded += record.refunded
        subject = (
            f"record {record.task_id} ({record.app}, pricing version {record.pricing_version})"
        )
        pricing = self._pricing(record.app, record.pricing_version)
        if pricing is None:
            report.differences.append(
                Difference(subject, "pricing_version", record.pricing_version, None, "the app has")
            )
            return
        try:
            charge = reprice(record, pricing, self.evaluator)
        except NotReproducibleError:
            report.not_reproducible.append(record.task_id)
            return
        report.repriced += 1
        for figure, stored, expected in self._figures(record, charge):
            if stored != expected:
                report.differences.append(
                    Difference(subject, figure, stored, expected, "priced again it is")
                )

    @staticmethod
    def _figures(record: BillingRecord, charge: Charge) -> list[tuple[str, object, object]]:
        figures: list[tuple[str, object, object]] = [
            (c.field, getattr(record, c.field), charge.result.fee(c).value) for c in COMPONENTS
        ]
        figures += [
            ("discount", record.discount, charge.discount),
            ("charged", record.charged, charge.charged),
            ("billing_status", record.billing_status, charge.billing_status),
            ("errors", record.errors, charge.errors),
        ]
        return figures

    # ---- aggregates -----------------------------------------------------------------------

    def _check_aggregates(
        self,
        records: list[BillingRecord],
        report: AuditReport,
        *,
        days: tuple[datetime, datetime],
        now: datetime,
    ) -> None:
        expected: dict[tuple[str, str], Counters] = {}
        expires: dict[tuple[str, str], int] = {}
        sums: dict[tuple[str, str, str], Counters] = {}
        for record in records:
            updates = self.ledger.aggregate_updates(record)
            if record.refunded:
                updates += self.ledger.aggregate_updates(record, refund=True)
            _replay(updates, expected)
            expires.update(_expires(updates))
            if not record.refunded:
                for granularity in Granularity:
                    bucket = bucket_key(granularity.floor(record.completed_at))
                    cell = sums.setdefault((granularity.value, bucket, record.app), {})
                    cell[COST] = cell.get(COST, 0) + record.charged
                    cell[CALLS] = cell.get(CALLS, 0) + 1
        stored = self._read_aggregates(report.team_id, *days)
        epoch = int(now.timestamp())
        stored_sums: dict[tuple[str, str, str], Counters] = {}
        for key in sorted(set(expected) | set(stored)):
            item = stored.get(key)
            if item is None and expires.get(key, epoch + 1) <= epoch:
                continue  # a minute item past its TTL, which DynamoDB may have deleted
            if item is not None and item.get("expires_at", epoch + 1) <= epoch:
                continue
            report.aggregate_items += 1
            counters = {k: v for k, v in (item or {}).items() if k not in NON_COUNTERS}
            want = expected.get(key, {})
            for name in sorted(set(counters) | set(want)):
                have, should = counters.get(name, 0), want.get(name, 0)
                if have != should:
                    report.differences.append(
                        Difference(
                            f"aggregate {key[0]} {key[1]}",
                            name,
                            have,
                            should,
                            "the records' charges and refunds add",
                        )
                    )
            level = key[0].split("#")[-2]  # pk: "{team}#{granularity}#{shard}"
            bucket, _, app = key[1].partition("#")
            cell = stored_sums.setdefault((level, bucket, app), {})
            for name in (COST, CALLS):
                cell[name] = cell.get(name, 0) + counters.get(name, 0)
        for cell_key in sorted(set(sums) | set(stored_sums)):
            have_cell, want_cell = stored_sums.get(cell_key, {}), sums.get(cell_key, {})
            if cell_key[0] == Granularity.MINUTE.value and cell_key not in stored_sums:
                continue  # expired (see above)
            for name in (COST, CALLS):
                have, should = have_cell.get(name, 0), want_cell.get(name, 0)
                if have != should:
                    level, bucket, app = cell_key
                    report.differences.append(
                        Difference(
                            f"aggregates {level} {bucket} {app} (all shards)",
                            name,
                            have,
                            should,
                            "the records not refunded make",
                        )
                    )

    def _read_aggregates(
        self, team_id: str, first_day: datetime, last_day: datetime
    ) -> dict[tuple[str, str], Counters]:
        found: dict[tuple[str, str], Counters] = {}
        table = self.ledger.aggregates
        low = bucket_key(first_day)
        high = bucket_key(last_day - timedelta(seconds=1)) + "#~"
        for granularity in Granularity:
            for shard in range(self.ledger.shards):
                partition = partition_key(team_id, granularity, shard)
                request: dict[str, Any] = {
                    "KeyConditionExpression": Key("pk").eq(partition)
                    & Key("sk").between(low, high),
                    "ConsistentRead": True,
                }
                while True:
                    with storage_errors("read spend aggregates"):
                        page = table.query(**request)
                    for item in page["Items"]:
                        # Numbers (counters, expires_at) as ints; keys, app and the
                        # dimension sets as they are (storage.aggregates.NON_COUNTERS).
                        found[(item["pk"], item["sk"])] = {
                            k: int(v) if isinstance(v, Decimal) else v for k, v in item.items()
                        }
                    if "LastEvaluatedKey" not in page:
                        break
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found


__all__ = ["AuditReport", "Auditor", "Difference"]
