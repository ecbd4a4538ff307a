"""CEL engines behind one interface, the helpers they share and the guard in front of both."""

from usage_pricing.pricing.cel.declarations import FEE_SCOPES, FEE_VARIABLES, Scope, variables_for
from usage_pricing.pricing.cel.engine import CelEngine
from usage_pricing.pricing.cel.guard import check_formula
from usage_pricing.pricing.cel.helpers import HELPERS, HelperError


def new_engine(name: str) -> CelEngine:
    """The engine named by configuration: "cel-expr" (default) or "cel-python"."""
    if name == "cel-expr":
        # Imported on demand: a deployment loads only the engine it runs.
        from usage_pricing.pricing.cel.cel_expr import CelExprEngine  # noqa: PLC0415

        return CelExprEngine()
    if name == "cel-python":
        from usage_pricing.pricing.cel.cel_python import CelPythonEngine  # noqa: PLC0415

        return CelPythonEngine()
    raise ValueError(f"unknown CEL engine {name!r}; expected 'cel-expr' or 'cel-python'")


__all__ = [
    "FEE_SCOPES",
    "FEE_VARIABLES",
    "HELPERS",
    "CelEngine",
    "HelperError",
    "Scope",
    "check_formula",
    "new_engine",
    "variables_for",
]
