"""Sizes of the values a formula names, for the work budget (usage_pricing.pricing.cel.budget):
1 unit per scalar, list or map, plus 1 per character of a string or map key. A task's values are
measured once (`DataSizes`) and shared by its formulas."""

import operator
from collections.abc import Mapping
from typing import Any


class Measure:
    # The longest list or map anywhere inside, itself included: what an expression that is not
    # a plain path (`task_inputs["l"]`, `get(task_inputs, "l", [])`, `dyn(x).l`) can iterate.
    __slots__ = (
        "deepest",
        "largest",
        "length",
        "units",
    )

    def __init__(self, units: int, length: int, largest: int, deepest: int = 0) -> None:
        self.units = units
        self.length = length
        self.largest = largest
        self.deepest = deepest


SCALAR = Measure(1, 0, 1)


class DataSizes:
    """Measures of one task's variables, each path measured at most once per task."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._variables = variables
        self._measured: dict[tuple[str, ...], Measure] = {}
        self._units: dict[tuple[str, ...], int] = {}

    def measure(self, path: tuple[str, ...]) -> Measure:
        found = self._measured.get(path)
        if found is None:
            found = self._measured[path] = self._measure_uncached(path)
        return found

    def units(self, path: tuple[str, ...]) -> int:
        """`measure(path).units`, without the lengths a comprehension's bound needs: the task's
        metadata lists are not walked item by item, only their `extra` maps."""
        found = self._units.get(path)
        if found is None:
            measured = self._measured.get(path)
            if measured is not None:
                found = measured.units
            elif path in _META_LISTS:
                found = _meta_list_units(self._variables.get(path[-1]) or [])
            else:
                found = self.measure(path).units
            self._units[path] = found
        return found

    def _measure_uncached(self, path: tuple[str, ...]) -> Measure:
        # The task's own metadata lists hold validated items of a known shape: bounded without
        # visiting every field (1,000 items would cost more than pricing them).
        if path in _META_LISTS:
            return _meta_list_measure(self._variables.get(path[-1]) or [])
        if path == ("output_meta",):
            lists = [self.measure(("inputs",)), self.measure(("outputs",))]
            return Measure(
                1 + len("inputs") + len("outputs") + 2 + sum(m.units for m in lists),
                2,
                max(m.units for m in lists),
                max(m.deepest for m in lists),
            )
        return _measure_value(self._resolve(path))

    def _resolve(self, path: tuple[str, ...]) -> Any:
        value: Any = self._variables.get(path[0])
        for name in path[1:]:
            if not isinstance(value, dict):
                return value  # a field of a non-map is an evaluation error; bound by the whole
            if name not in value:
                return None
            value = value[name]
        return value


# The most units a metadata item has without its `extra` map (the largest type, video, with every
# key and a 5-character resolution; numbers are one unit each).
_META_ITEM_UNITS = (
    1
    + sum(
        len(key) + 2
        for key in (
            "type",
            "width",
            "height",
            "resolution_mp",
            "resolution",
            "seconds",
            "fps",
            "extra",
        )
    )
    + len("video")
    + len("1440p")
)


_META_LISTS = frozenset(
    {("outputs",), ("inputs",), ("output_meta", "outputs"), ("output_meta", "inputs")}
)
_EXTRA = operator.itemgetter("extra")


def _meta_list_units(items: list[Any]) -> int:
    """`_meta_list_measure(items).units`. Every item of PricingInput.cel_variables has `extra`,
    most often empty: one C-level pass tells whether any map needs walking."""
    try:
        if not any(map(_EXTRA, items)):
            return 1 + len(items) * _META_ITEM_UNITS
    except (KeyError, TypeError):
        pass
    return _meta_list_measure(items).units


def _meta_list_measure(items: list[Any]) -> Measure:
    extras = [_walk(item["extra"]) for item in items if item.get("extra")]
    largest = _META_ITEM_UNITS + max((u for u, _ in extras), default=0)
    deepest = max([len(items), *(d for _, d in extras)])
    return Measure(
        1 + len(items) * _META_ITEM_UNITS + sum(u for u, _ in extras), len(items), largest, deepest
    )


def _measure_value(value: Any) -> Measure:
    if isinstance(value, str):
        return Measure(len(value) + 1, 0, len(value) + 1)
    if isinstance(value, list | tuple | dict):
        children = list(value.values()) if isinstance(value, dict) else list(value)
        walked = [_walk(v) for v in children]
        keys = sum(len(str(k)) + 1 for k in value) if isinstance(value, dict) else 0
        # A comprehension over a map binds its keys: the largest element is a key or a value.
        longest_key = (
            max((len(str(k)) + 1 for k in value), default=0) if isinstance(value, dict) else 0
        )
        return Measure(
            1 + keys + sum(u for u, _ in walked),
            len(children),
            max([longest_key, *(u for u, _ in walked)]),
            max([len(children), *(d for _, d in walked)]),
        )
    return SCALAR


def units(value: Any) -> int:
    """The size of a plain value in budget units, without recursion (data may nest 32 deep)."""
    return _walk(value)[0]


def _walk(value: Any) -> tuple[int, int]:
    """Units of a value and the length of the longest list or map inside it, iteratively."""
    total = longest = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += sum(len(str(k)) for k in item)
            longest = max(longest, len(item))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            longest = max(longest, len(item))
            stack.extend(item)
    return total, longest
