"""The HTTP edge: routes and problem documents, the authorizer and API keys.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
