"""What each formula can see (docs/pricing.md), in a small engine-neutral type notation that each
engine
translates: int, double, string, bool, null, dyn, list, map, list<map>, map<string,int>,
map<string,list<map>>.

A formula's scope is its fee component's name (usage_pricing.core.fees), or "description"."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from usage_pricing.core.fees import COMPONENTS, FEE_FIELDS

if TYPE_CHECKING:
    # mypy sees the one member layer code names; the fee scopes are Scope(component.name).
    class Scope(StrEnum):
        DESCRIPTION = "description"
else:
    Scope = StrEnum(
        "Scope",
        [*((fee.name.upper(), fee.name) for fee in COMPONENTS), ("DESCRIPTION", "description")],
        module=__name__,
    )

# The fee formulas' scopes in evaluation order, and the variables the fees are seen as.
FEE_SCOPES: tuple[Scope, ...] = tuple(Scope(fee.name) for fee in COMPONENTS)
# A fee formula sees the earlier fees under their record field names: the same tuple as
# fees.FEE_FIELDS, named here for what it is to CEL.
FEE_VARIABLES: tuple[str, ...] = FEE_FIELDS

TASK_VARIABLES: dict[str, str] = {
    "prices": "map<string,int>",
    "output_meta": "map<string,list<map>>",
    "inputs": "list<map>",
    "outputs": "list<map>",
    "task_inputs": "map",
    "resources": "list<map>",
    "usage_seconds": "int",
    "elapsed_seconds": "double",
    "elapsed_ms": "int",
}


def variables_for(scope: Scope) -> dict[str, str]:
    if scope is Scope.DESCRIPTION:
        return {"prices": "map<string,int>"}
    position = FEE_SCOPES.index(scope)
    return {**TASK_VARIABLES, **{name: "int" for name in FEE_VARIABLES[:position]}}
