"""Demo data for the local stack, produced through the real paths (never written directly)."""

from __future__ import annotations

from .stack import LocalApi


def load_demo(api: LocalApi) -> None:
    """Nothing to load until the billing pipeline exists: the evaluate endpoint needs no data."""
    del api
