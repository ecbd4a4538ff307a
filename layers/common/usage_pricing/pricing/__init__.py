"""Prices as formulas: the AppPricing model and its evaluator, the CEL engines, the app pricing
store, previews and backtests.

Imports nothing: each module is imported by its full name (docs/architecture.md)."""
