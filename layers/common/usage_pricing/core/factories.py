"""Default factories for model fields.

Pydantic inspects a field's default_factory to see whether it takes the validated data. For a
builtin such as `list` or `dict` that means parsing its text signature with `tokenize`, whose
regular expressions cost ~3 ms to compile: every cold start paid it (docs/operations.md). A Python
function's signature is read directly."""

from __future__ import annotations

from typing import Any


def empty_list() -> list[Any]:
    return []


def empty_dict() -> dict[str, Any]:
    return {}
