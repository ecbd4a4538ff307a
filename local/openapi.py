"""One OpenAPI document for the whole API, generated from the handlers' own Powertools resolvers
(and so from the same pydantic models they validate with), plus the shared conventions: bearer
keys, the X-API-Version header and problem+json errors."""

from __future__ import annotations

from typing import Any

from .functions import LocalFunction
from .template import Template

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
ERROR_STATUSES = {
    "400": "Invalid request (problem+json naming the field)",
    "401": "Missing, malformed, unknown or revoked API key",
    "403": "The API key lacks the route's scope",
    "404": "Not found",
    "413": "Request body over 256 KB",
    "415": "Request body not JSON",
    "503": "Storage unavailable (with Retry-After when a retry may succeed)",
}


def build_openapi(template: Template, functions: dict[str, LocalFunction]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "usage-pricing",
            "version": "2",
            "description": "Prices AI-app runs from reported usage; money in integer microcents.",
        },
        "paths": {},
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "inf_…"}
            },
        },
        "security": [{"apiKey": []}],
    }
    http_functions = sorted({r.function for r in template.routes() if r.path != "$default"})
    for logical_id in http_functions:
        api = functions[logical_id].module.app
        resolver = api.resolver
        schema = resolver.get_openapi_schema(title="usage-pricing", version="2").model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                route = api.routes.get(f"{method.upper()} {path}")
                if route is not None:
                    operation["security"] = security_of(route.scopes, public=route.public)
            document["paths"].setdefault(path, {}).update(item)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    for item in document["paths"].values():
        for operation in item.values():
            _add_conventions(operation)
    return document


def security_of(scopes: tuple[str, ...], *, public: bool = False) -> list[dict[str, list[str]]]:
    """A route's scopes as OpenAPI security: one requirement per scope, since any one of them
    opens the route (requirements in the list are alternatives); a public route needs none."""
    return [] if public else [{"apiKey": [scope]} for scope in scopes]


def _add_conventions(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(
        {
            "name": "X-API-Version",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "enum": ["2"], "default": "2"},
        }
    )
    responses = operation.setdefault("responses", {})
    if responses.get("422", {}).get("description") == "Validation Error":
        responses.pop("422")  # Powertools' default; this API answers validation errors with 400
    for status, description in ERROR_STATUSES.items():
        responses.setdefault(
            status,
            {
                "description": description,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        )
