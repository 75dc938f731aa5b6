"""DynamoDB's billing rules for one request: item sizes, the write units a write costs on its table and on
each global secondary index, and the read units of a read. Pure functions of items in DynamoDB's wire
format (`{"name": {"S": "..."}}`); the bench's meter (harness.Meter) feeds them the items the handlers
really wrote, read before and after each write.

The rules, as AWS documents them (bench/README.md cites the pages):

- item size: the sum of its attribute names' and values' lengths: strings and binaries their (UTF-8 / raw)
  bytes, numbers 1 byte per two significant digits + 1, booleans and nulls 1, lists and maps 3 bytes plus
  1 byte per element plus the elements (a map's elements with their names);
- a write costs ceil(size / 1 KB) units (at least 1) of the larger of the item before and after it, also
  when its condition fails (nothing is written then, and no index is touched); a transactional write costs
  twice that;
- each global secondary index whose entry changes costs ceil(entry size / 1 KB): an entry that appears or
  disappears is one write, a change of the entry's key a delete plus a put, a change of projected attributes
  one write (of the larger of the entry before and after, as for a table item); an entry that does not change
  costs nothing. The entry is the item's table key, the index key and the projected attributes. AWS adds a
  100-byte overhead per index entry for storage billing only; `entry_overhead` lets a caller add it anyway;
- a read costs ceil(size / 4 KB) units (at least 1): eventually consistent half, transactional double; a
  Query or Scan rounds the total size of the items it reads, a BatchGetItem each item.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_ENTRY_STORAGE_OVERHEAD = 100
"""Bytes AWS adds to each index entry (and item) for storage billing; not part of write units (bench/README.md)."""

Item = Mapping[str, Mapping[str, Any]]


def value_size(value: Mapping[str, Any]) -> int:
    """Size of one attribute value (without its name)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def number_size(text: str) -> int:
    """1 byte per two significant digits (leading and trailing zeroes trimmed) + 1 byte."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0].replace(".", "")
    digits = mantissa.strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def item_size(item: Item | None) -> int:
    """The item's size: its attribute names' UTF-8 bytes plus its values' sizes (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[str, ...]
    """The index's partition key and sort key (if any)."""
    projection: str = "ALL"
    """ALL, KEYS_ONLY or INCLUDE."""
    non_key_attributes: tuple[str, ...] = ()
    """INCLUDE's projected attributes."""


@dataclass(frozen=True)
class TableSpec:
    keys: tuple[str, ...]
    indexes: tuple[IndexSpec, ...] = ()

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableSpec:
        """From DescribeTable's `Table`: the indexes as the table really has them."""

        def keys(schema: Iterable[Mapping[str, str]]) -> tuple[str, ...]:
            return tuple(k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH"))

        return cls(
            keys(table["KeySchema"]),
            tuple(
                IndexSpec(
                    index["IndexName"],
                    keys(index["KeySchema"]),
                    index["Projection"]["ProjectionType"],
                    tuple(index["Projection"].get("NonKeyAttributes", ())),
                )
                for index in table.get("GlobalSecondaryIndexes", ())
            ),
        )


def index_entry(item: Item | None, table: TableSpec, index: IndexSpec) -> dict[str, Any] | None:
    """What `index` holds for `item`: None when the item lacks one of the index's key attributes (sparse)."""
    if not item or any(key not in item for key in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    kept = {*table.keys, *index.keys, *(index.non_key_attributes if index.projection == "INCLUDE" else ())}
    return {name: value for name, value in item.items() if name in kept}


def units(size: float, unit_bytes: int) -> int:
    """ceil(size / unit), at least 1."""
    return max(1, math.ceil(size / unit_bytes))


def index_write_units(before: Item | None, after: Item | None, index: IndexSpec, entry_overhead: int = 0) -> int:
    """What one index's entry change costs: nothing when nothing changes, one write when the entry appears,
    disappears or changes in place, a delete plus a put when its key changes."""
    if before == after:
        return 0

    def cost(entry: Item) -> int:
        return units(item_size(entry) + entry_overhead, WRITE_UNIT_BYTES)

    if before is None or after is None:
        return cost(before or after)  # type: ignore[arg-type]
    if any(before[key] != after[key] for key in index.keys):
        return cost(before) + cost(after)
    return units(max(item_size(before), item_size(after)) + entry_overhead, WRITE_UNIT_BYTES)


def write_units(
    table: TableSpec,
    before: Item | None,
    after: Item | None,
    *,
    applied: bool = True,
    transactional: bool = False,
    entry_overhead: int = 0,
) -> dict[str, int]:
    """Units of one item write: {"table": n, <index name>: n, ...} (indexes that cost nothing left out).

    `before` and `after` are the whole item before and after the write (None where there is none). For a
    write whose condition failed (`applied` False), `after` is what the request asked to write (a Put's
    item; None for an update or a delete): the table is charged the larger of the two, the indexes nothing.
    A transactional write doubles the table's units (no transactional write of the hub touches an indexed
    table, so whether index propagation doubles too is left out)."""
    factor = 2 if transactional else 1
    out = {"table": factor * units(max(item_size(before), item_size(after)), WRITE_UNIT_BYTES)}
    if not applied:
        return out
    for index in table.indexes:
        cost = index_write_units(
            index_entry(before, table, index), index_entry(after, table, index), index, entry_overhead
        )
        if cost:
            out[index.name] = cost
    return out


def read_factor(consistent: bool, transactional: bool = False) -> float:
    return 2.0 if transactional else 1.0 if consistent else 0.5


def item_read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    """A GetItem (or one key of a BatchGetItem / TransactGetItems): a missing item costs the minimum."""
    return read_factor(consistent, transactional) * units(size, READ_UNIT_BYTES)


def query_read_units(sizes: Iterable[int], consistent: bool) -> float:
    """A Query or Scan page: the total size of the items it read, rounded up once."""
    return read_factor(consistent) * units(sum(sizes), READ_UNIT_BYTES)
