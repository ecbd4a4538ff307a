"""Process-wide construction: configuration, request deadlines, wiring and observability.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
