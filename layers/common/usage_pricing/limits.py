"""Limits on untrusted input (SPEC §9). One place, so validation, the engines and tests agree."""

MAX_BODY_BYTES = 256 * 1024
# A task event as billing receives it (EventBridge's limit on an event): what bounds a billing
# record, which keeps the event's usage, under DynamoDB's 400 KB item limit.
MAX_EVENT_BYTES = 256 * 1024
MAX_FORMULA_BYTES = 4 * 1024
MAX_META_ITEMS = 1_000
MAX_PRICES = 200
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
