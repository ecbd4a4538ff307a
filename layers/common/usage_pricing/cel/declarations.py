"""What each formula can see (SPEC §5), in a small engine-neutral type notation that each engine
translates: int, double, string, bool, null, dyn, list, map, list<map>, map<string,int>,
map<string,list<map>>."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    RESOURCE = "resource"
    INFERENCE = "inference"
    ROYALTY = "royalty"
    PARTNER = "partner"
    TOTAL = "total"
    DESCRIPTION = "description"


FEE_SCOPES: tuple[Scope, ...] = (
    Scope.RESOURCE,
    Scope.INFERENCE,
    Scope.ROYALTY,
    Scope.PARTNER,
    Scope.TOTAL,
)
FEE_VARIABLES = ("resource_fee", "inference_fee", "royalty_fee", "partner_fee")

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
