"""What was charged: billing records, charges, the billing consumer and the audit.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
