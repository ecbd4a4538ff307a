"""What apps and tasks report: output metadata, resource rows and meters, task lifecycle events.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
