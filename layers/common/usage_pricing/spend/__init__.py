"""What a team spent, read from the aggregates and records: the spend query, the breakdown, the
usage summary, the task list, CSV exports and the costs feed. Never loads a CEL engine.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
