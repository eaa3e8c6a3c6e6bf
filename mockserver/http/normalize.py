"""Bring a decoded request into the one shape the validators and the domain expect.

proto3 JSON lets a client write a field by its JSON name (``environmentId``) or its proto
name (``environment_id``), an enum by name or number, an integer as a JSON string
(``"25"``, ``"1e2"``: the forms Go's protojson reads, see :mod:`openapi.proto3json`), and
``null`` for "absent"; it drops unknown fields and unknown enum names. A
:class:`MessageNormalizer` does all of that in one walk, with tables computed once per
message from :func:`openapi.schema.message_fields`.
Values of the wrong type are left as they are, for the validator to report.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final

from mockserver.domain import JsonObject, in_timestamp_range, parse_timestamp
from mockserver.http.connect import ConnectError
from openapi import fields as rules
from openapi.errors import Code
from openapi.models import Message
from openapi.proto3json import parse_integer_string
from openapi.schema import FieldInfo, message_fields

__all__ = ["MessageNormalizer", "build_normalizer"]

_MESSAGE: Final = "message"
_ENUM: Final = "enum"
_INT: Final = "int"
_TIME: Final = "time"  # a Timestamp: its pattern is the validator's, its range is checked here
_PLAIN: Final = "plain"  # strings, booleans, maps: kept as they are

_DROP: Final = object()  # an unknown enum name: the field (or list item) disappears

MAX_ITEMS: Final = 1000
"""The most items a list or map field may hold. The descriptor caps the lists it limits at
25; a list of a million items (a 4 MiB body) would otherwise cost seconds of normalizing
and validating, on the event loop, just to be refused."""


@dataclass
class _Field:
    json_name: str
    kind: str
    repeated: bool
    enum_name: str = ""
    enum_names: frozenset[str] = frozenset()
    enum_numbers: dict[int, str] = field(default_factory=dict)
    message: MessageNormalizer | None = None


class MessageNormalizer:
    """Normalizes one message type (and, through its fields, every nested one)."""

    def __init__(self, proto_name: str, strict: bool) -> None:
        self.proto_name = proto_name
        self.strict = strict
        # Keyed by JSON name and by proto name; both point at the same field.
        self.fields: dict[str, _Field] = {}

    def normalize(self, message: JsonObject, path: str = "") -> JsonObject:
        """``message`` with camelCase keys, enum names, no nulls and no unknown fields.

        ``message`` itself when it is so already (what clients send nearly always), else
        a new dict; either way, treat the result as read-only.
        ``ConnectError(invalid_argument)`` for a field given twice (under both names), and
        in strict mode for an unknown field or enum name.
        """
        if self._is_normal(message):
            return message
        out: JsonObject = {}
        fields = self.fields
        for key, value in message.items():
            spec = fields.get(key)
            if spec is None:
                if self.strict:
                    raise ConnectError(
                        Code.invalid_argument,
                        f"{path}{key}: unknown field of {self.proto_name}",
                    )
                continue
            if value is None:
                continue
            name = spec.json_name
            if name in out:
                raise ConnectError(
                    Code.invalid_argument, f"{path}{name}: field given more than once"
                )
            sized = isinstance(value, list) or (isinstance(value, dict) and spec.kind != _MESSAGE)
            if sized and len(value) > MAX_ITEMS:
                raise ConnectError(
                    Code.invalid_argument,
                    f"{path}{name}: at most {MAX_ITEMS} items, got {len(value)}",
                )
            if spec.repeated:
                if not isinstance(value, list):
                    out[name] = value  # the wrong type: left for the validator to report
                    continue
                items = [
                    self._value(spec, item, f"{path}{name}[{i}]") for i, item in enumerate(value)
                ]
                out[name] = [item for item in items if item is not _DROP]
            else:
                converted = self._value(spec, value, path + name)
                if converted is not _DROP:
                    out[name] = converted
        return out

    def _is_normal(self, message: JsonObject) -> bool:
        """Whether :meth:`normalize` would build an equal dict: a walk that allocates
        nothing, where building one costs a dict per message for the garbage collector.

        Anything it does not recognise as normal (a proto name, a null, an enum number or
        unknown name, an integral float, a map, a list item that may change, a list or
        map past :data:`MAX_ITEMS`) takes the building walk, which decides.
        """
        fields = self.fields
        for key, value in message.items():
            spec = fields.get(key)
            if spec is None or value is None or spec.json_name != key:
                return False
            kind = spec.kind
            kind_of_value = type(value)
            if kind_of_value is str:
                # A plain string is normal; an enum name only when known. "25" becomes 25,
                # a Timestamp gets its range checked, a string for a message is left as
                # it is: the building walk decides.
                if kind != _PLAIN and (kind != _ENUM or value not in spec.enum_names):
                    return False
            elif kind_of_value is dict:
                nested = spec.message
                if nested is None or spec.repeated or not nested._is_normal(value):
                    return False
            elif kind_of_value is list:
                if not spec.repeated or len(value) > MAX_ITEMS:
                    return False
                if kind != _PLAIN and not all(self._is_normal_item(spec, item) for item in value):
                    return False
            elif kind_of_value is int:
                if kind == _ENUM:
                    return False  # an enum number becomes its name
            elif kind_of_value is float:
                if kind == _INT:
                    return False  # 3.0 becomes 3
            elif kind_of_value is not bool:
                return False
        return True

    @staticmethod
    def _is_normal_item(spec: _Field, item: Any) -> bool:
        kind_of_item = type(item)
        if kind_of_item is str:
            if spec.kind == _INT:
                return False
            return spec.kind != _ENUM or item in spec.enum_names
        if kind_of_item is dict:
            return spec.message is not None and spec.message._is_normal(item)
        if kind_of_item is int:
            return spec.kind != _ENUM
        return kind_of_item is bool

    def _value(self, spec: _Field, value: Any, path: str) -> Any:
        kind = spec.kind
        if kind == _MESSAGE:
            if isinstance(value, dict) and spec.message is not None:
                return spec.message.normalize(value, path + ".")
            return value
        if kind == _ENUM:
            if isinstance(value, str):
                if value in spec.enum_names:
                    return value
                if self.strict:
                    raise ConnectError(
                        Code.invalid_argument,
                        f"{path}: unknown {spec.enum_name} value {value!r}",
                    )
                return _DROP
            if isinstance(value, int) and not isinstance(value, bool):
                # An undefined number stays a number: the schema says whether it may be.
                return spec.enum_numbers.get(value, value)
            return value
        if kind == _TIME:
            if isinstance(value, str):
                _check_timestamp_range(value, path)
            return value
        if kind == _INT:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                number = parse_integer_string(value)
                # A string protojson refuses stays one, for the validator to report.
                return value if number is None else number
        return value


def _check_timestamp_range(value: str, path: str) -> None:
    """``ConnectError(invalid_argument)`` for a well-formed Timestamp whose offset moves it
    out of years 0001..9999 in UTC (``9999-12-31T23:59:59-01:00``), which protojson and
    json_format refuse and no pattern can tell; a malformed one is the validator's."""
    try:
        micros = parse_timestamp(value)
    except (ValueError, OverflowError):
        return
    if not in_timestamp_range(micros):
        raise ConnectError(
            Code.invalid_argument,
            f"{path}: {value!r} is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z",
        )


