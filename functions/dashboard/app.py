"""GET /dashboard — the spend dashboard: one page, its scripts and styles, all from this bundle.

The page is public (the route has no authorizer): it holds no data. The API key is typed into the
page, kept in the browser's sessionStorage, and sent by the page's own calls to the data routes,
which check it as for any client. Every response carries a Content-Security-Policy that allows
scripts, styles and requests from this origin only, so nothing loads from a CDN."""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache, cached_property
from pathlib import Path
from typing import Any, get_args

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import NotFoundError
from usage_pricing.controls.choices import (
    DEFAULT_ACTION,
    DEFAULT_THRESHOLDS,
    MAX_THRESHOLD_PERCENT,
    MAX_THRESHOLDS,
    BudgetAction,
    Period,
)
from usage_pricing.core.fees import COMPONENTS, Default
from usage_pricing.core.limits import MAX_PRICE_NAME, MAX_PRICES
from usage_pricing.core.money import MICROCENTS_PER_DOLLAR
from usage_pricing.core.observability import logged_http_handler
from usage_pricing.core.windows import MAX_BUCKETS, RANGES, STEPS, _zone_names
from usage_pricing.edge.http import Api
from usage_pricing.edge.keys import KEY_PREFIX
from usage_pricing.spend.params import (
    DEFAULT_LIMIT,
    MAX_APP_FILTERS,
    MAX_LIMIT,
    SpendGroup,
    TaskStatus,
)

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # The page is small and changes with each deploy: revalidate every time (ETag → 304).
    "Cache-Control": "no-cache",
}
PAGE = "index.html"


class Asset:
    """A file as served: its text, its ETag, and its gzip form (made once, when first asked for:
    compressing at import would slow every cold start by more than the rest of the import)."""

    def __init__(self, body: str, suffix: str) -> None:
        self.body = body
        self.content_type = CONTENT_TYPES[suffix]
        self.etag = '"' + hashlib.sha256(self.body.encode()).hexdigest()[:32] + '"'

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body.encode(), compresslevel=9, mtime=0)


# Everything servable, read once at cold start; a request can name only these (no file system
# path is ever built from a request).
ASSETS = {
    path.name: Asset(path.read_text(encoding="utf-8"), path.suffix)
    for path in sorted(STATIC.iterdir())
    if path.is_file() and path.suffix in CONTENT_TYPES
}


def rules() -> dict[str, Any]:
    """The server's rules the page needs, from the layer's own constants, so the page never
    spells one itself: the fee components and their formulas, the windows' ranges and
    bucket sizes, the time zones a window takes, what spend groups by (the first is the
    default), the list limits, the budgets' periods, actions and thresholds, how money is
    counted, and how a key starts. Choices validated by a Literal are listed from it (get_args):
    the page labels them in its own words and shows a value it has no words for as it is.

    Only light layer modules are read (no pricing engine, no storage): the dashboard's cold
    start stays small (tests/unit/test_cold_import.py). Rules that live in modules owned by
    other handlers (the backtest's default window, the scheduled-publish lead time) are not
    here: the page always sends its own window and shows the server's 400 for a too-early
    effective_at beside the field."""
    return {
        "fee_components": [
            {
                "name": fee.name,
                "field": fee.field,
                "expression": fee.expression,
                "default": fee.default.value,
                "description": fee.description,
                "is_total": fee.default is Default.SUM,
            }
            for fee in COMPONENTS
        ],
        "ranges": list(RANGES),
        "buckets": list(STEPS),
        "max_buckets": MAX_BUCKETS,
        "time_zones": sorted(_zone_names()),
        "max_app_filters": MAX_APP_FILTERS,
        "task_page": {"default": DEFAULT_LIMIT, "max": MAX_LIMIT},
        "task_statuses": list(get_args(TaskStatus)),
        "spend_groups": list(get_args(SpendGroup)),
        "budget": {
            "periods": list(get_args(Period)),
            "actions": list(get_args(BudgetAction)),
            "default_action": DEFAULT_ACTION,
            "default_thresholds": list(DEFAULT_THRESHOLDS),
            "max_thresholds": MAX_THRESHOLDS,
            "max_threshold_percent": MAX_THRESHOLD_PERCENT,
        },
        "max_prices": MAX_PRICES,
        "max_price_name": MAX_PRICE_NAME,
        "money": {"microcents_per_dollar": MICROCENTS_PER_DOLLAR},
        "key_prefix": KEY_PREFIX,
    }


# Served as /dashboard/rules.json (the page's only route is /dashboard/{asset}: no new route).
# Built on its first request, not at import: listing the zone database walks the file system,
# which a cold start that serves only the page should not pay for.
RULES = "rules.json"


@cache
def rules_asset() -> Asset:
    return Asset(json.dumps(rules(), separators=(",", ":"), sort_keys=True), ".json")


app = Api()

HTML_RESPONSE = {
    200: {
        "description": "The dashboard page (with an ETag: If-None-Match answers 304)",
        "content": {"text/html": {"schema": {}}},
    },
}
ASSET_RESPONSE = {
    200: {
        "description": "A script, style sheet or license file of the page, or the server rules it "
        "shows (rules.json); ETag as the page",
        "content": {
            "text/javascript": {"schema": {}},
            "text/css": {"schema": {}},
            "text/markdown": {"schema": {}},
            "application/json": {"schema": {}},
        },
    },
}


def _send(asset: Asset) -> Response[Any]:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    request = app.resolver.current_event.headers
    match = request.get("if-none-match") or ""
    if asset.etag in (tag.strip() for tag in match.split(",")):
        return Response(status_code=304, headers=headers, body=None)
    accepted = (request.get("accept-encoding") or "").lower()
    # bytes: the resolver sends them base64-encoded, as API Gateway wants. Not for JSON (the
    # rules): the resolver would serialize a JSON response's bytes again; they are small.
    if "gzip" in accepted and not asset.content_type.startswith("application/json"):
        headers["Content-Encoding"] = "gzip"
        body: str | bytes = asset.gzipped
    else:
        body = asset.body
    return Response(status_code=200, content_type=asset.content_type, headers=headers, body=body)


@app.public_get("/dashboard", responses=HTML_RESPONSE, enable_validation=False)
def page() -> Response[Any]:
    return _send(ASSETS[PAGE])


@app.public_get("/dashboard/{asset}", responses=ASSET_RESPONSE, enable_validation=False)
def asset(asset: str) -> Response[Any]:
    found = rules_asset() if asset == RULES else ASSETS.get(asset)
    if found is None or asset == PAGE:
        raise NotFoundError(f"no dashboard asset {asset}")
    return _send(found)


@logged_http_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Both routes are declared public: the version and size checks apply, no caller is needed
    # (template.yaml gives them no authorizer); the data the page shows comes from the
    # authorized routes, called with the key typed into the page.
    return app.handle(event, context)
