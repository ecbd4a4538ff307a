"""DynamoDB repositories, one per table concern, each with its table injected.

Loaded on first use (PEP 562), so importing one repository module does not import the others."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usage_pricing.storage.api_keys import ApiKey, ApiKeyRepository
    from usage_pricing.storage.dynamo import translate_client_error

__all__ = ["ApiKey", "ApiKeyRepository", "translate_client_error"]

_MODULE_OF = {
    "ApiKey": "api_keys",
    "ApiKeyRepository": "api_keys",
    "translate_client_error": "dynamo",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
