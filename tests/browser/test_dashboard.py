"""GET /dashboard in headless Chromium against the local stack and its demo data (docs/dashboard.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import KEY, Dashboard
from tests.stack import Stack

# `make dashboard-screenshot` sets this to refresh the README's picture.
README_SCREENSHOT = os.environ.get("DASHBOARD_README_SCREENSHOT")


def chart_series(dashboard: Dashboard, canvas: str = "spend-chart") -> list[dict[str, Any]]:
    """Every dataset of a chart as drawn: its label, the microcents behind each bar and the
    height in pixels Chart.js gave each bar."""
    return dashboard.page.evaluate(  # type: ignore[no-any-return]
        """(id) => {
            const chart = Chart.getChart(id);
            return chart.data.datasets.map((dataset, index) => ({
                label: dataset.label,
                microcents: dataset.microcents,
                heights: chart.getDatasetMeta(index).data.map((bar) => Math.abs(bar.base - bar.y)),
            }));
        }""",
        canvas,
    )


def shown_microcents(dashboard: Dashboard, selector: str) -> int:
    value = dashboard.page.get_attribute(f"{selector} data.money", "value")
    assert value is not None, f"no amount in {selector}"
    return int(value)


def test_the_page_is_self_contained_with_a_content_security_policy(stack: Stack) -> None:
    response = requests.get(f"{stack.url}/dashboard", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy  # no other origin allowed
    # No inline script or style for the policy to have to allow, nothing from elsewhere.
    html = response.text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    for link in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert link.startswith(("/dashboard/", "#", "data:")), link


def test_the_key_is_accepted_and_kept_in_session_storage_only(
    dashboard: Dashboard, stack: Stack
) -> None:
    page = dashboard.page
    dashboard.open()
    assert page.is_visible("#no-key")
    dashboard.use_key()
    page.wait_for_selector("#key-status.ok")
    assert page.inner_text("#key-status") == "Key accepted"
    dashboard.wait_ready("spend")
    assert page.evaluate("sessionStorage.getItem('usage-pricing.api-key')") == KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert page.is_hidden("#no-key")
    # Every request the page made went to its own origin.
    origins = page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => new URL(entry.name).origin)"
    )
    assert set(origins) == {stack.url}
    # A reload keeps the key for the tab; a new tab (context) has none.
    page.reload()
    dashboard.wait_ready("spend")
    assert page.input_value("#api-key") == KEY
    fresh = page.context.browser.new_context().new_page()
    fresh.goto(f"{stack.url}/dashboard")
    fresh.wait_for_function("() => window.dashboard !== undefined")
    assert fresh.evaluate("sessionStorage.length") == 0
    assert fresh.input_value("#api-key") == ""
    fresh.context.close()


def test_a_rejected_key_is_shown_beside_the_key(dashboard: Dashboard) -> None:
    dashboard.expect_failure("/keys/current", 401)
    dashboard.open()
    dashboard.use_key("inf_neverissuedneverissued")
    dashboard.page.wait_for_selector("#key-error:not([hidden])")
    assert "401" in dashboard.page.inner_text("#key-error")
    assert "unknown API key" in dashboard.page.inner_text("#key-error")
    assert dashboard.page.get_attribute("#api-key", "aria-invalid") == "true"


def test_the_spend_chart_totals_the_api_total(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    query = dashboard.wait_ready("spend")
    assert query == {"range": "30d", "tz": "UTC", "group_by": "app"}
    answer = dashboard.api(f"/usage/breakdown?{dashboard.query_of('spend')}")
    total = answer["total_cost"]
    assert total > 0, "the demo data bills tasks in the last 30 days"

    series = chart_series(dashboard)
    drawn = sum(int(value) for dataset in series for value in dataset["microcents"])
    assert drawn == total
    # One bar per bucket and series, with height where there is spend.
    for dataset in series:
        assert len(dataset["heights"]) == len(answer["timeseries"])
        for value, height in zip(dataset["microcents"], dataset["heights"], strict=True):
            assert (height > 0) == (int(value) > 0), dataset["label"]
    assert {d["label"] for d in series} == set(answer["models"])
    assert shown_microcents(dashboard, "#spend-total") == total
    # Dollars on the card, the exact microcents on hover.
    assert page.get_attribute("#spend-total data.money", "title") == (
        f"${answer_dollars(total)} exactly = {total:,} microcents"
    )
    rows = page.locator("#top-apps tbody tr")
    assert rows.count() == len(answer["per_model"])
    assert [
        int(v)
        for v in page.eval_on_selector_all("#top-apps data.money", "e => e.map(x => x.value)")
    ] == [row["cost"] for row in answer["per_model"]]

    # Hovering a bar shows its exact microcents in the tooltip.
    point = page.evaluate(
        """() => {
            const chart = Chart.getChart('spend-chart');
            for (let d = 0; d < chart.data.datasets.length; d++) {
                const meta = chart.getDatasetMeta(d);
                for (let i = 0; i < meta.data.length; i++) {
                    const bar = meta.data[i];
                    if (Math.abs(bar.base - bar.y) > 6) {
                        const box = chart.canvas.getBoundingClientRect();
                        return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2,
                                value: chart.data.datasets[d].microcents[i], label: chart.data.datasets[d].label};
                    }
                }
            }
            return null;
        }"""
    )
    assert point is not None
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function("() => Chart.getChart('spend-chart').tooltip.opacity > 0")
    lines = page.evaluate(
        "Chart.getChart('spend-chart').tooltip.body.flatMap((part) => part.lines)"
    )
    assert f"{int(point['value']):,} µ¢" in lines[0] and point["label"] in lines[0]
    if README_SCREENSHOT:
        take_readme_screenshot(dashboard, README_SCREENSHOT)


def take_readme_screenshot(dashboard: Dashboard, path: str) -> None:
    """The README's picture: the demo team's last 7 days, a tooltip open on the tallest bar."""
    page = dashboard.page
    page.select_option("#spend-range", "7d")
    page.wait_for_function(
        "() => document.querySelector('#panel-spend').dataset.query.includes('range=7d')"
    )
    dashboard.wait_ready("spend")
    point = page.evaluate(
        """() => {
            const chart = Chart.getChart('spend-chart');
            const box = chart.canvas.getBoundingClientRect();
            let best = null;
            chart.data.datasets.forEach((dataset, d) => chart.getDatasetMeta(d).data.forEach((bar) => {
                const height = Math.abs(bar.base - bar.y);
                if (!best || height > best.height) best = {height, x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
            }));
            return best;
        }"""
    )
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function("() => Chart.getChart('spend-chart').tooltip.opacity > 0")
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.screenshot(path=path, full_page=False)


def answer_dollars(microcents: int) -> str:
    whole, fraction = divmod(microcents, 100_000_000)
    digits = f"{fraction:08d}".rstrip("0").ljust(2, "0")
    return f"{whole:,}.{digits}"


def test_switching_zone_and_grouping_changes_the_request(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    with page.expect_request(lambda r: "/usage/breakdown" in r.url) as zone_request:
        page.select_option("#spend-tz", "Asia/Kolkata")
    sent = dict(_query(zone_request.value.url))
    assert sent["tz"] == "Asia/Kolkata" and sent["group_by"] == "app"
    page.wait_for_function(
        "() => document.querySelector('#panel-spend').dataset.query.includes('tz=Asia%2FKolkata')"
    )
    with page.expect_request(lambda r: "/usage/breakdown" in r.url) as group_request:
        page.select_option("#spend-group", "fee")
    sent = dict(_query(group_request.value.url))
    assert sent["tz"] == "Asia/Kolkata" and sent["group_by"] == "fee"
    query = dashboard.wait_ready("spend")
    assert query["group_by"] == "fee"
    answer = dashboard.api(f"/usage/breakdown?{dashboard.query_of('spend')}")
    series = chart_series(dashboard)
    assert sum(int(v) for d in series for v in d["microcents"]) == answer["total_cost"]
    if all("per_group" in bucket for bucket in answer["timeseries"]):
        fee_groups = {"resource", "inference", "royalty", "partner", "adjustment"}
        assert {d["label"] for d in series} <= fee_groups
        assert page.is_hidden("#spend-group-error")
    else:  # an API without grouping: the page says so beside the picker and shows apps
        assert "does not group by fee" in page.inner_text("#spend-group-error")
    with page.expect_request(lambda r: "/usage/breakdown" in r.url) as range_request:
        page.select_option("#spend-range", "7d")
    assert dict(_query(range_request.value.url))["range"] == "7d"


def _query(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(urlsplit(url).query)


def test_the_csv_download_is_what_the_chart_shows(dashboard: Dashboard, tmp_path: Path) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    with page.expect_download() as download_info:
        page.click("#spend-csv")
    download = download_info.value
    assert download.suggested_filename == "spend_30d_app_UTC.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    answer = dashboard.api(f"/usage/breakdown?{dashboard.query_of('spend')}")
    assert rows, "the demo data has spend"
    assert sum(int(row["cost_microcents"]) for row in rows) == answer["total_cost"]
    assert sum(Decimal(row["cost_usd"]) for row in rows) == Decimal(answer["total_cost"]) / 10**8
    # Exactly the chart's cells: every non-zero (bucket, series) once.
    series = chart_series(dashboard)
    labels = [b["date"] for b in answer["timeseries"]]
    cells = {
        (labels[i], d["label"], int(v))
        for d in series
        for i, v in enumerate(d["microcents"])
        if int(v)
    }
    spent = [r for r in rows if int(r["cost_microcents"])]
    assert {(r["bucket_start"], r["group"], int(r["cost_microcents"])) for r in spent} == cells
    assert len(spent) == len(cells)
    # It is the server's CSV of the same query, byte for byte (one rule against formulas).
    server = dashboard.api_text(f"/usage/breakdown?{dashboard.query_of('spend')}&format=csv")
    assert target.read_bytes().decode("utf-8") == server


def test_beyond_the_palette_the_smallest_apps_share_one_series(dashboard: Dashboard) -> None:
    """Nine more apps bill a task each: 12 apps in the last hour, 8 colours; the chart still adds
    up to the API's total, and the CSV (what the chart shows) names the shared series."""
    now = datetime.now(UTC)
    events = [
        {
            "source": "inference.tasks",
            "detail-type": "Task Completed",
            "detail": {
                "task_id": f"browser_palette_{index}",
                "team_id": "team_local",
                "app": f"team_local/palette-{index}",
                "status": "completed",
                "started_at": (now - timedelta(seconds=10 + index)).isoformat(),
                "completed_at": now.isoformat(),
                "elapsed_ms": (10 + index) * 1000,
                "tier": "cloud",
                "resources": [{"name": "gpu0", "type": "gpu", "model": "m", "meter": "llm/micro"}],
            },
        }
        for index in range(1, 10)
    ]
    delivered = requests.post(f"{dashboard.stack.url}/local/events", json=events, timeout=60)
    assert delivered.json()["dead_lettered"] == []
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    with page.expect_request(lambda r: "range=1h" in r.url):
        page.select_option("#spend-range", "1h")
    dashboard.wait_ready("spend")
    answer = dashboard.api(f"/usage/breakdown?{dashboard.query_of('spend')}")
    assert len(answer["models"]) >= 12
    series = chart_series(dashboard)
    assert len(series) == 8
    assert series[-1]["label"] == f"Other ({len(answer['models']) - 7} apps)"
    assert sum(int(v) for d in series for v in d["microcents"]) == answer["total_cost"]
    csv_text = page.evaluate("window.dashboard.spendCsv()")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert sum(int(r["cost_microcents"]) for r in rows) == answer["total_cost"]
    # The server's rows name each app, also those the chart merges into one series.
    assert {r["group"] for r in rows} <= set(answer["models"])


def test_a_bad_formula_shows_its_line_and_column(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    page.fill("#pricing-app", "team_local/flux-dev")
    page.click("#pricing-load")
    page.wait_for_selector("#pricing-editor:not([hidden])")
    assert page.inner_text("#pricing-versions").startswith(page.input_value("#pricing-app"))
    page.wait_for_selector("#preview[data-state='ready']")
    formula = "image_count(outputs) * prices.per_image +\n  no_such_helper(1)"
    evaluated = dashboard.stack.request(
        "POST",
        "/usage/cel/evaluate",
        json={"pricing": {"prices": {"per_image": 200000}, "inference_expression": formula}},
    ).json()
    line, column = evaluated["inference_fee"]["error"].split(":")[:2]
    assert line == "2"
    count = int(page.get_attribute("#preview", "data-count") or 0)
    page.fill("#f-inference_expression", formula)
    page.wait_for_function(
        f"() => Number(document.querySelector('#preview').dataset.count) > {count}"
    )
    error = page.locator("#f-inference_expression-error")
    error.wait_for(state="visible")
    assert f"line {line}, column {column} ({line}:{column})" in error.inner_text()
    assert "no_such_helper" in error.inner_text()
    assert page.get_attribute("#f-inference_expression", "aria-invalid") == "true"
    # "Go to" puts the caret on the offending character.
    page.click("#f-inference_expression-error button.goto")
    caret = page.evaluate("document.activeElement.selectionStart")
    assert page.evaluate("document.activeElement.id") == "f-inference_expression"
    first_line = formula.split("\n", maxsplit=1)[0]
    assert caret == len(first_line) + 1 + int(column) - 1
    # Saving is refused by the API with the same position, shown beside the same formula.
    dashboard.expect_failure("/apps/team_local/flux-dev/pricing", 400)
    with page.expect_response(lambda r: r.request.method == "PATCH") as saved:
        page.click("#pricing-save")
    assert saved.value.status == 400
    page.wait_for_function(
        "() => document.querySelector('#f-inference_expression-error').textContent.includes('column')"
    )
    assert f"({line}:{column})" in error.inner_text()
    assert page.is_hidden("#pricing-action-error")


def test_bad_sample_usage_is_shown_beside_it_naming_the_field(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.expect_failure("/usage/cel/evaluate", 400)
    dashboard.open("pricing")
    dashboard.use_key()
    page.fill("#pricing-app", "team_local/flux-dev")
    page.click("#pricing-load")
    page.wait_for_selector("#preview[data-state='ready']")
    sample = {"output_meta": {"inputs": [{"type": "text", "tokens": -5}]}, "usage_seconds": 1}
    with page.expect_response(lambda r: "/usage/cel/evaluate" in r.url) as answered:
        page.fill("#sample-usage", json.dumps(sample))
    assert answered.value.status == 400
    error = page.locator("#sample-usage-error")
    error.wait_for(state="visible")
    assert "output_meta.inputs.0.tokens" in error.inner_text()
    assert page.get_attribute("#sample-usage", "aria-invalid") == "true"
    assert page.is_hidden("#preview-error")
    # Not JSON at all: said beside it before anything is sent.
    page.fill("#sample-usage", "{not json")
    page.wait_for_function(
        "() => document.querySelector('#sample-usage-error').textContent.includes('not valid JSON')"
    )


def test_a_good_formula_previews_and_saves_a_draft(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    page.fill("#pricing-app", "team_local/browser-draft")
    page.click("#pricing-load")
    page.wait_for_selector("#pricing-editor:not([hidden])")
    assert page.inner_text("#pricing-versions").startswith(page.input_value("#pricing-app"))
    page.click("#price-add")
    page.fill("#prices-table tbody tr:last-child .price-name", "per_image")
    page.fill("#prices-table tbody tr:last-child .price-value", "250000")
    count = int(page.get_attribute("#preview", "data-count") or 0)
    page.fill("#f-inference_expression", "image_count(outputs) * prices.per_image")
    page.wait_for_function(
        f"() => Number(document.querySelector('#preview').dataset.count) > {count}"
    )
    # The sample usage has 2 images: 500,000 µ¢.
    fee = page.get_attribute("#preview tr[data-component='inference_fee'] data.money", "value")
    assert fee == "500000"
    page.click("#pricing-save")
    page.wait_for_selector("#pricing-action-status:has-text('Draft saved')")
    view = dashboard.api("/apps/team_local/browser-draft/pricing")
    assert view["draft"]["pricing"]["prices"] == {"per_image": 250000}
    assert (
        view["draft"]["pricing"]["inference_expression"]
        == "image_count(outputs) * prices.per_image"
    )
    assert view["live"] is None
    # The key may write its own namespace (GET /keys/current): every write action is offered,
    # and nothing was tried to find that out (no backtest ran when the app opened).
    assert page.get_attribute("#panel-pricing", "data-writable") == "yes"
    assert page.is_visible("#pricing-backtest") and page.is_hidden("#pricing-readonly")
    assert ("POST", "/apps/team_local/browser-draft/pricing/backtest") not in dashboard.sent
    # Publishing asks first, then makes the saved draft live.
    page.click("#pricing-publish")
    page.wait_for_selector("#publish-confirm:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "publish-yes"
    page.click("#publish-yes")
    page.wait_for_selector("#pricing-action-status:has-text('Published')")
    live = dashboard.api("/apps/team_local/browser-draft/pricing")["live"]
    assert live["version"] == 1 and live["pricing"]["prices"] == {"per_image": 250000}
    assert f"live version {live['version']}" in page.inner_text("#pricing-action-status")


def test_the_task_list_pages(dashboard: Dashboard, stack: Stack) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    dashboard.wait_ready("tasks")
    # 30 days: the demo's oldest tasks are up to 7 days old and must not age out mid-test.
    with page.expect_request(lambda r: "/usage/tasks?" in r.url):
        page.select_option("#tasks-range", "30d")
    dashboard.wait_ready("tasks")
    with page.expect_request(lambda r: "/usage/tasks?" in r.url):
        page.select_option("#tasks-limit", "10")
    query = dashboard.wait_ready("tasks")
    assert query["limit"] == "10"
    expected = _all_tasks(dashboard, {k: v for k, v in query.items() if k != "limit"})
    assert len(expected) > 10, "the demo data bills more than one page of tasks"

    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        assert page.get_attribute("#panel-tasks", "data-page") == str(pages)
        seen += page.eval_on_selector_all(
            "#tasks-table tbody tr[data-task-id]", "rows => rows.map(r => r.dataset.taskId)"
        )
        if page.is_disabled("#tasks-next"):
            break
        page.click("#tasks-next")
        page.wait_for_function(
            f"() => document.querySelector('#panel-tasks').dataset.page === '{pages + 1}'"
        )
    assert seen == expected  # every task once, in the API's order
    assert pages == -(-len(expected) // 10)
    assert "(last)" in page.inner_text("#tasks-page")
    page.click("#tasks-prev")
    page.wait_for_function(
        f"() => document.querySelector('#panel-tasks').dataset.page === '{pages - 1}'"
    )

    # Filters go into the request.
    with page.expect_request(lambda r: "/usage/tasks?" in r.url) as filtered:
        page.select_option("#tasks-status", "failed")
    assert ("status", "failed") in _query(filtered.value.url)
    dashboard.wait_ready("tasks")
    statuses = page.eval_on_selector_all(
        "#tasks-table tbody tr[data-task-id] td:nth-child(4)",
        "cells => cells.map(c => c.textContent)",
    )
    assert statuses and set(statuses) == {"failed"}

    # A task opens its cost with every fee.
    page.click("#tasks-table .task-open")
    dialog = page.locator("#task-dialog")
    dialog.wait_for(state="visible")
    page.wait_for_selector("#task-dialog dl.cost")
    text = dialog.inner_text()
    for label in (
        "Resource fee",
        "Inference fee",
        "Royalty fee",
        "Partner fee",
        "Total",
        "Discount",
        "Charged",
        "Meter",
        "Pricing version",
        "Inference time",
    ):
        assert label in text
    assert "task_failed" in text  # a failed task: 100% discount
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('task-open')")


def _all_tasks(dashboard: Dashboard, query: dict[str, str]) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params = {**query, "limit": "1000", **({"cursor": cursor} if cursor else {})}
        answer = dashboard.api(f"/usage/tasks?{urlencode(params)}")
        ids += [task["task_id"] for task in answer["data"]]
        if not answer["has_more"]:
            return ids
        cursor = answer["next_cursor"]


def test_a_task_opens_its_cost_by_id(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    page.wait_for_selector("#panel-tasks[data-state]")
    page.fill("#task-id", "demo_0042")
    page.press("#task-id", "Enter")
    page.wait_for_selector("#task-dialog dl.cost")
    cost = dashboard.api("/usage/tasks/demo_0042/cost")
    text = page.inner_text("#task-dialog")
    assert "refunded" in text.lower() and "demo refund" in text
    charged = page.eval_on_selector_all("#task-dialog data.money", "e => e.map(x => x.value)")
    assert str(cost["charged"]["value"]) in charged and str(cost["total"]["value"]) in charged
    page.click("#task-dialog-close")
    dashboard.expect_failure("/usage/tasks/no_such_task/cost", 404)
    page.fill("#task-id", "no_such_task")
    page.press("#task-id", "Enter")
    page.wait_for_selector("#task-dialog-error:not([hidden])")
    assert "no task no_such_task" in page.inner_text("#task-dialog-error")


def test_errors_are_shown_beside_what_caused_them(dashboard: Dashboard, stack: Stack) -> None:
    page = dashboard.page
    # A key without billing:read: the Spend tab says so without asking for its data (no 403).
    reader = stack.new_key("team_browser", "apps:read")
    dashboard.open()
    dashboard.use_key(reader)
    page.wait_for_selector("#key-status.ok")
    page.wait_for_selector("#panel-spend[data-scope='missing']")
    assert page.inner_text("#spend-scope") == (
        "This API key lacks the billing:read scope, which the Spend tab needs: ask your team's "
        "admin for a key with billing:read."
    )
    assert not [path for _, path in dashboard.sent if path.startswith("/usage/")]
    # Editing another team's namespace: the 403 names the namespace, beside the save button.
    dashboard.use_key()
    page.wait_for_function(
        "() => document.querySelector('#key-status').textContent === 'Key accepted'"
    )
    dashboard.wait_ready("spend")
    page.click("#tab-pricing")
    # Another team's unpublished app does not exist for us: 404 beside the app picker.
    dashboard.expect_failure("/apps/team_other/unpublished/pricing", 404)
    page.fill("#pricing-app", "team_other/unpublished")
    page.click("#pricing-load")
    page.wait_for_selector("#pricing-app-error:not([hidden])")
    assert "no published pricing for team_other/unpublished" in page.inner_text(
        "#pricing-app-error"
    )
    # Another team's published app opens read-only: saving it is a 403.
    other = stack.new_key("team_other", "apps:write")
    for method, path, body in (
        ("PATCH", "/apps/team_other/someone-elses/pricing", {"prices": {"per_run": 1000}}),
        ("POST", "/apps/team_other/someone-elses/pricing/publish", None),
    ):
        assert stack.request(method, path, key=other, json=body).status_code == 200
    # Not ours to change (GET /keys/current names this key's namespace, team_local): the
    # actions that write are hidden, and the page says why; none of them was tried.
    _open_app(dashboard, "team_other/someone-elses")
    assert page.input_value("#prices-table .price-name") == "per_run"
    assert page.inner_text("#pricing-versions").startswith(page.input_value("#pricing-app"))
    assert page.get_attribute("#panel-pricing", "data-writable") == "no"
    assert page.is_hidden("#pricing-backtest")
    assert page.is_hidden("#pricing-save") and page.is_hidden("#pricing-publish")
    assert "apps in another team's namespace are read-only" in page.inner_text("#pricing-readonly")
    assert not [
        p for _, p in dashboard.sent if p.startswith("/apps/team_other/someone-elses/pricing/")
    ]
    # A malformed app name: the 400 names its field, beside the app picker.
    dashboard.expect_failure("/apps/Bad%20Name/x/pricing", 400)
    page.fill("#pricing-app", "Bad Name/x")
    page.click("#pricing-load")
    page.wait_for_selector("#pricing-app-error:not([hidden])")
    assert "namespace" in page.inner_text("#pricing-app-error")
    assert page.get_attribute("#pricing-app", "aria-invalid") == "true"


def test_a_bad_window_is_shown_beside_the_dates(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.expect_failure("/usage/breakdown", 400)
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    page.select_option("#spend-range", "custom")
    dashboard.wait_ready("spend")
    with page.expect_request(lambda r: "end=2026-11-11" in r.url) as sent:
        page.fill("#spend-start", "2026-11-20")
        page.fill("#spend-end", "2026-11-10")
        page.click("#spend-refresh")
    query = dict(_query(sent.value.url))
    assert (query["start"], query["end"]) == ("2026-11-20", "2026-11-11")  # "to" is inclusive
    dashboard.wait_ready("spend")
    beside = page.locator("#spend-start-error, #spend-end-error").filter(has_text="")
    shown = [t for t in beside.all_inner_texts() if t.strip()]
    assert shown, "an error beside the date pickers"
    assert any("end" in t or "start" in t for t in shown), shown
    assert page.is_disabled("#spend-csv")


def test_keyboard_only(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open()
    page.focus("#api-key")
    page.keyboard.type(KEY)
    page.keyboard.press("Enter")
    dashboard.wait_ready("spend")
    page.focus("#tab-spend")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-usage"
    assert page.get_attribute("#tab-usage", "aria-selected") == "true"
    assert page.is_visible("#panel-usage") and page.is_hidden("#panel-spend")
    dashboard.wait_ready("usage")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-budgets"
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tab-spend"
    # Tab moves from the selected tab into its panel, not through the other tabs.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "panel-spend"
    # Every form control has a label.
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
              .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map((e) => e.id || e.outerHTML)"""
    )
    assert unlabelled == []


def test_usage_tab_charts_the_summary(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open("usage")
    dashboard.use_key()
    dashboard.wait_ready("usage")
    answer = dashboard.api(f"/usage/summary?{dashboard.query_of('usage')}")
    for canvas, key in (
        ("usage-tier", "tier_usage"),
        ("usage-type", "type_usage"),
        ("usage-model", "model_usage"),
    ):
        drawn = page.evaluate(
            "(id) => { const c = Chart.getChart(id); return Object.fromEntries(c.data.labels.map((l, i) => [l, c.data.datasets[0].data[i]])); }",
            canvas,
        )
        assert drawn == answer[key], canvas
    assert answer["total_usage"] > 0


def test_every_tab_without_console_errors(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    page.click("#spend-data summary")
    page.wait_for_selector("#spend-table")
    for tab in ("usage", "tasks", "pricing", "spend"):
        page.click(f"#tab-{tab}")
        if tab in ("usage", "spend"):
            dashboard.wait_ready(tab)
        elif tab == "tasks":
            page.wait_for_selector("#panel-tasks[data-state]")
        else:
            page.wait_for_selector("#pricing-editor:not([hidden])")
            page.wait_for_selector("#preview[data-state='ready']")
    dashboard.assert_clean()


# ---- the dashboard people use daily, at both sizes, with faults injected

BOTH = pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
SHORT_TIMEOUT = pytest.mark.parametrize("timeout_ms", [1500], indirect=True)
TABS = ("spend", "usage", "tasks", "pricing", "budgets")
SHOTS = Path(os.environ.get("BROWSER_REPORT", Path(__file__).resolve().parents[2] / "build" / "browser")) / "tabs"  # fmt: skip


def _open_app(dashboard: Dashboard, app: str) -> None:
    """Opens an app on the Pricing tab; returns once its editor and its actions are drawn."""
    page = dashboard.page
    page.fill("#pricing-app", app)
    page.click("#pricing-load")
    page.wait_for_selector("#pricing-editor:not([hidden])")
    page.wait_for_selector("#panel-pricing[data-writable]")


def _shoot(dashboard: Dashboard, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    dashboard.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@BOTH
def test_given_each_tab_drawn_from_data_when_shown_then_the_page_is_no_wider_than_the_window(
    dashboard: Dashboard, viewport: str
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    page.click("#spend-data summary")
    page.wait_for_selector("#spend-table")
    assert dashboard.overflow() == 0, "spend"
    _shoot(dashboard, f"{viewport}-spend")
    page.click("#tab-usage")
    dashboard.wait_ready("usage")
    assert dashboard.overflow() == 0, "usage"
    _shoot(dashboard, f"{viewport}-usage")
    page.click("#tab-tasks")
    dashboard.wait_ready("tasks")
    assert dashboard.overflow() == 0, "tasks"
    # Every column of a task row is on screen: Charged's right edge inside the window.
    right = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('#tasks-table tbody tr[data-task-id] data.money'), (e) => e.getBoundingClientRect().right))"
    )
    assert 0 < right <= page.viewport_size["width"]
    _shoot(dashboard, f"{viewport}-tasks")
    page.click("#tasks-table .task-open")
    page.wait_for_selector("#task-dialog dl.cost")
    fits = page.evaluate(
        """() => { const d = document.querySelector('#task-dialog'); const box = d.getBoundingClientRect();
                   return box.left >= 0 && box.right <= window.innerWidth && d.scrollWidth <= d.clientWidth; }"""
    )
    assert fits, "the task dialog fits the window and clips no value"
    _shoot(dashboard, f"{viewport}-task-dialog")
    page.keyboard.press("Escape")
    page.click("#tab-pricing")
    _open_app(dashboard, "team_local/flux-dev")
    page.click("#pricing-backtest")
    page.wait_for_selector("#backtest-body dl.cost")
    assert dashboard.overflow() == 0, "pricing with a backtest result"
    # A price's name input shows more than a few letters.
    width = page.evaluate("document.querySelector('#prices-table .price-name').clientWidth")
    assert width >= 150
    _shoot(dashboard, f"{viewport}-pricing")
    page.click("#tab-budgets")
    page.wait_for_selector("#panel-budgets[data-state]:not([aria-busy])")
    assert dashboard.overflow() == 0, "budgets"
    _shoot(dashboard, f"{viewport}-budgets")


@BOTH
def test_given_the_spend_chart_when_the_table_link_is_clicked_then_the_caption_does_not_cover_it(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    caption = page.locator("#spend-caption").bounding_box()
    summary = page.locator("#spend-data summary").bounding_box()
    assert caption is not None and summary is not None
    assert caption["y"] + caption["height"] <= summary["y"]
    page.click("#spend-data summary")  # Playwright refuses a click another element intercepts
    page.wait_for_selector("#spend-table")


def test_given_a_backtest_on_screen_when_another_app_opens_then_the_result_is_gone(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    _open_app(dashboard, "team_local/flux-dev")
    page.click("#pricing-backtest")
    page.wait_for_selector("#backtest-body dl.cost")
    _open_app(dashboard, "team_local/chat-llm")
    assert page.is_hidden("#backtest-result")
    assert page.inner_html("#backtest-body") == ""


@BOTH
def test_given_a_chosen_backtest_window_when_run_then_the_request_names_it(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    _open_app(dashboard, "team_local/flux-dev")
    page.select_option("#backtest-range", "30d")
    with page.expect_request(
        lambda r: "/pricing/backtest" in r.url and "limit=1" not in r.url
    ) as sent:
        page.click("#pricing-backtest")
    assert dict(_query(sent.value.url)) == {"range": "30d", "tz": "UTC"}
    page.wait_for_selector("#backtest-body dl.cost")
    assert "Last 30 days" in page.inner_text("#backtest-body")


@BOTH
def test_given_a_slow_api_when_the_window_changes_then_loading_shows_and_no_old_figure_stays(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    dashboard.hold("/usage/breakdown")
    page.select_option("#spend-range", "7d")
    page.wait_for_selector("#spend-loading:not([hidden])")
    assert page.inner_text("#spend-loading") == "Loading spend, last 7 days…"
    assert page.get_attribute("#panel-spend", "aria-busy") == "true"
    assert page.inner_text("#spend-total") == "…"
    _shoot(dashboard, f"{dashboard.page.viewport_size['width']}-spend-loading")
    dashboard.release("/usage/breakdown")
    query = dashboard.wait_ready("spend")
    assert query["range"] == "7d"
    assert page.is_hidden("#spend-loading")


@SHORT_TIMEOUT
def test_given_an_api_that_never_answers_when_the_timeout_passes_then_a_retry_loads_it(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open("usage")
    dashboard.hold("/usage/summary")
    dashboard.use_key()
    page.wait_for_selector("#panel-usage[data-state='error']")
    assert page.inner_text("#usage-error").startswith(
        "Timed out: the API did not answer within 2 s."
    )
    dashboard.release("/usage/summary")
    page.click("#usage-error button.retry")
    dashboard.wait_ready("usage")
    assert page.get_attribute("#panel-usage", "data-state") == "ready"


@BOTH
def test_given_a_503_with_retry_after_when_loading_then_the_page_says_so_and_retries_by_itself(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open("usage")
    seen = dashboard.fail("/usage/summary", 503, retry_after=2)
    dashboard.use_key()
    page.wait_for_selector("#usage-error:has-text('Storage unavailable, retrying in 2 s')")
    page.wait_for_selector("#panel-usage[data-state='ready']", timeout=10_000)
    assert len(seen) == 2  # the 503, then the retry after 2 s
    assert page.is_hidden("#usage-error")


@BOTH
def test_given_a_non_json_500_when_loading_then_a_short_message_shows_and_no_markup(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    dashboard.fail("/usage/breakdown", 500, html=True)
    page.select_option("#spend-range", "7d")
    page.wait_for_selector("#panel-spend[data-state='error']")
    text = page.inner_text("#spend-error")
    assert (
        text == "Error (500): the API answered HTTP 500 with text/html, not a problem report. Retry"
    )
    assert (
        page.eval_on_selector("#spend-error", "e => e.querySelectorAll('h1, p, body').length") == 0
    )


@BOTH
def test_given_a_503_while_checking_the_key_then_the_key_is_not_marked_wrong_and_is_checked_again(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.fail("/keys/current", 503, retry_after=1)
    dashboard.use_key()
    page.wait_for_selector(
        "#key-status:has-text('Could not check the key: Storage unavailable, retrying in 1 s')"
    )
    assert page.get_attribute("#api-key", "aria-invalid") is None
    assert page.is_hidden("#key-error")
    page.wait_for_selector("#key-status.ok:has-text('Key accepted')", timeout=10_000)
    assert page.get_attribute("#api-key", "aria-invalid") is None


def test_given_a_failed_page_load_then_the_pager_says_that_page_is_not_loaded(
    dashboard: Dashboard, stack: Stack
) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    dashboard.wait_ready("tasks")
    with page.expect_request(lambda r: "/usage/tasks?" in r.url):
        page.select_option("#tasks-limit", "10")
    dashboard.wait_ready("tasks")
    assert page.inner_text("#tasks-page") == "Page 1"
    dashboard.fail("/usage/tasks", 500, html=True)
    page.click("#tasks-next")
    page.wait_for_selector("#panel-tasks[data-state='error']")
    assert page.inner_text("#tasks-page") == "Page 2 not loaded"
    assert page.is_disabled("#tasks-next") and page.is_disabled("#tasks-prev")
    assert page.locator("#tasks-table tbody tr").count() == 0
    page.click("#tasks-error button.retry")
    page.wait_for_function("() => document.querySelector('#panel-tasks').dataset.page === '2'")


def test_given_the_tasks_tab_then_it_lists_newest_first_and_says_how_many_tasks_the_window_holds(
    dashboard: Dashboard, stack: Stack
) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    dashboard.wait_ready("tasks")
    with page.expect_request(lambda r: "/usage/tasks?" in r.url):
        page.select_option("#tasks-tz", "Asia/Kolkata")
    dashboard.wait_ready("tasks")
    with page.expect_request(lambda r: "/usage/tasks?" in r.url) as asked:
        page.select_option("#tasks-limit", "10")
    query = dashboard.wait_ready("tasks")
    assert ("order", "desc") in _query(asked.value.url)
    answer = dashboard.api(f"/usage/tasks?{urlencode(query)}")
    shown = page.eval_on_selector_all(
        "#tasks-table tbody tr[data-task-id]", "rows => rows.map(r => r.dataset.taskId)"
    )
    assert shown == [task["task_id"] for task in answer["data"]]
    times = [task["completed_at"] for task in answer["data"]]
    assert len(times) == 10 and times == sorted(times, reverse=True)  # newest first

    # The count is the API's first-page count, its window written by the page's one formatter
    # in the chosen zone.
    count = answer["count"]
    assert count["tasks"] > 10, "the demo data bills more than one page of tasks"
    assert page.get_attribute("#tasks-count", "data-total") == str(count["tasks"])
    bounds = page.eval_on_selector_all(
        "#tasks-count time", "ts => ts.map(t => [t.getAttribute('datetime'), t.textContent])"
    )
    formatted = page.evaluate(
        "async (isos) => { const f = await import('/dashboard/format.js');"
        " return isos.map((iso) => f.formatTime(iso)); }",
        [count["start"], count["end"]],
    )
    assert bounds == [[count["start"], formatted[0]], [count["end"], formatted[1]]]
    assert formatted[0].endswith(" Asia/Kolkata")
    assert page.inner_text("#tasks-count") == (
        f"{count['tasks']:,} tasks from {formatted[0]} to {formatted[1]}. "
        "Showing 1–10, newest first; more on the next page."
    )
    # A later page has no count of its own: the line keeps the first page's.
    page.click("#tasks-next")
    page.wait_for_function("() => document.querySelector('#panel-tasks').dataset.page === '2'")
    assert page.inner_text("#tasks-count").startswith(f"{count['tasks']:,} tasks from ")
    assert "Showing 11–20, newest first" in page.inner_text("#tasks-count")

    # A status filter has no count: the line says which rows these are, and no total.
    with page.expect_request(lambda r: "/usage/tasks?" in r.url) as filtered:
        page.select_option("#tasks-status", "failed")
    query = dashboard.wait_ready("tasks")
    assert ("order", "desc") in _query(filtered.value.url)
    assert dashboard.api(f"/usage/tasks?{urlencode(query)}")["count"] is None
    assert page.get_attribute("#tasks-count", "data-total") is None
    assert page.inner_text("#tasks-count").startswith("Showing 1–")
    assert " tasks from " not in page.inner_text("#tasks-count")


def test_given_two_windows_that_rank_apps_differently_then_each_app_keeps_its_colour(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    colours = "() => Object.fromEntries(Chart.getChart('spend-chart').data.datasets.map((d) => [d.label, d.backgroundColor]))"
    month = page.evaluate(colours)
    with page.expect_request(lambda r: "range=1h" in r.url):
        page.select_option("#spend-range", "1h")
    dashboard.wait_ready("spend")
    hour = page.evaluate(colours)
    shared = {label for label in set(month) & set(hour) if not label.startswith("Other")}
    assert shared, "the demo apps spend in both windows"
    assert {label: hour[label] for label in shared} == {label: month[label] for label in shared}
    assert len({month[label] for label in month}) == len(month)


def test_given_any_amount_then_the_page_writes_dollars_as_the_server_does(
    dashboard: Dashboard,
) -> None:
    from usage_pricing.core.money import to_dollars

    dashboard.open()
    amounts = [0, 1, 5, 99, 100, 1_000_000, 15_163_200, 821_000_000, 15_786_496, -2_500_000,
               123_456_789_012, 2**63 - 1, -(2**63)]  # fmt: skip
    shown = dashboard.page.evaluate(
        "(values) => values.map((v) => window.dashboard.toDollars(v))", [str(a) for a in amounts]
    )
    assert shown == [to_dollars(a) for a in amounts]


def test_given_a_task_then_its_dialog_shows_the_servers_dollars_and_times_in_the_chosen_zone(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    page.wait_for_selector("#panel-tasks[data-state]")
    page.select_option("#tasks-tz", "Asia/Kolkata")
    page.fill("#task-id", "demo_0042")
    page.press("#task-id", "Enter")
    page.wait_for_selector("#task-dialog dl.cost")
    cost = dashboard.api("/usage/tasks/demo_0042/cost")
    texts = page.eval_on_selector_all("#task-dialog data.money", "e => e.map((x) => x.textContent)")
    assert f"${cost['charged']['dollars']}" in texts and f"${cost['total']['dollars']}" in texts
    completed = datetime.fromisoformat(cost["completed_at"].replace("Z", "+00:00"))
    local = completed.astimezone(ZoneInfo("Asia/Kolkata"))
    expected = f"{local.day} {local:%b %Y}, {local:%H:%M:%S} Asia/Kolkata"
    shown = page.inner_text(f"#task-dialog time[datetime='{cost['completed_at']}']")
    assert shown == expected
    # The zone is the page's: every tab's picker shows it.
    assert page.input_value("#spend-tz") == page.input_value("#pricing-tz") == "Asia/Kolkata"


def test_given_the_apps_picker_then_it_shows_whole_rows_one_per_app_up_to_six(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    count, size = page.evaluate(
        "() => { const s = document.querySelector('#spend-app'); return [s.options.length, s.size]; }"
    )
    assert count >= 3
    assert size == min(count, 6)


def _draft(stack: Stack, app: str, price: int) -> None:
    response = stack.request("PATCH", f"/apps/{app}/pricing", json={"prices": {"per_run": price}})
    assert response.status_code == 200, response.text


@BOTH
def test_given_a_date_time_in_the_chosen_zone_when_scheduled_then_the_api_gets_that_instant(
    dashboard: Dashboard, stack: Stack, viewport: str
) -> None:
    app = f"team_local/browser-schedule-{viewport}"
    _draft(stack, app, 1000)
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    page.select_option("#pricing-tz", "Asia/Kolkata")
    _open_app(dashboard, app)
    when = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    local = when.astimezone(ZoneInfo("Asia/Kolkata"))
    page.fill("#schedule-at", local.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_request(lambda r: r.url.endswith("/pricing/publish")) as sent:
        page.click("#schedule-publish")
    assert json.loads(sent.value.post_data or "") == {
        "effective_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")
    }
    page.wait_for_selector("#pricing-action-status:has-text('Scheduled')")
    view = dashboard.api(f"/apps/{app}/pricing")
    assert [s["effective_at"][:16] for s in view["scheduled"]] == [when.strftime("%Y-%m-%dT%H:%M")]
    page.wait_for_selector("#scheduled-table tr[data-version='1']")
    assert dashboard.overflow() == 0


def test_given_a_schedule_the_api_refuses_then_its_reason_is_beside_the_date_time(
    dashboard: Dashboard, stack: Stack
) -> None:
    app = "team_local/browser-schedule-early"
    _draft(stack, app, 1000)
    page = dashboard.page
    dashboard.expect_failure(f"/apps/{app}/pricing/publish", 400)
    dashboard.open("pricing")
    dashboard.use_key()
    _open_app(dashboard, app)
    past = datetime.now(UTC) - timedelta(hours=1)
    page.fill("#schedule-at", past.strftime("%Y-%m-%dT%H:%M"))
    page.click("#schedule-publish")
    page.wait_for_selector("#schedule-at-error:not([hidden])")
    assert page.inner_text("#schedule-at-error").startswith("effective_at: ")
    assert page.get_attribute("#schedule-at", "aria-invalid") == "true"


def test_given_a_scheduled_version_when_cancelled_then_the_list_no_longer_has_it(
    dashboard: Dashboard, stack: Stack
) -> None:
    app = "team_local/browser-cancel"
    _draft(stack, app, 1000)
    when = (datetime.now(UTC) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    published = stack.request("POST", f"/apps/{app}/pricing/publish", json={"effective_at": when})
    assert published.status_code == 200, published.text
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key()
    _open_app(dashboard, app)
    page.wait_for_selector("#scheduled-table tr[data-version='1']")
    page.click(".scheduled-cancel[data-version='1']")
    page.wait_for_selector("#scheduled-status:has-text('Cancelled version 1.')")
    assert dashboard.api(f"/apps/{app}/pricing/scheduled")["scheduled"] == []


@BOTH
def test_given_a_key_with_apps_read_only_then_no_write_action_is_offered_and_the_page_says_why(
    dashboard: Dashboard, stack: Stack
) -> None:
    reader = stack.new_key("team_local", "apps:read billing:read")
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key(reader)
    _open_app(dashboard, "team_local/flux-dev")
    for action in ("#pricing-save", "#pricing-publish", "#schedule-form", "#pricing-backtest"):
        assert page.is_hidden(action), action
    assert page.inner_text("#pricing-readonly") == (
        "Read-only: this API key lacks the apps:write scope. Saving, publishing, scheduling, "
        "cancelling scheduled versions and backtesting need it; the editor still previews."
    )
    # Learnt from GET /keys/current alone: no write was tried to find out.
    assert ("GET", "/keys/current") in dashboard.sent
    assert not [m for m, p in dashboard.sent if p.startswith("/apps/") and m != "GET"]
    # The editor still previews (the key has billing:read).
    page.wait_for_selector("#preview[data-state='ready']")


@BOTH
def test_given_an_apps_write_key_of_another_namespace_then_that_apps_pricing_is_read_only(
    dashboard: Dashboard, stack: Stack
) -> None:
    writer = stack.new_key("team_browser_other", "apps:read apps:write billing:read")
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key(writer)
    _open_app(dashboard, "team_local/flux-dev")
    assert page.get_attribute("#panel-pricing", "data-writable") == "no"
    for action in ("#pricing-save", "#pricing-publish", "#schedule-form", "#pricing-backtest"):
        assert page.is_hidden(action), action
    assert page.inner_text("#pricing-readonly") == (
        "Read-only: apps in another team's namespace are read-only. team_local is not this "
        "key's namespace (it edits the apps of team_browser_other); the editor still previews."
    )
    # Scheduled versions are the owner's: the page says so instead of asking for a 404.
    assert (
        page.inner_text("#scheduled-status")
        == "Scheduled versions are shown to the app's owner only."
    )
    assert [p for _, p in dashboard.sent if p.startswith("/apps/")] == [
        "/apps/team_local/flux-dev/pricing"
    ]
    # The same key on its own namespace's app: every action is offered.
    assert stack.request("PATCH", "/apps/team_browser_other/mine/pricing", key=writer, json={"prices": {"per_run": 5}}).status_code == 200  # fmt: skip
    _open_app(dashboard, "team_browser_other/mine")
    assert page.get_attribute("#panel-pricing", "data-writable") == "yes"
    assert page.is_visible("#pricing-save") and page.is_visible("#pricing-backtest")
    assert page.is_hidden("#pricing-readonly")


@BOTH
def test_given_the_usage_tab_when_csv_is_downloaded_then_it_is_the_servers_csv(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    page = dashboard.page
    dashboard.open("usage")
    dashboard.use_key()
    dashboard.wait_ready("usage")
    with page.expect_download() as download_info:
        page.click("#usage-csv")
    target = tmp_path / "usage.csv"
    download_info.value.save_as(target)
    assert download_info.value.suggested_filename == "usage_30d_UTC.csv"
    server = dashboard.api_text(f"/usage/summary?{dashboard.query_of('usage')}&format=csv")
    assert target.read_bytes().decode("utf-8") == server


def test_given_the_tasks_tab_when_csv_is_downloaded_then_it_is_the_servers_csv_of_that_page(
    dashboard: Dashboard, stack: Stack, tmp_path: Path
) -> None:
    page = dashboard.page
    dashboard.open("tasks")
    dashboard.use_key()
    dashboard.wait_ready("tasks")
    with (
        page.expect_download() as download_info,
        page.expect_request(lambda r: "format=csv" in r.url) as asked,
    ):
        page.click("#tasks-csv")
    assert ("order", "desc") in _query(asked.value.url)  # the order the page shows
    target = tmp_path / "tasks.csv"
    download_info.value.save_as(target)
    assert download_info.value.suggested_filename == "tasks_7d_page1_UTC.csv"
    server = dashboard.api_text(f"/usage/tasks?{dashboard.query_of('tasks')}&format=csv")
    assert target.read_bytes().decode("utf-8") == server


# ---- Budgets (docs/api.md#spend-controls)


@BOTH
def test_given_a_budget_made_through_the_api_then_the_tab_shows_its_spend_against_its_limit(
    dashboard: Dashboard, stack: Stack, viewport: str
) -> None:
    budget = f"browser-{viewport}"
    body = {"period": "month", "limit": 100_000_000, "thresholds": [50, 80, 100]}
    assert stack.request("PUT", f"/budgets/{budget}", json=body).status_code in (200, 201)
    answer = dashboard.api(f"/budgets/{budget}")
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key()
    card = page.locator(f".budget[data-budget-id='{budget}']")
    card.wait_for()
    values = card.locator("data.money").evaluate_all("e => e.map((x) => x.value)")
    assert values[:3] == [str(answer["spent"]["value"]), str(answer["held"]["value"]), "100000000"]
    marks = card.locator(".budget-threshold").evaluate_all("e => e.map((x) => x.dataset.threshold)")
    assert marks == ["50", "80", "100"]
    assert dashboard.overflow() == 0


def test_given_a_billing_write_key_when_a_budget_is_saved_from_the_form_then_the_api_has_it(
    dashboard: Dashboard, stack: Stack
) -> None:
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key()
    page.wait_for_selector("#panel-budgets[data-writable='yes']")
    page.fill("#budget-id", "browser-form")
    page.select_option("#budget-period", "week")
    page.fill("#budget-limit", "250000000")
    page.fill("#budget-thresholds", "50, 90")
    page.click("#budget-save")
    page.wait_for_selector(".budget[data-budget-id='browser-form']")
    saved = dashboard.api("/budgets/browser-form")
    assert (saved["period"], saved["limit"]["value"], saved["thresholds"]) == ("week", 250_000_000, [50, 90])  # fmt: skip
    page.click(".budget-delete[data-budget-id='browser-form']")
    page.click(".budget-delete[data-budget-id='browser-form']")  # confirms
    page.wait_for_selector("#budgets-status:has-text('Deleted budget browser-form.')")
    assert stack.request("GET", "/budgets/browser-form").status_code == 404


def test_given_a_budget_the_api_refuses_when_saved_then_each_field_error_shows_by_its_field(
    dashboard: Dashboard, stack: Stack
) -> None:
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key()
    page.wait_for_selector("#panel-budgets[data-writable='yes']")
    dashboard.expect_failure("/budgets/*", 400)
    page.fill("#budget-id", "Bad.Id")
    page.fill("#budget-limit", "250000000")
    page.click("#budget-save")
    page.wait_for_selector("#budget-id-error:not([hidden])")
    assert page.inner_text("#budget-id-error") == "budgetID: must be 1 to 64 of a-z, 0-9, _ and -"
    page.fill("#budget-id", "browser-refused")
    page.fill("#budget-thresholds", "50, 2000")
    page.click("#budget-save")
    page.wait_for_selector("#budget-thresholds-error:not([hidden])")
    assert page.inner_text("#budget-thresholds-error") == (
        "thresholds.1: Input should be less than or equal to 1000"
    )
    assert stack.request("GET", "/budgets/browser-refused").status_code == 404


def test_given_a_key_without_billing_write_then_budgets_are_read_only_and_the_page_says_why(
    dashboard: Dashboard, stack: Stack
) -> None:
    assert stack.request("PUT", "/budgets/browser-read", json={"period": "day", "limit": 5}).status_code in (200, 201)  # fmt: skip
    reader = stack.new_key("team_local", "billing:read")
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key(reader)
    page.wait_for_selector("#panel-budgets[data-writable='no']")
    dashboard.wait_ready("budgets")
    page.locator(".budget[data-budget-id='browser-read']").wait_for()
    assert page.is_hidden("#budget-form")
    assert page.is_hidden(".budget-edit[data-budget-id='browser-read']")
    assert page.is_hidden(".budget-delete[data-budget-id='browser-read']")
    assert page.inner_text("#budgets-readonly") == (
        "Read-only: this API key lacks the billing:write scope, which creating, changing and "
        "deleting budgets need."
    )
    # Learnt from GET /keys/current: nothing was deleted or written to find out.
    assert [m for m, p in dashboard.sent if p.startswith("/budgets")] == ["GET"]


def test_given_a_key_without_billing_read_then_the_billing_tabs_say_so_and_ask_nothing(
    dashboard: Dashboard, stack: Stack
) -> None:
    author = stack.new_key("team_local", "apps:read apps:write")
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    # Another key, without billing:read: nothing the first key was shown stays in view.
    dashboard.use_key(author)
    page.wait_for_selector("#panel-spend[data-scope='missing']")
    before = len(dashboard.sent)
    assert page.is_visible("#spend-scope")
    assert page.is_hidden("#spend-chart") and page.is_hidden("#top-apps")
    page.click("#tab-budgets")
    page.wait_for_selector("#panel-budgets[data-scope='missing']")
    assert page.inner_text("#budgets-scope") == (
        "This API key lacks the billing:read scope, which the Budgets tab needs: ask your "
        "team's admin for a key with billing:read."
    )
    page.click("#tab-tasks")
    page.wait_for_selector("#panel-tasks[data-scope='missing']")
    assert page.inner_text("#tasks-scope").endswith(
        "A task can still be looked up by its id below."
    )
    assert page.is_visible("#task-id") and page.is_hidden("#tasks-table")
    page.click("#tab-usage")
    page.wait_for_selector("#panel-usage[data-scope='missing']")
    # Pricing needs apps:read only: it loads, and its preview says what it lacks.
    page.click("#tab-pricing")
    assert page.get_attribute("#panel-pricing", "data-scope") == "granted"
    _open_app(dashboard, "team_local/flux-dev")
    page.wait_for_selector("#preview-description:has-text('billing:read')")
    billing = ("/usage/breakdown", "/usage/summary", "/usage/tasks", "/usage/cel/evaluate", "/budgets")  # fmt: skip
    assert not [p for _, p in dashboard.sent[before:] if p.startswith(billing)]


def test_given_the_servers_rules_then_the_budget_form_offers_their_periods_and_actions(
    dashboard: Dashboard, stack: Stack
) -> None:
    served = requests.get(f"{stack.url}/dashboard/rules.json", timeout=30).json()["budget"]
    assert (served["periods"], served["actions"]) == (["day", "week", "month"], ["alert", "block"])
    page = dashboard.page

    # A server that adds a period the page has no words for: offered as its own value.
    def more(route: Any) -> None:
        rules = route.fetch().json()
        rules["budget"]["periods"].append("quarter")
        rules["budget"]["default_thresholds"] = [25, 75]
        route.fulfill(json=rules)

    page.route("**/dashboard/rules.json", more)
    dashboard.open("budgets")
    options = "(id) => Array.from(document.querySelectorAll(`#${id} option`), (o) => [o.value, o.textContent, o.selected])"  # fmt: skip
    assert page.evaluate(options, "budget-period") == [
        ["day", "Day", False],
        ["week", "Week (from Monday)", False],
        ["month", "Month", True],
        ["quarter", "quarter", False],
    ]
    assert page.evaluate(options, "budget-action") == [
        ["alert", "Alert", True],
        ["block", "Block new runs", False],
    ]
    assert page.get_attribute("#budget-thresholds", "placeholder") == "25, 75"
    assert page.inner_text("#budget-thresholds-help") == (
        "Up to 10 whole percentages of the limit, each 1 to 1000; empty: 25, 75."
    )
    # Spend's groupings, the key's prefix and microcents per dollar are the server's too.
    assert [o[0] for o in page.evaluate(options, "spend-group")] == served_groups(stack)
    assert page.get_attribute("#api-key", "placeholder") == "inf_…"
    assert page.inner_text("footer .per-dollar") == "100,000,000"


def served_groups(stack: Stack) -> list[str]:
    rules = requests.get(f"{stack.url}/dashboard/rules.json", timeout=30).json()
    return list(rules["spend_groups"])


OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]  # fmt: skip


def test_given_app_names_then_each_takes_a_colour_blind_safe_colour_and_no_chart_repeats_one(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    own = page.evaluate(
        "(names) => names.map((n) => window.dashboard.colourFor(n))", ["a/x", "a/y"]
    )
    assert all(colour in OKABE_ITO for colour in own)
    # Two names whose own colours clash: the first by name keeps its own, the later takes the
    # next free slot of the palette.
    names = [f"team_local/app-{n}" for n in range(40)]
    owns = page.evaluate("(names) => names.map((n) => window.dashboard.colourFor(n))", names)
    first, later = next(
        (a, b) for i, a in enumerate(names) for b in names[i + 1 :] if owns[names.index(a)] == owns[names.index(b)]
    )  # fmt: skip
    looks = page.evaluate("(names) => window.dashboard.seriesLooks(names)", [later, first])
    assert looks[first] == {"colour": owns[names.index(first)], "round": 0}
    slot = OKABE_ITO.index(owns[names.index(first)])
    assert looks[later] == {"colour": OKABE_ITO[(slot + 1) % 8], "round": 0}
    # Eight names: eight different colours, all plain; a ninth starts a hatched round.
    eight = page.evaluate("(names) => window.dashboard.seriesLooks(names)", names[:8])
    assert sorted(look["colour"] for look in eight.values()) == sorted(OKABE_ITO)
    assert {look["round"] for look in eight.values()} == {0}
    nine = page.evaluate("(names) => window.dashboard.seriesLooks(names)", names[:9])
    assert [look["round"] for look in nine.values()].count(1) == 1
    assert len({(look["colour"], look["round"]) for look in nine.values()}) == 9
    # The same names in another order: the same looks (nothing depends on rank).
    again = page.evaluate(
        "(names) => window.dashboard.seriesLooks(names)", list(reversed(names[:9]))
    )
    assert again == nine


def test_given_an_app_on_the_spend_chart_then_it_keeps_its_colour_in_the_table_grouped_by_fee(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.use_key()
    dashboard.wait_ready("spend")
    chart = page.evaluate(
        "() => Object.fromEntries(Chart.getChart('spend-chart').data.datasets.map((d) => [d.label, d.backgroundColor]))"
    )
    named = {label: colour for label, colour in chart.items() if not label.startswith("Other")}
    assert named and set(named.values()) <= set(OKABE_ITO)
    assert len(set(named.values())) == len(named)  # no two series alike
    swatches = "() => Object.fromEntries(Array.from(document.querySelectorAll('#top-apps tbody tr'), (r) => [r.cells[0].textContent, r.querySelector('.swatch').dataset.colour]))"  # fmt: skip
    assert {app: page.evaluate(swatches)[app] for app in named} == named
    # Another view: spend grouped by fee; the apps' table keeps each app's colour.
    with page.expect_request(lambda r: "group_by=fee" in r.url):
        page.select_option("#spend-group", "fee")
    dashboard.wait_ready("spend")
    assert {app: page.evaluate(swatches)[app] for app in named} == named


# ---- a walk of the page with the longest names the API allows and markup where it takes text,
# in a team of its own (team_walk), so the demo team's figures stay as the other tests expect.

WALK_TEAM = "team_walk"
# An app name at its longest: 128 characters of namespace, "/", 128 of name (257 in all), in
# another namespace than the key's; and one of the key's own namespace, as long as it may be.
FOREIGN_LONG_APP = "n" * 128 + "/" + "a" * 128
OWN_LONG_APP = f"{WALK_TEAM}/" + "l" * 128
LONG_BUDGET = "b" * 64  # a budget id at its longest
HOSTILE = "<img src=x onerror=alert(1)>"
_walk_teams: dict[str, str] = {}


def _walk_event(task_id: str, app: str, version: str = "1.0.0") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "source": "inference.tasks",
        "detail-type": "Task Completed",
        "detail": {
            "task_id": task_id, "team_id": WALK_TEAM, "app": app, "app_version": version,
            "function": "run", "status": "completed",
            "started_at": (now - timedelta(seconds=30)).isoformat(), "completed_at": now.isoformat(),
            "elapsed_ms": 30_000, "tier": "cloud",
            "resources": [{"name": "gpu0", "type": "gpu", "model": "m", "meter": "llm/micro"}],
        },
    }  # fmt: skip


def walk_team(stack: Stack) -> str:
    """A key of team_walk (every scope), once per stack: tasks of the two long apps and of an app
    whose version is markup, the 64-character budget (a 1-microcent limit, so it is overspent),
    and a draft whose description and upstream text are markup."""
    if stack.url not in _walk_teams:
        key = stack.new_key(WALK_TEAM, "*")
        events = [
            _walk_event("walk_foreign_long", FOREIGN_LONG_APP),
            _walk_event("walk_own_long", OWN_LONG_APP),
            _walk_event("walk_hostile", f"{WALK_TEAM}/hostile", version=HOSTILE),
        ]
        delivered = requests.post(f"{stack.url}/local/events", json=events, timeout=60)
        assert delivered.json()["dead_lettered"] == []
        budget = {"period": "month", "limit": 1, "thresholds": [50, 100, 1000], "action": "block"}
        assert stack.request("PUT", f"/budgets/{LONG_BUDGET}", key=key, json=budget).status_code in (200, 201)  # fmt: skip
        draft = {"prices": {"per_x": 100}, "description": json.dumps(HOSTILE), "upstream_pricing": HOSTILE}  # fmt: skip
        assert stack.request("PATCH", f"/apps/{WALK_TEAM}/hostile/pricing", key=key, json=draft).status_code == 200  # fmt: skip
        _walk_teams[stack.url] = key
    return _walk_teams[stack.url]


@BOTH
def test_given_the_longest_names_the_api_allows_when_each_tab_is_shown_then_the_page_is_no_wider_than_the_window(
    dashboard: Dashboard, stack: Stack, viewport: str
) -> None:
    """A 257-character app in the top-apps table made the page 2,600 px wide, a long app's
    versions line and a 64-character budget's Change and Delete widened it too (names may break
    anywhere now; a money figure stays whole)."""
    key = walk_team(stack)
    page = dashboard.page
    dashboard.open()
    dashboard.use_key(key)
    dashboard.wait_ready("spend")
    page.locator("#top-apps tbody tr", has_text="aaaa").wait_for()
    assert dashboard.overflow() == 0, "spend"
    # The name breaks, the figure beside it does not.
    figure = page.locator("#top-apps tbody tr", has_text="aaaa").locator("data.money")
    box = figure.bounding_box()
    assert box is not None and box["height"] < 30 and box["x"] + box["width"] <= page.viewport_size["width"]  # fmt: skip
    _shoot(dashboard, f"{viewport}-walk-spend")
    page.click("#tab-tasks")
    dashboard.wait_ready("tasks")
    assert dashboard.overflow() == 0, "tasks"
    page.click(".task-open[data-task-id='walk_foreign_long']")
    page.wait_for_selector("#task-dialog dl.cost")
    assert dashboard.overflow() == 0, "task dialog"
    assert page.evaluate("(() => { const d = document.querySelector('#task-dialog'); return d.scrollWidth <= d.clientWidth; })()")  # fmt: skip
    page.keyboard.press("Escape")
    page.click("#tab-pricing")
    _open_app(dashboard, OWN_LONG_APP)
    assert dashboard.overflow() == 0, "pricing"
    _shoot(dashboard, f"{viewport}-walk-pricing")
    page.click("#tab-budgets")
    page.locator(f".budget[data-budget-id='{LONG_BUDGET}']").wait_for()
    assert dashboard.overflow() == 0, "budgets"
    _shoot(dashboard, f"{viewport}-walk-budgets")


@BOTH
def test_given_a_budget_past_its_limit_then_its_remaining_reads_minus_dollars(
    dashboard: Dashboard, stack: Stack
) -> None:
    key = walk_team(stack)
    answer = stack.request("GET", f"/budgets/{LONG_BUDGET}", key=key).json()
    assert answer["remaining"]["dollars"].startswith("-")
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key(key)
    card = page.locator(f".budget[data-budget-id='{LONG_BUDGET}']")
    card.wait_for()
    remaining = card.locator("dt:text-is('Remaining') + dd data.money")
    assert remaining.inner_text() == "-$" + answer["remaining"]["dollars"][1:]
    assert remaining.get_attribute("value") == str(answer["remaining"]["value"])
    # The one formatter writes a sum the page makes the same way.
    assert page.evaluate("window.dashboard.dollarsText('-25000000')") == "-$0.25"


def test_given_apps_of_other_namespaces_when_the_pricing_tab_opens_then_it_opens_the_keys_own_app(
    dashboard: Dashboard, stack: Stack
) -> None:
    """The tab opened the first app by name, here another namespace's with no published
    pricing: a 404 on arrival. It opens the first of the key's own namespace."""
    key = walk_team(stack)
    page = dashboard.page
    dashboard.open("pricing")
    dashboard.use_key(key)
    page.wait_for_selector("#pricing-editor:not([hidden])")
    assert page.input_value("#pricing-app") == f"{WALK_TEAM}/hostile"
    assert page.is_hidden("#pricing-app-error")
    assert not [p for m, p in dashboard.sent if p.startswith("/apps/" + "n" * 128)]


@BOTH
def test_given_markup_in_an_app_version_and_a_pricing_text_then_it_shows_as_text(
    dashboard: Dashboard, stack: Stack
) -> None:
    key = walk_team(stack)
    page = dashboard.page
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    dashboard.open("tasks")
    dashboard.use_key(key)
    dashboard.wait_ready("tasks")
    page.click(".task-open[data-task-id='walk_hostile']")
    page.wait_for_selector("#task-dialog dl.cost")
    assert f"{WALK_TEAM}/hostile @ {HOSTILE}" in page.inner_text("#task-dialog")
    page.keyboard.press("Escape")
    page.click("#tab-pricing")
    _open_app(dashboard, f"{WALK_TEAM}/hostile")
    page.wait_for_selector("#preview-description:has-text('Description')")
    assert page.inner_text("#preview-description") == f"Description: {HOSTILE}"
    assert page.input_value("#f-upstream_pricing") == HOSTILE
    assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
    assert alerts == []


@BOTH
def test_given_the_budgets_tab_seen_when_a_budget_is_made_through_the_api_then_showing_the_tab_again_lists_it(
    dashboard: Dashboard, stack: Stack, viewport: str
) -> None:
    """The tab loaded once and kept that list: a budget made through the API (or by another
    admin) showed only after a reload of the page. Shown again, the tab asks again."""
    budget = f"browser-later-{viewport}"
    page = dashboard.page
    dashboard.open("budgets")
    dashboard.use_key()
    dashboard.wait_ready("budgets")
    assert page.locator(f".budget[data-budget-id='{budget}']").count() == 0
    body = {"period": "week", "limit": 123_456_789}
    assert stack.request("PUT", f"/budgets/{budget}", json=body).status_code in (200, 201)
    page.click("#tab-spend")
    page.click("#tab-budgets")
    card = page.locator(f".budget[data-budget-id='{budget}']")
    card.wait_for()
    assert card.locator("dt:text-is('Limit') + dd data.money").get_attribute("value") == "123456789"
    assert stack.request("DELETE", f"/budgets/{budget}").status_code in (200, 204)
    page.click("#budgets-refresh")
    card.wait_for(state="detached")


@BOTH
def test_given_totals_near_int64_then_the_cards_and_the_apps_table_stay_inside_the_window(
    dashboard: Dashboard,
) -> None:
    """On a phone two cards share a row; a total of $92233720368.54775807 spilled 104 px past
    the screen. A card is never narrower than its figure now: that one takes a row of its own."""
    most = 2**63 - 1

    def huge(route: Any) -> None:
        answer = route.fetch()
        data = json.loads(answer.text())
        data["total_cost"], data["refunded_cost"] = most, most - 1
        for row in data["per_model"]:
            row["cost"] = most // 3
        route.fulfill(response=answer, body=json.dumps(data))

    page = dashboard.page
    dashboard.open()
    page.route("**/usage/breakdown*", huge)
    dashboard.use_key()
    dashboard.wait_ready("spend")
    assert page.inner_text("#spend-total") == "$92233720368.54775807"
    assert dashboard.overflow() == 0
    for card in page.locator(".card").all():
        assert card.evaluate("(e) => e.scrollWidth <= e.clientWidth")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_given_a_phone_when_each_tab_is_chosen_then_the_tabs_stay_in_one_row(
    dashboard: Dashboard,
) -> None:
    """With Tasks or Pricing chosen (a bold, wider label) Budgets wrapped to a second row, and
    back when Spend was chosen: the tabs moved under the finger."""
    page = dashboard.page
    dashboard.open()
    for tab in TABS:
        page.click(f"#tab-{tab}")
        tops = page.evaluate(
            "Array.from(document.querySelectorAll('[role=tab]'), (t) => Math.round(t.getBoundingClientRect().top))"
        )
        assert len(set(tops)) == 1, tab
        assert dashboard.overflow() == 0


@BOTH
def test_given_a_257_character_app_then_its_legend_entry_is_shortened_in_the_middle_and_stays_on_the_chart(
    dashboard: Dashboard, stack: Stack
) -> None:
    key = walk_team(stack)
    page = dashboard.page
    dashboard.open()
    dashboard.use_key(key)
    dashboard.wait_ready("spend")
    legend = page.evaluate(
        """() => { const chart = Chart.getChart('spend-chart');
                   return { width: chart.width, items: chart.legend.legendItems.map((i) => i.text),
                            boxes: chart.legend.legendHitBoxes.map((b) => [b.left, b.left + b.width]) }; }"""
    )
    assert "n" * 19 + "…" + "a" * 19 in legend["items"]
    assert all(left >= 0 and right <= legend["width"] for left, right in legend["boxes"])
    # The series keeps its whole name: the tooltip and the table give it.
    assert FOREIGN_LONG_APP in [series["label"] for series in chart_series(dashboard)]
