"""`make bench`: run every benchmark and print the table that bench/README.md records.
`python -m bench <section> …` runs only the sections named (SECTIONS below).

BENCH_QUICK=1 shrinks sample counts, task counts and durations (for a smoke run); the README
figures use the defaults. BENCH_ANALYTICS_TASKS=small,large overrides the analytics sizes and
BENCH_ANALYTICS_VIA_HTTP=1 charges every analytics task over HTTP (see bench/analytics.py)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .analytics import analytics
from .backtest import backtest
from .billing import billing_cpu
from .bounded import IMAGES, bounded
from .cold_import import TARGET_RATIO, cold_imports, interpreters, over_target, version_of
from .cold_import import rows as cold_import_rows
from .common import fmt_us, machine
from .hostile import hostile_worst
from .load import load
from .pricing import compile_times, price_one_task
from .pricing_ab import calibration_ms, pricing_ab
from .records import ITEM_LIMIT, record_sizes

QUICK = os.environ.get("BENCH_QUICK") == "1"
NO_P99 = "—"  # rows that state one figure rather than a distribution

Row = tuple[str, str, str, str]


def timing_row(what: str, setup: str, figure: dict[str, float]) -> Row:
    return (what, setup, fmt_us(figure["p50"]), fmt_us(figure["p99"]))


def pricing_rows(results: dict[str, Any]) -> list[Row]:
    rows = []
    for engine, full_runs in (("cel-expr", 20_000), ("cel-python", 500)):
        runs = max(50, full_runs // 20) if QUICK else full_runs
        for outputs in (1, 100, 1000):
            n = runs if outputs == 1 else max(20, runs // (10 if outputs == 100 else 50))
            figure = price_one_task(engine, outputs, n)
            results[f"price/{engine}/{outputs}"] = figure
            rows.append(timing_row(f"price one task, {outputs} output item(s)", engine, figure))
    for engine in ("cel-expr", "cel-python"):
        for scope, figure in compile_times(engine, 20 if QUICK else 200).items():
            results[f"compile/{engine}/{scope}"] = figure
            rows.append(timing_row(f"compile {scope} formula (uncached)", engine, figure))
    calibration = calibration_ms()
    worst = hostile_worst("cel-expr")
    worst["calibration_ms"] = calibration
    results["hostile/cel-expr"] = worst
    rows.append(
        (
            f"hostile corpus, worst of {worst['cases']} cases priced once (fresh process each)",
            f"cel-expr; target ≤ 100 ms, ≤ 64 MB over idle; sum(range(10**6)) {calibration:.1f} ms",
            f"{worst['max_ms'][0]:,.1f} ms, of which the budget check "
            f"{worst['worst_check_ms']:,.2f} ms ({worst['max_ms'][1][:48]}…)",
            f"{worst['max_mb'][0]:,.1f} MB peak ({worst['max_mb'][1][:48]}…)",
        )
    )
    return rows


def pricing_ab_rows(results: dict[str, Any]) -> list[Row]:
    """Optional (run only when named): the budget's cost against a baseline tree, side by side.
    BENCH_BASELINE_TREE names the baseline checkout (bench/README.md: d8d43ff)."""
    baseline = os.environ.get("BENCH_BASELINE_TREE")
    if not baseline or not (Path(baseline) / "layers" / "common" / "usage_pricing").is_dir():
        sys.exit(
            "pricing_ab needs BENCH_BASELINE_TREE=<a checkout of the baseline>, e.g. "
            "`git worktree add ../wt-d8d43ff d8d43ff` (bench/README.md)"
        )
    calibration = calibration_ms()
    candidate = os.environ.get("BENCH_CANDIDATE_TREE")
    figure = pricing_ab(Path(baseline), 5 if QUICK else 15, Path(candidate) if candidate else None)
    figure["calibration_ms"] = calibration
    results["pricing_ab"] = figure
    rows = []
    for outputs in (1, 100, 1000):
        at = figure[str(outputs)]
        low, high = at["ratio_iqr"]
        rows.append(
            (
                f"price one task, {outputs} output item(s): this tree / baseline "
                f"{at['ratio']:.2f}× (rounds' IQR {low:.2f}-{high:.2f}); target ≤ 1.15×",
                f"cel-expr; median of {figure['rounds']} paired rounds; baseline "
                f"{Path(baseline).name}"
                + (f", candidate {Path(candidate).name}" if candidate else "")
                + f"; sum(range(10**6)) {calibration:.1f} ms",
                f"{fmt_us(at['this_p50'])} (baseline {fmt_us(at['baseline_p50'])})",
                NO_P99,
            )
        )
    for outputs in (1, 100, 1000):
        at = figure[str(outputs)]
        low, high = at["lead_iqr"]
        rows.append(
            (
                f"cel-expr's lead over cel-python, {outputs} output item(s): {at['lead']:.0f}× "
                f"(rounds' IQR {low:.0f}-{high:.0f}); target ≥ 70×",
                "this tree, the same rounds",
                f"{fmt_us(at['cel_python_p50'])} vs {fmt_us(at['this_p50'])}",
                NO_P99,
            )
        )
    return rows


def cold_import_table(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    results["cold_import"] = {}
    for python in interpreters():
        version = version_of(python)
        figures = cold_imports(3 if QUICK else 15, python)
        results["cold_import"][version] = figures
        rows += cold_import_rows(figures, version)
    return rows


def billing_rows(results: dict[str, Any]) -> list[Row]:
    figure = billing_cpu(1_000 if QUICK else 10_000)
    results["billing"] = figure
    setup = "cel-expr, CPU time, DynamoDB client stubbed"
    rows = [
        timing_row(
            "billing CPU per event: parse + price + build ledger transaction",
            setup,
            figure["total"],
        )
    ]
    for stage, label in (
        ("parse", "json.loads + TaskEventEnvelope.parse"),
        ("price", "BillingService.price_task (pricing lookup stubbed)"),
        ("build", "LedgerRepository.charge building TransactItems"),
    ):
        rows.append(
            timing_row(f"… of which {label}", "same events, timed stage by stage", figure[stage])
        )
    sizes = " + ".join(f"{size} B" for size in figure["item_bytes"])
    operations = figure["operations"]
    rows.append(
        (
            "DynamoDB items written per billed event",
            f"1 TransactWriteItems: {operations.count('Put')} Put + "
            f"{operations.count('Update')} Update",
            f"{figure['items_written']} items",
            NO_P99,
        )
    )
    rows.append(
        (
            "DynamoDB write units per billed event",
            f"transactional, 2 WCU per started KB of each item ({sizes})",
            f"{figure['wcu']} WCU",
            NO_P99,
        )
    )
    return rows


def bounds_rows(results: dict[str, Any]) -> list[Row]:
    from .bloat import largest_aggregate_item

    figure = largest_aggregate_item(20 if QUICK else 70)
    results["bounds"] = figure
    return [
        (
            "largest aggregate item after a bloat sequence (budget 64 KB)",
            f"{figure['tasks']} tasks × 64 distinct 128-character models, one app and day; "
            f"{figure['billed']} billed",
            f"{figure['largest']:,} B",
            NO_P99,
        )
    ]


def analytics_rows(results: dict[str, Any]) -> list[Row]:
    figure = analytics(QUICK)
    results["analytics"] = figure
    rows = [
        timing_row(
            "charge one task over HTTP into the local DynamoDB",
            "LedgerRepository.charge → moto server",
            figure["http_charge"],
        )
    ]
    for apps in figure["stages"]:
        at = figure[f"breakdown/{apps}"]
        rows += [
            (
                f"90d breakdown, {apps} apps ({at['records']:,} records): aggregate items read",
                f"{at['queries']} Queries reading {at['read_bytes'] / 1024:,.0f} KB: "
                f"{at['read_units']:g} RCU (eventually consistent)",
                f"{at['items_read']:,} items",
                NO_P99,
            ),
            timing_row(
                f"90d breakdown, {apps} apps: handler time without the DB server",
                "handler + boto3, moto's time subtracted",
                at["handler_without_db_server"],
            ),
        ]
    at = figure["breakdown/100"]
    rows.append(
        timing_row(
            "90d breakdown, 100 apps: handler time with the DB server",
            f"lambda_handler → local DynamoDB (moto, {figure['aggregate_items_in_table']:,} "
            "aggregate items)",
            at["handler"],
        )
    )
    for name, what in (
        ("berlin", "90d breakdown, 100 apps, tz=Europe/Berlin (local days from day slots)"),
        ("fee", "90d breakdown, 100 apps, group_by=fee"),
        ("kolkata_fee_7d", "7d breakdown, 100 apps, tz=Asia/Kolkata, group_by=fee (quarter-hours)"),
    ):
        at = figure[f"breakdown/100/{name}"]
        rows.append(
            timing_row(
                what,
                f"{at['items_read']:,} items in {at['queries']} Queries; moto's time subtracted",
                at["handler_without_db_server"],
            )
        )
    at = figure["breakdown/hot"]
    rows += [
        (
            f"90d breakdown, {at['apps']} hot apps (every cell in all 4 shards): items read",
            f"{at['queries']} Queries reading {at['read_bytes'] / 1024:,.0f} KB: "
            f"{at['read_units']:g} RCU",
            f"{at['items_read']:,} items",
            NO_P99,
        ),
        timing_row(
            f"90d breakdown, {at['apps']} hot apps: handler time without the DB server",
            "handler + boto3, moto's time subtracted",
            at["handler_without_db_server"],
        ),
    ]
    records = figure["records_in_table"]
    for name, what in (
        ("first_page", "task list, first page of 100 (default 7 days)"),
        ("first_page_90d", "task list, first page of 100, range=90d"),
        ("first_page_20_apps", "task list, first page of 100, range=90d, 20 app filters"),
    ):
        at = figure[f"tasks/{name}"]
        rows.append(
            timing_row(
                f"{what} @ {records:,} records",
                f"{at['items_read']:,} records read in {at['queries']} Queries "
                f"(~{at['read_units']:g} RCU), and its count {at['count_items']:,} aggregate "
                f"items in {at['count_queries']} Queries; moto's time subtracted",
                at["handler_without_db_server"],
            )
        )
        plain = figure[f"tasks/{name}/no_count"]
        rows.append(
            timing_row(
                f"{what} @ {records:,} records, without the count (side by side)",
                "the same page, counter off; moto's time subtracted",
                plain["handler_without_db_server"],
            )
        )
    last = figure[f"breakdown/{figure['stages'][-1]}"]
    rows.append(
        (
            f"load {last['records']:,} tasks through LedgerRepository.charge",
            "in-process loader, cumulative",
            f"{last['load_seconds']:,.0f} s ({last['records'] / last['load_seconds']:,.0f} tasks/s)",
            NO_P99,
        )
    )
    return rows


def record_rows(results: dict[str, Any]) -> list[Row]:
    figure = record_sizes()
    results["records"] = figure
    rows = []
    for case, at in figure.items():
        if not isinstance(at, dict):
            continue
        before, after = at["item_bytes"]["before"], at["item_bytes"]["after"]
        units_before, units_after = at["units"]["before"], at["units"]["after"]
        stored = "zlib, Binary" if at["compressed"] else "String"
        rows.append(
            (
                f"billing record, {case}: bytes before → after keeping its inputs",
                f"event {at['event_bytes']:,} B; inputs {at['canonical_json_bytes']:,} B of "
                f"JSON stored as {at['stored_bytes']:,} B ({stored})",
                f"{before:,} B → {after:,} B",
                NO_P99,
            )
        )
        rows.append(
            (
                "… its write units per task, before → after",
                "record Put 2 WCU/KB (transactional) + 2 GSIs × 1 WCU/KB; the 4 aggregate "
                "updates (8 WCU) unchanged",
                f"{units_before['put_wcu']} + {units_before['gsi_wcu']} → "
                f"{units_after['put_wcu']} + {units_after['gsi_wcu']} WCU",
                NO_P99,
            )
        )
    rows.append(
        (
            "largest billing record any allowed event makes",
            f"of the 256 KB cases above; DynamoDB's limit {ITEM_LIMIT // 1024} KB; written and "
            "read back through the ledger (moto enforces the limit)",
            f"{figure['worst_item_bytes']:,} B"
            + (" (fits)" if figure["worst_fits"] and figure["worst_written_to_dynamodb"] else ""),
            NO_P99,
        )
    )
    return rows


def backtest_rows(results: dict[str, Any]) -> list[Row]:
    figure = backtest(QUICK)
    results["backtest"] = figure
    rows = []
    for size in figure["sizes"]:
        at = figure[str(size)]
        rows += [
            (
                f"backtest of {size:,} tasks: read units",
                f"{at['queries']} Queries on by_team_app_time, {at['record_bytes'] / 1024:,.0f} KB "
                "of records, eventually consistent",
                f"{at['read_units']:,g} RCU",
                NO_P99,
            ),
            timing_row(
                f"backtest of {size:,} tasks: handler time",
                f"POST …/pricing/backtest → local DynamoDB (moto); {at['requests']} request(s), "
                "following next_cursor past each deadline",
                at["handler"],
            ),
            timing_row(
                f"backtest of {size:,} tasks: handler time without the DB server",
                "read, decode, price again, compare; moto's time subtracted",
                at["handler_without_db_server"],
            ),
        ]
    return rows


def bounded_rows(results: dict[str, Any]) -> list[Row]:
    figure = bounded(QUICK)
    results["bounded"] = figure
    records = f"{figure['records']:,} records"
    at = figure["backtest"]
    rows = [
        (
            f"worst backtest @ {records}: wall time of each request "
            f"(timeout {figure['pricing_timeout_s']} s)",
            f"limit=10000, ONE_FILTER in all 5 formulas × {IMAGES:,} images (the most one filter"
            " fits); priced "
            f"{' then '.join(f'{n:,}' for n in at['tasks'])} tasks, truncated_reason "
            f"{at['reason']}, {at['items_read']:,} records in {at['queries']} Queries",
            fmt_us(at["handler"]["p50"]),
            fmt_us(at["handler"]["p99"]),
        ),
        timing_row(
            f"worst backtest @ {records}: without the DB server",
            "moto's time subtracted",
            at["handler_without_db_server"],
        ),
    ]
    for name, what in (("one_partition", "no app filter"), ("20_apps", "20 app filters")):
        at = figure[f"task_list/{name}"]
        rows += [
            (
                f"worst filtered task list @ {records}, {what}: wall time of each request "
                f"(timeout {figure['task_list_timeout_s']} s)",
                f"status=needs_review (no match), range=90d, limit=1; "
                f"{at['scanned_per_request']:,.0f} records in "
                f"{at['queries_per_request']:,.1f} Queries a request, 0 rows, has_more",
                fmt_us(at["handler"]["p50"]),
                fmt_us(at["handler"]["p99"]),
            ),
            timing_row(
                f"worst filtered task list @ {records}, {what}: without the DB server",
                "moto's time subtracted",
                at["handler_without_db_server"],
            ),
        ]
    return rows


def load_rows(results: dict[str, Any]) -> list[Row]:
    figure = load(QUICK)
    results["load"] = figure
    rows = []
    for route, at in figure.items():
        if route == "POST /local/events":
            continue
        rows.append(
            timing_row(
                f"HTTP {route}: {at['requests_per_second']:,.1f} req/s, {at['errors']} errors",
                f"{at['stack']}, {at['clients']} keep-alive clients × {at['seconds']:.0f} s",
                at,
            )
        )
    at = figure["POST /local/events"]
    rows.append(
        (
            f"HTTP POST /local/events: {at['events_per_second']:,.1f} events billed/s, "
            f"{at['errors']} errors",
            f"{at['stack']}, batches of {at['batch']}, 1 client × {at['seconds']:.0f} s "
            "(latency per batch)",
            fmt_us(at["p50"]),
            fmt_us(at["p99"]),
        )
    )
    return rows


SECTIONS = {
    "cold_import": cold_import_table,
    "pricing": pricing_rows,
    "billing": billing_rows,
    "bounds": bounds_rows,
    "records": record_rows,
    "analytics": analytics_rows,
    "backtest": backtest_rows,
    "bounded": bounded_rows,
    "load": load_rows,
}
# Run only when named: they need something a plain checkout does not have.
OPTIONAL_SECTIONS = {"pricing_ab": pricing_ab_rows}


def main(argv: list[str]) -> None:
    """Every section, or only those named (`python -m bench records backtest`), in table order."""
    unknown = sorted(set(argv) - set(SECTIONS) - set(OPTIONAL_SECTIONS))
    if unknown:
        known = [*SECTIONS, *OPTIONAL_SECTIONS]
        sys.exit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "quick": QUICK}
    rows: list[Row] = []
    for name, section in SECTIONS.items():
        if not argv or name in argv:
            rows += section(results)
    for name, section in OPTIONAL_SECTIONS.items():
        if name in argv:
            rows += section(results)
    results["duration_seconds"] = time.perf_counter() - started

    print(f"Machine: {results['machine']}\n")
    print("| what | setup | p50 (or value) | p99 |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nTook {results['duration_seconds']:,.0f} s{' (BENCH_QUICK=1)' if QUICK else ''}.")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    name = "latest" if not argv else "latest-" + "-".join(argv)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
    errors = sum(at["errors"] for at in results.get("load", {}).values())
    if errors:
        print(f"load test: {errors} failed requests (expected 0)", file=sys.stderr)
    missed = [
        f"{name} (Python {version})"
        for version, figures in results.get("cold_import", {}).items()
        for name in over_target(figures)
    ]
    if missed:
        print(f"cold import over {TARGET_RATIO}x its anchor: {', '.join(missed)}", file=sys.stderr)
    if errors or missed:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
