"""The hostile corpus of the HTTP front door (bodies, drafts, media types and the storage edge),
as plain tables, so tests/integration/test_hostile_front_door.py (in-process handlers, moto)
and tests/e2e/test_hostile_front_door.py (the local stack over HTTP) run the same cases.

Every case is Given (the request) / Then (status, and the field a 4xx names)."""

from __future__ import annotations

from dataclasses import dataclass

INT64_MAX = 2**63 - 1
DEPTH = "nests deeper than 32 levels"
INT_RANGE = "integer out of range"
NOT_A_NUMBER = "NaN and Infinity are not JSON numbers"
FLOAT_RANGE = "number out of range"
LONE_SURROGATE = "string is not valid Unicode"
NUL_CHARACTER = "string holds a NUL character"

# The dev key's team on the local stack; in-process the same team calls with scope *.
TEAM = "team_local"
APP = "hostile"


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


@dataclass(frozen=True)
class BodyCase:
    """Given this body text on any route, then 400 naming `field` with a message starting
    `message`."""

    id: str
    body: str
    field: str
    message: str


HOSTILE_BODIES = [
    BodyCase(
        "2000-nested-in-task_inputs",
        '{"task_inputs": {"x": ' + nested(2000) + "}}",
        "task_inputs.x.0.0.0.0.0.0…",
        DEPTH,
    ),
    BodyCase("2000-open-brackets", "[" * 2000, "body.0.0.0.0.0.0.0…", DEPTH),
    BodyCase(
        "33-levels",
        '{"task_inputs": {"x": ' + nested(31) + "}}",
        "task_inputs.x.0.0.0.0.0.0…",
        DEPTH,
    ),
    BodyCase(
        "nested-objects-in-a-patch",
        '{"prices": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
        "prices.a.a.a.a.a.a.a…",
        DEPTH,
    ),
    BodyCase(
        "4301-digit-integer",
        '{"task_inputs": {"n": ' + "1" * 4301 + "}}",
        "task_inputs.n",
        INT_RANGE,
    ),
    BodyCase(
        "4301-digit-price",
        '{"pricing": {"prices": {"p": ' + "9" * 4301 + "}}}",
        "pricing.prices.p",
        INT_RANGE,
    ),
    BodyCase(
        "int64-max-plus-one",
        '{"usage_seconds": ' + str(INT64_MAX + 1) + "}",
        "usage_seconds",
        INT_RANGE,
    ),
    BodyCase(
        "huge-negative-token-count",
        '{"output_meta": {"inputs": [{"type": "text", "tokens": -' + "9" * 5000 + "}]}}",
        "output_meta.inputs.0.tokens",
        INT_RANGE,
    ),
    BodyCase("nan-in-task_inputs", '{"task_inputs": {"x": NaN}}', "task_inputs.x", NOT_A_NUMBER),
    BodyCase(
        "infinity-in-output_meta",
        '{"output_meta": {"outputs": [{"type": "raw", "cost": Infinity}]}}',
        "output_meta.outputs.0.cost",
        NOT_A_NUMBER,
    ),
    BodyCase(
        "minus-infinity-in-a-list",
        '{"task_inputs": {"xs": [1, -Infinity]}}',
        "task_inputs.xs.1",
        NOT_A_NUMBER,
    ),
    BodyCase("1e400", '{"task_inputs": {"x": 1e400}}', "task_inputs.x", FLOAT_RANGE),
    BodyCase(
        "lone-surrogate",
        '{"task_inputs": {"s": "\\ud800"}}',
        "task_inputs.s",
        LONE_SURROGATE,
    ),
    BodyCase(
        "nul-character",
        '{"task_inputs": {"s": "a\\u0000b"}}',
        "task_inputs.s",
        NUL_CHARACTER,
    ),
]

# Neighbours of the hostile bodies that must still be priced (evaluate answers 200).
ACCEPTED_EVALUATE_BODIES = {
    "32-levels": '{"pricing": {}, "task_inputs": {"x": ' + nested(30) + "}}",
    "int64-max": '{"pricing": {}, "task_inputs": {"n": ' + str(INT64_MAX) + "}}",
    "int64-min": '{"pricing": {}, "task_inputs": {"n": ' + str(-INT64_MAX - 1) + "}}",
    "largest-double": '{"pricing": {}, "task_inputs": {"x": 1.7976931348623157e308}}',
    "surrogate-pair": '{"pricing": {}, "task_inputs": {"s": "\\ud83d\\ude00"}}',
    "escaped-backslash-then-u0000": '{"pricing": {}, "task_inputs": {"s": "\\\\u0000"}}',
    "brackets-in-a-string": '{"pricing": {}, "task_inputs": {"s": "' + "[" * 5000 + '"}}',
}


