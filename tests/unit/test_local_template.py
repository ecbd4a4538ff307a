"""template.yaml as the local stack and the tests read it."""

from local.stack import AuthorizerCache
from local.template import Route, load_template


def test_every_function_has_code_and_a_sample_event() -> None:
    from tests.conftest import ROOT

    for spec in load_template().functions().values():
        assert (spec.code_dir / "app.py").is_file(), spec.logical_id
        assert (ROOT / "events" / f"{spec.code_dir.name}.json").is_file(), spec.logical_id


def test_runtime_and_architecture() -> None:
    function_globals = load_template().document["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]


def test_routes_and_authorizer() -> None:
    template = load_template()
    keys = {r.route_key for r in template.routes()}
    assert {"POST /usage/cel/evaluate", "$default"} <= keys
    authorizer = template.authorizer()
    assert authorizer is not None
    assert (authorizer.function, authorizer.identity_headers, authorizer.ttl_seconds) == (
        "AuthorizerFunction",
        ("authorization",),
        300,
    )


def test_function_environment_resolves_refs_locally() -> None:
    env = load_template().functions()["AuthorizerFunction"].environment
    assert env["API_KEYS_TABLE"] == "ApiKeysTable"
    assert env["CEL_ENGINE"] == "cel-expr"
    assert env["PLATFORM_INFERENCE_FEE"] == "0"


def test_route_matching_with_path_parameters() -> None:
    route = Route("GET", "/usage/tasks/{taskID}/cost", "F", True)
    assert route.match("GET", "/usage/tasks/t-1/cost") == {"taskID": "t-1"}
    assert route.match("POST", "/usage/tasks/t-1/cost") is None
    assert route.match("GET", "/usage/tasks/a/b/cost") is None
    assert Route("ANY", "/x", "F", True).match("DELETE", "/x") == {}


def test_authorizer_cache_expires() -> None:
    now = [100.0]
    cache = AuthorizerCache(300, clock=lambda: now[0])
    cache.put(("Bearer k",), {"isAuthorized": True})
    assert cache.get(("Bearer k",)) == {"isAuthorized": True}
    now[0] += 300
    assert cache.get(("Bearer k",)) is None


def test_given_the_billing_queue_then_billing_knows_its_max_receive_count() -> None:
    # Billing dead-letters a failing message itself, with its reason, on the last receive: the
    # count it waits for must be the queue's own.
    document = load_template().document
    redrive = document["Resources"]["BillingQueue"]["Properties"]["RedrivePolicy"]
    env = document["Resources"]["BillingFunction"]["Properties"]["Environment"]["Variables"]
    assert int(env["MAX_RECEIVE_COUNT"]) == int(redrive["maxReceiveCount"])


def test_given_the_cursor_secret_then_the_local_template_generates_it_for_the_functions_that_page() -> (
    None
):
    from local.template import Template

    template = load_template()
    functions = template.functions()
    secret = functions["TaskCostFunction"].environment["CURSOR_SECRET"]
    assert len(secret) == 64 and "resolve" not in secret
    # one value per template lineage (the stack's functions share it), none in another process
    assert (
        template.with_refs({}).functions()["PricingFunction"].environment["CURSOR_SECRET"] == secret
    )
    assert (
        Template(template.document).functions()["TaskCostFunction"].environment["CURSOR_SECRET"]
        != secret
    )
    holders = {name for name, spec in functions.items() if "CURSOR_SECRET" in spec.environment}
    assert holders == {"TaskCostFunction", "PricingFunction", "BreakdownFunction"}