def build_normalizer(cls: type[Message], *, strict: bool = False) -> MessageNormalizer:
    """The normalizer of ``cls``, with those of its nested messages built once each."""
    return _Builder(strict).build(cls)


class _Builder:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.built: dict[type[Message], MessageNormalizer] = {}

    def build(self, cls: type[Message]) -> MessageNormalizer:
        existing = self.built.get(cls)
        if existing is not None:
            return existing
        normalizer = self.built[cls] = MessageNormalizer(
            cls.__proto_name__ or cls.__name__, self.strict
        )
        for info in message_fields(cls):
            spec = self._field(info)
            normalizer.fields[info.json_name] = spec
            normalizer.fields[info.name] = spec
        return normalizer

    def _field(self, info: FieldInfo) -> _Field:
        base = info.base
        repeated = info.repeated
        if isinstance(base, type) and issubclass(base, Message):
            return _Field(info.json_name, _MESSAGE, repeated, message=self.build(base))
        if isinstance(base, type) and issubclass(base, enum.Enum):
            return _Field(
                info.json_name,
                _ENUM,
                repeated,
                enum_name=base.__name__,
                enum_names=frozenset(base.__members__),
                enum_numbers={member.value: member.name for member in base},
            )
        if base is int and not info.is_map:
            return _Field(info.json_name, _INT, repeated)
        if any(isinstance(rule, rules.Timestamp) for rule in info.rules):
            return _Field(info.json_name, _TIME, repeated)
        return _Field(info.json_name, _PLAIN, repeated and not info.is_map)
