"""Spend controls (docs/spend-controls.md): budgets, threshold alerts recorded at the charge and
delivered through an outbox, and holds that a block budget cannot be overspent by."""
