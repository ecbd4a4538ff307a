"""Each route declares its scopes once, beside its handler (docs/api.md): the declarations held
against template.yaml's HttpApi events, function by function, and against what the resolver
would run."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from local.template import load_template
from tests.conftest import LambdaContext, load_handler
from tests.events import http_event
from usage_pricing.core.scopes import has_scope
from usage_pricing.edge.http import Api

TEMPLATE = load_template()
HTTP_FUNCTIONS = sorted(
    {r.function for r in TEMPLATE.routes() if r.path != "$default"}
)  # every function serving a concrete route


def handler_of(logical_id: str) -> ModuleType:
    spec = TEMPLATE.functions()[logical_id]
    return load_handler(spec.code_dir.name, spec.environment)


@pytest.fixture(scope="module")
def handlers() -> dict[str, ModuleType]:
    return {logical_id: handler_of(logical_id) for logical_id in HTTP_FUNCTIONS}


def test_every_template_route_is_declared_by_its_function_and_nothing_else(
    handlers: dict[str, ModuleType],
) -> None:
    """Given template.yaml's HttpApi events and each function's declarations, then they are the
    same set of route keys for every function: no route is served undeclared, and no
    declaration is unreachable (a misspelt path would show here as one of each)."""
    for logical_id, module in handlers.items():
        api = module.app
        assert isinstance(api, Api), f"{logical_id} does not declare its routes on an Api"
        in_template = {
            r.route_key
            for r in TEMPLATE.routes()
            if r.function == logical_id and r.path != "$default"
        }
        assert set(api.routes) == in_template, logical_id


def test_every_declaration_has_scopes_and_every_registered_route_a_declaration(
    handlers: dict[str, ModuleType],
) -> None:
    for logical_id, module in handlers.items():
        api: Api = module.app
        for route in api.routes.values():
            assert route.public or (route.scopes and all(route.scopes)), (logical_id, route.key)
        resolver_routes = {
            f"{r.method} {r.path}"
            for r in api.resolver._static_routes + api.resolver._dynamic_routes
        }
        assert resolver_routes == {f"{r.method} {r.rule}" for r in api.routes.values()}, logical_id


def test_the_declared_scopes_are_the_specs() -> None:
    """docs/api.md's route table; a change of scope is a change of contract."""
    declared = {
        key: route.scopes
        for logical_id in HTTP_FUNCTIONS
        for key, route in handler_of(logical_id).app.routes.items()
    }
    spec = {
        "POST /usage/cel/evaluate": ("billing:read",),
        "GET /keys/current": ("apps:read", "apps:write", "billing:read", "billing:write"),
        "GET /usage/breakdown": ("billing:read",),
        "GET /v1/organization/costs": ("billing:read",),
        "GET /usage/summary": ("billing:read",),
        "GET /usage/tasks/{taskID}/cost": ("apps:read", "billing:read"),
        "GET /apps/{namespace}/{name}/pricing": ("apps:read",),
        "PATCH /apps/{namespace}/{name}/pricing": ("apps:write",),
        "POST /apps/{namespace}/{name}/pricing/publish": ("apps:write",),
        "GET /apps/{namespace}/{name}/pricing/scheduled": ("apps:read",),
        "DELETE /apps/{namespace}/{name}/pricing/scheduled/{version}": ("apps:write",),
        "POST /apps/{namespace}/{name}/pricing/quote": ("apps:read",),
        "GET /dashboard": (),  # public: none to load (docs/dashboard.md)
        "GET /dashboard/{asset}": (),
    }
    assert {k: v for k, v in declared.items() if k in spec} == spec


def test_public_declarations_are_exactly_the_routes_the_gateway_serves_without_a_key(
    handlers: dict[str, ModuleType],
) -> None:
    """A route is public in the handler exactly when template.yaml gives it no authorizer, and
    the only public routes are the dashboard's page and files."""
    public = {
        key
        for module in handlers.values()
        for key, route in module.app.routes.items()
        if route.public
    }
    unauthorized = {r.route_key for r in TEMPLATE.routes() if not r.authorized}
    assert public == unauthorized == {"GET /dashboard", "GET /dashboard/{asset}"}


def route_event(route_key: str, scopes: str) -> dict[str, object]:
    path = route_key.split(" ", 1)[1]
    concrete = path.replace("{taskID}", "t-1").replace("{namespace}", "team_a")
    concrete = concrete.replace("{name}", "x")
    return http_event(route_key, concrete, scopes=scopes)


@pytest.mark.parametrize("scopes", ["", "nothing", "billing:admin", "apps:admin", "team_a", "read"])
def test_a_key_without_the_routes_scope_is_refused_on_every_route(
    handlers: dict[str, ModuleType], scopes: str
) -> None:
    """Given a key whose scopes grant none of a route's, when it calls any route, then 403."""
    for logical_id, module in handlers.items():
        for route in module.app.routes.values():
            if route.public:
                continue
            assert not any(has_scope(scopes.split(), s) for s in route.scopes)
            response = module.lambda_handler(route_event(route.key, scopes), LambdaContext())
            assert response["statusCode"] == 403, (logical_id, route.key, response)
            assert response["headers"]["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("logical_id", "route_key"),
    [
        ("PricingFunction", "GET /usage/breakdown"),  # another function's route
        ("PricingFunction", "GET /apps/{namespace}/{name}/pricing/"),  # a trailing slash
        ("TaskCostFunction", "GET /usage/tasks/{taskId}/cost"),  # the parameter's case
        ("EvaluateFunction", "POST /usage/cel/evaluate2"),
        ("BreakdownFunction", "GET /usage/breakdown/{any+}"),
    ],
)
def test_a_route_key_the_function_does_not_declare_is_refused_even_with_star(
    handlers: dict[str, ModuleType], logical_id: str, route_key: str
) -> None:
    """Given a gateway route wired to a function that does not declare it (the template and
    the handler disagree), when a key with scope * calls it, then it is refused (fail closed),
    never served with no scope check."""
    response = handlers[logical_id].lambda_handler(route_event(route_key, "*"), LambdaContext())
    assert response["statusCode"] == 403, response
    assert "declares no scope" in json.loads(response["body"])["detail"]
