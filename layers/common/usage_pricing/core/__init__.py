"""The floor every other package stands on: integer money, the fee table, input limits, typed
errors, the JSON parser for untrusted text, time windows and zones, signed cursors, callers and
scopes. Imports nothing of its siblings.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