def routes(team: str = TEAM, app: str = APP) -> list[tuple[str, str]]:
    """Every concrete route, as a client calls it."""
    return [
        ("POST", "/usage/cel/evaluate"),
        ("GET", "/usage/breakdown"),
        ("GET", "/usage/summary"),
        ("GET", "/usage/tasks/t-hostile/cost"),
        ("GET", f"/apps/{team}/{app}/pricing"),
        ("PATCH", f"/apps/{team}/{app}/pricing"),
        ("POST", f"/apps/{team}/{app}/pricing/publish"),
        ("POST", f"/apps/{team}/{app}/pricing/quote"),
        ("POST", f"/apps/{team}/{app}/pricing/backtest"),
        ("GET", f"/apps/{team}/{app}/pricing/scheduled"),
        ("DELETE", f"/apps/{team}/{app}/pricing/scheduled/1"),
        ("GET", "/usage/tasks"),
        ("GET", "/v1/organization/costs"),
        ("GET", "/keys/current"),
        ("GET", "/budgets"),
        ("GET", "/budgets/hostile"),
        ("PUT", "/budgets/hostile"),
        ("DELETE", "/budgets/hostile"),
        ("POST", "/usage/authorizations"),
        ("DELETE", "/usage/authorizations/t-hostile"),
    ]


BODY_ROUTES = [("POST", "/usage/cel/evaluate"), ("PATCH", f"/apps/{TEAM}/{APP}/pricing")]

# Media types are case-insensitive; JSON is application/json or application/<subtype>+json.
ACCEPTED_MEDIA_TYPES = [
    "APPLICATION/JSON",
    "Application/Json; Charset=UTF-8",
    "application/json;charset=utf-8",
    "application/problem+json",
    "APPLICATION/PROBLEM+JSON",
    "application/merge-patch+json",
]
REFUSED_MEDIA_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/json",
    "application/json; charset=latin-1",
    "application/jsonp",
]
# A body each body route accepts (evaluate prices it; PATCH saves a draft).
VALID_BODY = {
    "POST": '{"pricing": {"prices": {"p": 5}, "inference_expression": "prices.p"}}',
    "PATCH": '{"prices": {"p": 5}, "inference_expression": "prices.p"}',
}


@dataclass(frozen=True)
class DraftCase:
    """Given team_a's app with `state`, when `team` with `scopes` reads its pricing, then
    `status`, and the draft is shown only when `sees_draft`."""

    id: str
    state: str  # "draft-only" (never published) or "live-and-draft"
    team: str  # "owner" or "other"
    scopes: str
    status: int
    sees_draft: bool = False
    live_version: int | None = None


DRAFT_CASES = [
    DraftCase("owner-reads-own-draft", "draft-only", "owner", "apps:read", 200, True),
    DraftCase("owner-star-reads-own-draft", "draft-only", "owner", "*", 200, True),
    DraftCase("owner-reads-live-and-draft", "live-and-draft", "owner", "apps", 200, True, 1),
    DraftCase("other-team-apps-read-no-live", "draft-only", "other", "apps:read", 404),
    DraftCase("other-team-star-no-live", "draft-only", "other", "*", 404),
    DraftCase("other-team-sees-live-only", "live-and-draft", "other", "apps:read", 200, False, 1),
    DraftCase("other-team-star-sees-live-only", "live-and-draft", "other", "*", 200, False, 1),
    DraftCase("other-team-wrong-scope", "live-and-draft", "other", "apps:write", 403),
    DraftCase("owner-wrong-scope", "draft-only", "owner", "billing:read", 403),
]
# What only the draft holds: none of it may appear in an answer to anyone but the owner.
DRAFT_SECRET = "draft_only_price"
LIVE_PRICING = {"prices": {"per_image": 100}, "inference_expression": "prices.per_image"}
DRAFT_PRICING = {
    "prices": {DRAFT_SECRET: 777},
    "inference_expression": f"prices.{DRAFT_SECRET} * 2",
    "upstream_pricing": "secret upstream deal",
}
