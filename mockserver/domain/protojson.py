"""Reading proto3-JSON requests and writing canonical proto3-JSON values.

Requests arrive schema-validated, camelCase, possibly with unknown keys. The accessors here
check types anyway (cheap, and it keeps the domain honest when called directly) and raise
:class:`InvalidArgument` naming the field path. The shapes below, derived from the models,
give the fields of the opaque-looking messages the fake stores (``TaskSpec``, triggers,
``Subject``) so stored values are canonical: unknown keys dropped, fields at their default
omitted, while a *set* message (``runsOn: {machine: {}}``) and a set oneof member
(``manual: false``) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.domain.errors import InvalidArgument
from mockserver.domain.types import JsonObject
from openapi import models
from openapi.schema import message_fields

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

FieldKind = Literal["string", "bool", "message", "strings", "messages"]


@dataclass(frozen=True)
class Field:
    """One message field: its kind, the shape of a message kind, and explicit presence.

    ``presence`` marks oneof members and proto3 ``optional`` scalars, which are written
    even at their default value when set.
    """

    kind: FieldKind
    shape: Mapping[str, Field] | None = None
    presence: bool = False


Shape = Mapping[str, Field]


def shape_of(cls: type[models.Message]) -> Shape:
    """The shape of a message, derived once from its model in :mod:`openapi.models`.

    The models are the one description of the messages; the domain reads them here
    rather than keeping a second table. Enums are stored by name, so they are strings.
    """
    cached = _SHAPES.get(cls)
    if cached is None:
        cached = _SHAPES[cls] = {}  # filled in place: a recursive model would find it
        for info in message_fields(cls):
            base = info.base
            if isinstance(base, type) and issubclass(base, models.Message):
                kind: FieldKind = "messages" if info.repeated else "message"
                cached[info.json_name] = Field(kind, shape_of(base))
            elif info.repeated:
                cached[info.json_name] = Field("strings")
            else:
                scalar: FieldKind = "bool" if base is bool else "string"
                presence = info.optional or info.oneof is not None
                cached[info.json_name] = Field(scalar, presence=presence)
    return cached


_SHAPES: dict[type[models.Message], dict[str, Field]] = {}

SECRET_REF = shape_of(models.SecretRef)
ENV_ITEM = shape_of(models.EnvironmentVariableItem)
RUNS_ON = shape_of(models.RunsOn)
TASK_SPEC = shape_of(models.TaskSpec)
AUTOMATION_TRIGGER = shape_of(models.AutomationTrigger)
SUBJECT = shape_of(models.Subject)


def _type_error(path: str, expected: str, value: object) -> InvalidArgument:
    return InvalidArgument(f"{path}: expected {expected}, got {type(value).__name__}")


def canonical(shape: Shape, value: object, path: str) -> JsonObject:
    """A fresh canonical copy of ``value`` read as a message of ``shape``."""
    if not isinstance(value, dict):
        raise _type_error(path, "an object", value)
    out: JsonObject = {}
    for key, field in shape.items():
        item = value.get(key)
        if item is None:
            continue
        # The field's path is only built when needed (an error, a nested message): every
        # stored spec passes through here.
        kind = field.kind
        if kind == "string":
            if not isinstance(item, str):
                raise _type_error(f"{path}.{key}", "a string", item)
            if item or field.presence:
                out[key] = item
        elif kind == "bool":
            if not isinstance(item, bool):
                raise _type_error(f"{path}.{key}", "a boolean", item)
            if item or field.presence:
                out[key] = item
        elif kind == "message":
            assert field.shape is not None
            out[key] = canonical(field.shape, item, f"{path}.{key}")
        elif kind == "strings":
            strings = string_list(value, key, f"{path}.{key}")
            if strings:
                out[key] = strings
        else:
            assert field.shape is not None
            items = canonical_list(field.shape, item, f"{path}.{key}")
            if items:
                out[key] = items
    return out


def canonical_list(shape: Shape, value: object, path: str) -> list[JsonObject]:
    """A canonical copy of a repeated message field."""
    if not isinstance(value, list):
        raise _type_error(path, "a list", value)
    return [canonical(shape, item, f"{path}[{index}]") for index, item in enumerate(value)]


def clone(value: Any) -> Any:
    """A deep copy of a JSON value (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


# -- request accessors ------------------------------------------------------------------


def message(request: Mapping[str, Any], key: str, path: str = "") -> JsonObject | None:
    """The sub-message at ``key``, or ``None`` when absent (or JSON ``null``).

    In every accessor ``path`` is the field's full path for error messages (default: key).
    """
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _type_error(path or key, "an object", value)
    return value


def string(request: Mapping[str, Any], key: str, path: str = "") -> str:
    """The string at ``key``; absent means ``""``."""
    value = request.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _type_error(path or key, "a string", value)
    return value


def optional_string(request: Mapping[str, Any], key: str, path: str = "") -> str | None:
    """The string at ``key``, or ``None`` when the key is absent (explicit presence)."""
    if request.get(key) is None:
        return None
    return string(request, key, path)


def optional_bool(request: Mapping[str, Any], key: str, path: str = "") -> bool | None:
    """The boolean at ``key``, or ``None`` when absent."""
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _type_error(path or key, "a boolean", value)
    return value


def string_list(request: Mapping[str, Any], key: str, path: str = "") -> list[str]:
    """The repeated string at ``key``; absent means empty."""
    where = path or key
    value = request.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type_error(where, "a list", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _type_error(f"{where}[{index}]", "a string", item)
    return list(value)


def int32(request: Mapping[str, Any], key: str, path: str = "") -> int:
    """An int32 field: a JSON number or a decimal string (both are proto3 JSON)."""
    where = path or key
    value = request.get(key)
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _type_error(where, "an integer", value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidArgument(f"{where}: expected an integer, got {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _type_error(where, "an integer", value)
    return value


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in the 8-4-4-4-12 hex form (either case)."""
    return _UUID.match(value) is not None


def uuid_value(value: str, path: str) -> str:
    """``value`` lower-cased, or :class:`InvalidArgument` if it is not a UUID.

    Ids compare case-insensitively (the real service stores them as UUIDs, not text).
    """
    if not _UUID.match(value):
        raise InvalidArgument(f"{path}: value must be a valid UUID, got {value!r}")
    return value.lower()


def required_id(request: Mapping[str, Any], key: str, path: str = "") -> str:
    """The UUID at ``key``, lower-cased; an empty or absent one is invalid."""
    return uuid_value(string(request, key, path), path or key)


def id_list(request: Mapping[str, Any], key: str, path: str = "") -> list[str]:
    """A repeated UUID field, lower-cased, duplicates removed (first occurrence kept)."""
    if request.get(key) is None:
        return []  # the usual case, without the walk below
    where = path or key
    seen: dict[str, None] = {}
    for index, item in enumerate(string_list(request, key, path)):
        seen.setdefault(uuid_value(item, f"{where}[{index}]"), None)
    return list(seen)
