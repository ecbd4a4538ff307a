"""DynamoDB capacity arithmetic from its documented item-size rules, for the rows that state
write and read units."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

# A transactional write costs 2 write units per 1 KB (rounded up) of each item it writes.
TRANSACTIONAL_WCU_PER_KB = 2
# A Query costs 1 read unit per 4 KB (rounded up) of the items it returns, half that when
# eventually consistent (AggregateRepository does not ask for consistent reads).
READ_UNIT_BYTES = 4096


def attribute_size(value: Any) -> int:
    """Bytes DynamoDB counts for a value: strings by UTF-8 length, numbers one byte per two
    significant digits plus one, booleans and null one byte, lists and maps 3 bytes plus one
    byte and the size of each element (and of each map key)."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | Decimal):
        mantissa = str(abs(Decimal(value)).normalize()).split("E")[0]
        digits = mantissa.replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, list):
        return 3 + sum(1 + attribute_size(v) for v in value)
    if isinstance(value, set | frozenset):  # a string or number set: its members
        return sum(attribute_size(v) for v in value)
    if isinstance(value, dict):
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in value.items())
    raise TypeError(f"no DynamoDB size rule for {type(value).__name__}")


def item_size(attributes: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(v) for name, v in attributes.items())


def transactional_write_units(item_sizes: list[int]) -> int:
    return sum(TRANSACTIONAL_WCU_PER_KB * math.ceil(size / 1024) for size in item_sizes)


def query_read_units(returned_bytes: int, *, consistent: bool = False) -> float:
    units = math.ceil(returned_bytes / READ_UNIT_BYTES)
    return float(units) if consistent else units / 2
