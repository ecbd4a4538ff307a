"""GET /dashboard and its files, invoked in-process; the vendored chart library held to its pin.
The page itself is tested in a real browser in tests/browser."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from types import ModuleType
from typing import Any

import pytest

from local.template import load_template
from tests.conftest import ROOT, LambdaContext, load_handler
from tests.events import http_event

STATIC = ROOT / "functions" / "dashboard" / "static"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def handler() -> ModuleType:
    return load_handler("dashboard")


# What a browser sends for the page: no key, no API version, no JSON body.
BROWSER: dict[str, str | None] = {
    "authorization": None,
    "content-type": None,
    "x-api-version": None,
    "accept": "text/html",
}


def page_event(route_key: str, path: str, **headers: str) -> dict[str, Any]:
    """A browser's request on a public route: no authorizer context."""
    asset = path.removeprefix("/dashboard/") if path != "/dashboard" else None
    return http_event(
        route_key,
        path,
        team=None,
        headers={**BROWSER, **headers},
        path_parameters={"asset": asset} if asset is not None else None,
    )


def get(handler: ModuleType, path: str, **headers: str) -> dict[str, Any]:
    route_key = "GET /dashboard" if path == "/dashboard" else "GET /dashboard/{asset}"
    event = page_event(route_key, path, **headers)
    return handler.lambda_handler(event, LambdaContext())  # type: ignore[no-any-return]


def test_the_page_with_its_security_headers(handler: ModuleType) -> None:
    response = get(handler, "/dashboard")
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])


def test_every_file_the_page_names_is_served_from_the_bundle(handler: ModuleType) -> None:
    html = get(handler, "/dashboard")["body"]
    links = re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', html)
    assert {
        "/dashboard/dashboard.js",
        "/dashboard/chart.umd.min.js",
        "/dashboard/dashboard.css",
    } <= set(links)
    types = {".js": "text/javascript", ".css": "text/css", ".md": "text/markdown"}
    for link in links:
        response = get(handler, link)
        assert response["statusCode"] == 200, link
        name = link.rsplit("/", 1)[1]
        assert response["body"] == (STATIC / name).read_text(encoding="utf-8")
        assert response["headers"]["Content-Type"].startswith(types[name[name.rindex(".") :]])
        assert "Content-Security-Policy" in response["headers"]


def test_given_the_page_when_its_modules_are_followed_then_each_is_served_as_javascript(
    handler: ModuleType,
) -> None:
    """The page is ES modules (<script type="module">) importing each other by relative path:
    each resolves to /dashboard/<name>.js, which the one asset route serves (no new route)."""
    html = get(handler, "/dashboard")["body"]
    assert '<script type="module" src="/dashboard/dashboard.js"></script>' in html
    seen: set[str] = set()
    queue = ["dashboard.js"]
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        response = get(handler, f"/dashboard/{name}")
        assert response["statusCode"] == 200, name
        assert response["headers"]["Content-Type"] == "text/javascript; charset=utf-8", name
        assert "script-src 'self'" in response["headers"]["Content-Security-Policy"]
        imports = re.findall(r"^import [^;]*? from '\./([\w-]+\.js)';", response["body"], re.M)
        assert all("/" not in module for module in imports)
        queue += imports
    on_disk = {path.name for path in STATIC.glob("*.js")} - {"chart.umd.min.js"}
    assert seen == on_disk  # every module is reached from the page, none is left over


