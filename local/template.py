"""Reads template.yaml: tables, functions with their resolved environment, routes, authorizer.
The one place tests and the local stack learn the deployment's shape from."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic tags (!Ref, !GetAtt, !Sub, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # /usage/tasks/{taskID}/cost, or $default
    function: str  # logical id
    authorized: bool

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.path == "$default" or (self.method not in ("ANY", method)):
            return None
        parts = re.split(r"\{(\w+)\+?\}", self.path)
        # split alternates literal text and parameter names: escape the one, capture the other
        pattern = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout_seconds: int = 3  # Lambda's default


@dataclass(frozen=True)
class AuthorizerSpec:
    function: str
    identity_headers: tuple[str, ...]
    ttl_seconds: int


# A Secrets Manager dynamic reference to a secret of the template ({{resolve:secretsmanager:
# <logical id>:SecretString}}, after !Sub has put the secret's Ref in it).
_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(\w+)(?::SecretString)?\}\}")


class Template:
    def __init__(
        self,
        document: dict[str, Any],
        refs: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.document = document
        self.refs = dict(refs or {})
        # One generated value per AWS::SecretsManager::Secret, shared with every template derived
        # by with_refs: the local stack's and the tests' stand-in for GenerateSecretString.
        self.secrets = secrets if secrets is not None else {}
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})
        self.parameters: dict[str, dict[str, Any]] = document.get("Parameters", {})

    def resolve(self, value: Any) -> Any:
        """Intrinsics as the local stack sees them: a table's Ref is its logical id (tables are
        created under that name), a parameter's Ref its default."""
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                if arg in self.refs:
                    return self.refs[arg]
                if arg in self.parameters:
                    return str(self.parameters[arg].get("Default", ""))
                return arg
            if name == "Fn::GetAtt":
                return f"arn:aws:local:::{arg[0]}"
            if name == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                text = re.sub(
                    r"\$\{([^}.]+)[^}]*\}", lambda m: self.resolve({"Ref": m.group(1)}), text
                )
                return _SECRET_REFERENCE.sub(lambda m: self.secret(m.group(1)), text)
        return value

    def secret(self, logical_id: str) -> str:
        """The value of the template's secret `logical_id`, generated on first use as its
        GenerateSecretString would be (fresh per process: no value is in the source)."""
        resource = self.resources.get(logical_id) or {}
        if resource.get("Type") != "AWS::SecretsManager::Secret":
            raise KeyError(f"{logical_id} is no AWS::SecretsManager::Secret of the template")
        if logical_id not in self.secrets:
            generate = resource.get("Properties", {}).get("GenerateSecretString", {})
            length = int(generate.get("PasswordLength", 32))
            self.secrets[logical_id] = secrets.token_urlsafe(length)[:length]
        return self.secrets[logical_id]

    def with_refs(self, refs: dict[str, str]) -> Template:
        """The same template with some Refs resolved to local values (e.g. queue URLs)."""
        return Template(self.document, {**self.refs, **refs}, self.secrets)

    def queues(self) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.of_type("AWS::SQS::Queue").items()}

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    def tables(self) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.of_type("AWS::DynamoDB::Table").items()}

    def functions(self) -> dict[str, FunctionSpec]:
        globals_env = (
            self.document.get("Globals", {})
            .get("Function", {})
            .get("Environment", {})
            .get("Variables", {})
        )
        default_timeout = self.document.get("Globals", {}).get("Function", {}).get("Timeout", 3)
        specs = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=ROOT / props["CodeUri"],
                handler=props["Handler"],
                environment={k: str(self.resolve(v)) for k, v in env.items()},
                events=props.get("Events", {}),
                timeout_seconds=int(props.get("Timeout", default_timeout)),
            )
        return specs

    def routes(self) -> list[Route]:
        routes = []
        for spec in self.functions().values():
            for event in spec.events.values():
                if event.get("Type") != "HttpApi":
                    continue
                props = event.get("Properties", {})
                auth = props.get("Auth", {}).get("Authorizer")
                routes.append(
                    Route(
                        method=str(props.get("Method", "ANY")).upper(),
                        path=str(props.get("Path", "$default")),
                        function=spec.logical_id,
                        authorized=auth != "NONE",
                    )
                )
        return routes

    def authorizer(self) -> AuthorizerSpec | None:
        for api in self.of_type("AWS::Serverless::HttpApi").values():
            auth = api.get("Properties", {}).get("Auth", {})
            default = auth.get("DefaultAuthorizer")
            if not default:
                continue
            config = auth["Authorizers"][default]
            identity = config.get("Identity", {})
            return AuthorizerSpec(
                function=config["FunctionArn"]["Fn::GetAtt"][0],
                identity_headers=tuple(h.lower() for h in identity.get("Headers", [])),
                ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
            )
        return None


@cache
def load_template(path: Path = TEMPLATE) -> Template:
    return Template(yaml.load(path.read_text(), Loader=_CfnLoader))


def create_tables(client: Any, template: Template | None = None) -> list[str]:
    """Create every table of template.yaml (named by logical id) on the given DynamoDB client."""
    template = template or load_template()
    created = []
    existing = set(client.list_tables().get("TableNames", []))
    for name, props in template.tables().items():
        if name in existing:
            continue
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        client.create_table(**request)
        created.append(name)
    return created


def create_queues(client: Any, template: Template | None = None) -> dict[str, str]:
    """Create every SQS queue of template.yaml (named by logical id); returns logical id → URL,
    which is what a queue's Ref resolves to."""
    template = template or load_template()
    return {name: client.create_queue(QueueName=name)["QueueUrl"] for name in template.queues()}
