"""DynamoDB plumbing every repository shares (usage_pricing.storage.dynamo: the storage edge, its
errors and value conversion) and the spend aggregates' schema (usage_pricing.storage.aggregates).
The repositories live with their domains: ledger.repository, pricing.repository,
spend.task_index, edge.key_store.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