def test_given_the_rules_route_then_it_answers_the_layers_own_constants(
    handler: ModuleType,
) -> None:
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.core.fees import COMPONENTS
    from usage_pricing.core.limits import MAX_PRICE_NAME, MAX_PRICES
    from usage_pricing.core.money import MICROCENTS_PER_DOLLAR
    from usage_pricing.core.windows import MAX_BUCKETS, RANGES, STEPS, zone
    from usage_pricing.spend.params import DEFAULT_LIMIT, MAX_APP_FILTERS, MAX_LIMIT

    response = get(handler, "/dashboard/rules.json", **{"accept-encoding": "gzip"})
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert "Content-Security-Policy" in response["headers"]
    rules = json.loads(response["body"])
    assert [c["field"] for c in rules["fee_components"]] == [c.field for c in COMPONENTS]
    assert [c["expression"] for c in rules["fee_components"]] == [c.expression for c in COMPONENTS]
    assert [c["is_total"] for c in rules["fee_components"]] == [False, False, False, False, True]
    assert rules["ranges"] == list(RANGES) and rules["buckets"] == list(STEPS)
    assert rules["max_buckets"] == MAX_BUCKETS
    assert rules["task_page"] == {"default": DEFAULT_LIMIT, "max": MAX_LIMIT}
    assert rules["task_statuses"] == [
        "completed",
        "failed",
        "cancelled",
        "refunded",
        "needs_review",
    ]
    assert rules["spend_groups"] == ["app", "fee", "tier"]
    # The budget form's choices are the ones the API's budget body takes, defaults included.
    assert rules["budget"] == {
        "periods": ["day", "week", "month"],
        "actions": ["alert", "block"],
        "default_action": "alert",
        "default_thresholds": [50, 80, 100],
        "max_thresholds": 10,
        "max_threshold_percent": 1000,
    }
    for period in rules["budget"]["periods"]:
        for action in rules["budget"]["actions"]:
            body = BudgetRequest.model_validate({"period": period, "limit": 1, "action": action})
            assert (body.period, body.action) == (period, action)
    default = BudgetRequest.model_validate({"period": "day", "limit": 1})
    assert (default.action, default.thresholds) == ("alert", [50, 80, 100])
    assert (rules["max_app_filters"], rules["max_prices"]) == (MAX_APP_FILTERS, MAX_PRICES)
    assert rules["max_price_name"] == MAX_PRICE_NAME == 64
    assert rules["money"] == {"microcents_per_dollar": MICROCENTS_PER_DOLLAR}
    assert rules["key_prefix"] == "inf_"
    # Every zone offered is one a window takes (windows.zone raises for any other).
    assert "UTC" in rules["time_zones"] and "Asia/Kolkata" in rules["time_zones"]
    for name in rules["time_zones"]:
        zone(name)
    assert "localtime" not in rules["time_zones"]


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/nothing.js",
        "/dashboard/index.html",  # the page is served at /dashboard only
        "/dashboard/..%2Fapp.py",
        "/dashboard/VENDORED.sha256",
        "/dashboard/chart.umd.min.js.map",
    ],
)
def test_anything_else_is_a_404_problem(handler: ModuleType, path: str) -> None:
    response = get(handler, path)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == PROBLEM


def test_files_are_gzipped_for_clients_that_take_it(handler: ModuleType) -> None:
    response = get(handler, "/dashboard/chart.umd.min.js", **{"accept-encoding": "gzip, br"})
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert response["headers"]["Content-Encoding"] == "gzip"
    assert response["headers"]["Vary"] == "Accept-Encoding"
    body = gzip.decompress(base64.b64decode(response["body"]))
    assert body == (STATIC / "chart.umd.min.js").read_bytes()
    assert len(response["body"]) < len(body) / 2


def test_an_unchanged_file_is_a_304(handler: ModuleType) -> None:
    etag = get(handler, "/dashboard/dashboard.js")["headers"]["ETag"]
    response = get(handler, "/dashboard/dashboard.js", **{"if-none-match": f'"other", {etag}'})
    assert response["statusCode"] == 304
    assert not response["body"]
    assert get(handler, "/dashboard/dashboard.js", **{"if-none-match": '"x"'})["statusCode"] == 200


def test_it_needs_no_key_and_ignores_one(handler: ModuleType) -> None:
    assert get(handler, "/dashboard", authorization="Bearer inf_whatever")["statusCode"] == 200


def test_other_api_versions_are_400(handler: ModuleType) -> None:
    response = get(handler, "/dashboard", **{"x-api-version": "3"})
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"] == [
        {"field": "X-API-Version", "message": "must be 2 or absent"}
    ]


def test_reached_through_the_authorized_fallback_it_still_wants_a_key(handler: ModuleType) -> None:
    """Public is a property of the gateway's own route key, not of the path."""
    event = page_event("$default", "/dashboard")
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 401


def test_the_function_holds_no_data_access() -> None:
    props = load_template().document["Resources"]["DashboardFunction"]["Properties"]
    assert "Policies" not in props
    assert "Environment" not in props
    routes = [r for r in load_template().routes() if r.function == "DashboardFunction"]
    assert {(r.route_key, r.authorized) for r in routes} == {
        ("GET /dashboard", False),
        ("GET /dashboard/{asset}", False),
    }


# ---- the vendored charting library


def test_vendored_files_match_their_checksums() -> None:
    lines = (STATIC / "VENDORED.sha256").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        digest, name = line.split()
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_the_vendored_build_is_the_locked_version() -> None:
    package = json.loads((ROOT / "web" / "package.json").read_text())
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    pinned = package["dependencies"]["chart.js"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    locked = lock["packages"]["node_modules/chart.js"]
    assert locked["version"] == pinned and locked["integrity"].startswith("sha512-")
    banner = (STATIC / "chart.umd.min.js").read_text(encoding="utf-8")[:200]
    assert f"Chart.js v{pinned}" in banner
    assert "Released under the MIT License" in banner
    assert "MIT License" in (STATIC / "chart.js.LICENSE.md").read_text(encoding="utf-8")


def test_the_readme_shows_the_dashboard() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", readme)
    assert shots, "the README's dashboard section shows a screenshot"
    for shot in shots:
        data = (ROOT / shot).read_bytes()
        assert data.startswith(b"\x89PNG"), shot
