"""The pricing helper functions (docs/pricing.md), written once over plain Python values.

Each engine registers these same implementations from HELPERS: cel-expr-python dispatches on the
declared overloads natively, cel-python goes through `call_overloaded`, which applies the same
overload rules. Every helper is total: a bad argument raises HelperError, which both engines
turn into a CEL error value, never a crash."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from usage_pricing.core.money import fits_int64, kind_of, to_cents, to_dollars

Kind = str  # "int", "double", "string", "bool", "null", "list", "map", "dyn"
CONCRETE_KINDS: tuple[Kind, ...] = ("int", "double", "string", "bool", "null", "list", "map")


class HelperError(ValueError):
    pass


class Overload(NamedTuple):
    params: tuple[Kind, ...]
    result: Kind


class Helper(NamedTuple):
    name: str
    overloads: tuple[Overload, ...]
    impl: Callable[..., Any]


def call_overloaded(helper: Helper, args: tuple[Any, ...]) -> Any:
    kinds = tuple(kind_of(a) for a in args)
    for overload in helper.overloads:
        if len(overload.params) == len(kinds) and all(
            p in ("dyn", k) for p, k in zip(overload.params, kinds, strict=True)
        ):
            return helper.impl(*args)
    raise HelperError(f"no matching overload for {helper.name}({', '.join(kinds)})")


def _check_int64(value: int, name: str) -> int:
    if not fits_int64(value):
        raise HelperError(f"{name}(): result overflows int64")
    return value


def _items_of_type(items: Any, type_name: str, name: str) -> list[dict[str, Any]]:
    if not isinstance(items, list | tuple):
        raise HelperError(f"{name}() expects a list of meta items")
    selected = []
    for item in items:
        if not isinstance(item, dict):
            raise HelperError(f"{name}() expects a list of meta items, found {kind_of(item)}")
        if item.get("type") == type_name:
            selected.append(item)
    return selected


def _int_field(item: dict[str, Any], field: str, default: int, name: str) -> int:
    value = item.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HelperError(f"{name}(): {field} must be an int, got {kind_of(value)}")
    return value


def _number_field(item: dict[str, Any], field: str, name: str) -> float:
    value = item.get(field, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HelperError(f"{name}(): {field} must be a number, got {kind_of(value)}")
    return float(value)


def text_tokens(items: Any) -> int:
    found = _items_of_type(items, "text", "text_tokens")
    return _check_int64(
        sum(_int_field(i, "tokens", 0, "text_tokens") for i in found), "text_tokens"
    )


def image_count(items: Any) -> int:
    found = _items_of_type(items, "image", "image_count")
    return _check_int64(sum(_int_field(i, "count", 1, "image_count") for i in found), "image_count")


def video_seconds(items: Any) -> float:
    return math.fsum(
        _number_field(i, "seconds", "video_seconds")
        for i in _items_of_type(items, "video", "video_seconds")
    )


def audio_seconds(items: Any) -> float:
    return math.fsum(
        _number_field(i, "seconds", "audio_seconds")
        for i in _items_of_type(items, "audio", "audio_seconds")
    )


def count_type(items: Any, type_name: str) -> int:
    return len(_items_of_type(items, type_name, "count_type"))


def first(items: Any, type_name: str) -> Any:
    found = _items_of_type(items, type_name, "first")
    return found[0] if found else None


def megapixels(width: int, height: int) -> float:
    return width * height / 1e6


def pixels(width: int, height: int) -> int:
    return _check_int64(width * height, "pixels")


def resolution(width: int, height: int) -> str:
    shorter = min(width, height)
    for limit, tier in ((480, "480p"), (720, "720p"), (1080, "1080p"), (1440, "1440p")):
        if shorter <= limit:
            return tier
    return "4k"


def get(mapping: dict[str, Any], key: str, default: Any) -> Any:
    return mapping.get(key, default)


def get_extra(item: dict[str, Any], key: str, default: Any) -> Any:
    extra = item.get("extra")
    if extra is None:
        return default
    if not isinstance(extra, dict):
        raise HelperError(f"get_extra(): extra must be a map, got {kind_of(extra)}")
    return extra.get(key, default)


def _lookup_path(mapping: dict[str, Any], path: str) -> Any:
    current: Any = mapping
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def get_bool(mapping: dict[str, Any], path: str, default: bool) -> bool:
    # Typed: a value of another type at the path reads as absent, so a formula never
    # branches on a string "false".
    value = _lookup_path(mapping, path)
    return value if isinstance(value, bool) else default


def get_string(mapping: dict[str, Any], path: str, default: str) -> str:
    value = _lookup_path(mapping, path)
    return value if isinstance(value, str) else default


def _to_int(value: float, name: str, rounding: Callable[[float], int]) -> int:
    if not math.isfinite(value):
        raise HelperError(f"{name}(): {value} has no integer value")
    return _check_int64(rounding(value), name)


def ceil_(value: float) -> int:
    return _to_int(value, "ceil", math.ceil)


def floor_(value: float) -> int:
    return _to_int(value, "floor", math.floor)


def min_(a: Any, b: Any) -> Any:
    return a if a <= b else b


def max_(a: Any, b: Any) -> Any:
    return a if a >= b else b


def sum_(values: Any) -> Any:
    kinds = {kind_of(v) for v in values}
    if not kinds or kinds == {"int"}:
        return _check_int64(sum(values), "sum")
    if kinds == {"double"}:
        return math.fsum(values)
    raise HelperError(
        f"sum() needs a list of all ints or all doubles, got {', '.join(sorted(kinds))}"
    )


def _to_dollars(value: int) -> str:
    return to_dollars(value)


def _to_cents(value: int) -> float:
    return to_cents(value)


def _ov(params: str, result: Kind) -> Overload:
    return Overload(tuple(params.split(",")) if params else (), result)


HELPERS: tuple[Helper, ...] = (
    Helper("text_tokens", (_ov("list", "int"),), text_tokens),
    Helper("image_count", (_ov("list", "int"),), image_count),
    Helper("video_seconds", (_ov("list", "double"),), video_seconds),
    Helper("audio_seconds", (_ov("list", "double"),), audio_seconds),
    Helper("count_type", (_ov("list,string", "int"),), count_type),
    Helper("first", (_ov("list,string", "dyn"),), first),
    Helper("megapixels", (_ov("int,int", "double"),), megapixels),
    Helper("pixels", (_ov("int,int", "int"),), pixels),
    Helper("resolution", (_ov("int,int", "string"),), resolution),
    Helper("get", (_ov("map,string,dyn", "dyn"),), get),
    Helper("get_extra", (_ov("map,string,dyn", "dyn"),), get_extra),
    Helper("get_bool", (_ov("map,string,bool", "bool"),), get_bool),
    Helper("get_string", (_ov("map,string,string", "string"),), get_string),
    Helper("to_dollars", (_ov("int", "string"),), _to_dollars),
    Helper("to_cents", (_ov("int", "double"),), _to_cents),
    Helper("ceil", (_ov("double", "int"),), ceil_),
    Helper("floor", (_ov("double", "int"),), floor_),
    Helper("min", (_ov("int,int", "int"), _ov("double,double", "double")), min_),
    Helper("max", (_ov("int,int", "int"), _ov("double,double", "double")), max_),
    Helper("sum", (_ov("list", "dyn"),), sum_),
)
