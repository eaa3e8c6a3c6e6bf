"""Field annotations that carry the published validation rules.

A model field is declared as ``Annotated[<python type>, <rule>, ...]``. The schema
emitter (:mod:`openapi.schema`) turns each rule into JSON Schema keywords; nothing
else interprets them, so adding a rule means teaching exactly one function about it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "UUID_PATTERN",
    "DefinedOnly",
    "Doc",
    "IgnoreIfUnpopulated",
    "Int64String",
    "MapKeyLength",
    "MapValueMaxLength",
    "MaxItems",
    "MinLength",
    "Pattern",
    "Range",
    "Timestamp",
    "Uuid",
]

# protovalidate's `string.uuid`: 8-4-4-4-12 hex digits, either case, dashes required.
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@dataclass(frozen=True)
class Doc:
    """The field's description, copied from the published reference."""

    text: str


@dataclass(frozen=True)
class Uuid:
    """`string.uuid = true`: the value must be a UUID (an empty string is not one)."""


@dataclass(frozen=True)
class IgnoreIfUnpopulated:
    """`ignore = IGNORE_IF_UNPOPULATED`: the empty string skips the other rules."""


@dataclass(frozen=True)
class Pattern:
    """`string.pattern`: an RE2 pattern that is also a valid ECMA-262 pattern."""

    regex: str


@dataclass(frozen=True)
class MinLength:
    """`string.min_len` (counted in characters)."""

    value: int


@dataclass(frozen=True)
class MaxItems:
    """`repeated.max_items`."""

    value: int


@dataclass(frozen=True)
class Range:
    """`int32.gte` / `int32.lte`."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class Int64String:
    """A (u)int64: proto3 JSON writes it as a decimal string."""

    unsigned: bool = True


@dataclass(frozen=True)
class Timestamp:
    """A `google.protobuf.Timestamp`: an RFC 3339 string in proto3 JSON."""


@dataclass(frozen=True)
class DefinedOnly:
    """`enum.defined_only = true`: numbers outside the enum are rejected."""


@dataclass(frozen=True)
class MapKeyLength:
    """`map.keys.string.min_len/max_len`."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class MapValueMaxLength:
    """`map.values.string.max_len`."""

    value: int
