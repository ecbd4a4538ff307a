"""Loads the real handlers the way Lambda would: one module per function, imported once with that
function's environment from template.yaml, invoked one event at a time (a Lambda container runs
one event at a time; Powertools' resolver keeps per-request state on module globals)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .template import FunctionSpec, Template


@dataclass
class LocalContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local"
    timeout_seconds: int = 10  # the function's Timeout in template.yaml
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """As Lambda counts it: the function's timeout less the time since the invocation began
        (the local stack does not stop a handler that runs over; the handlers stop themselves)."""
        elapsed_ms = int((time.monotonic() - self.started) * 1000)
        return max(0, self.timeout_seconds * 1000 - elapsed_ms)


class LocalFunction:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        with self._lock:
            if self._module is None:
                self._module = _import_with_env(self.spec)
            return self._module

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = getattr(self.module, self.spec.handler.rsplit(".", 1)[1])
        with self._lock:
            context = LocalContext(
                self.spec.logical_id, str(uuid.uuid4()), timeout_seconds=self.spec.timeout_seconds
            )
            return handler(event, context)


def import_handler(path: Path, module_name: str, environment: dict[str, str]) -> ModuleType:
    """Import a handler file fresh, as a cold start does, with `environment` set while its
    module-level code reads configuration (and restored afterwards)."""
    saved = {k: os.environ.get(k) for k in environment}
    os.environ.update(environment)
    try:
        sys.modules.pop(module_name, None)
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        assert loader_spec and loader_spec.loader
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _import_with_env(spec: FunctionSpec) -> ModuleType:
    module_file, _ = spec.handler.rsplit(".", 1)
    return import_handler(
        spec.code_dir / f"{module_file}.py", f"local_function_{spec.logical_id}", spec.environment
    )


def load_functions(template: Template) -> dict[str, LocalFunction]:
    return {logical_id: LocalFunction(spec) for logical_id, spec in template.functions().items()}
