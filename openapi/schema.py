"""Turn the models of :mod:`openapi.models` into JSON Schema (draft 2020-12, as OpenAPI 3.1).

Every model is emitted in one of two modes:

* ``REQUEST`` describes what a real Connect server *accepts*: unknown properties are
  allowed, an enum also admits any other name (the JSON codec drops unknown names) and its
  numbers, ``null`` stands for "absent", and the fields whose rule rejects the zero value
  (a UUID, a non-empty name) are required, exactly as protovalidate applies rules to proto3
  scalars without presence.
* ``RESPONSE`` describes what a conforming server *sends*: closed enums and the fields the
  reference marks as required.

A model reachable in both modes whose two schemas differ gets a second component, named
``<Model>Input``, for the request side.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Any

from openapi import fields as rules
from openapi.models import Message
from openapi.proto3json import TIMESTAMP_PATTERN, integer_string_pattern

__all__ = ["Mode", "SchemaBuilder", "camel_case", "json_name", "message_fields"]

JsonSchema = dict[str, Any]


class Mode(enum.Enum):
    REQUEST = "request"
    RESPONSE = "response"


def camel_case(name: str) -> str:
    """protoc's ``json_name``: snake_case to lowerCamelCase."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_name(field: dataclasses.Field[Any]) -> str:
    return camel_case(field.name)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """One model field, its type unwrapped and its rules collected."""

    name: str
    json_name: str
    base: Any  # the Python type of one value (the item type for repeated fields)
    repeated: bool
    is_map: bool
    optional: bool  # proto3 presence: a message, an ``optional`` scalar or a oneof member
    rules: tuple[Any, ...]
    item_rules: tuple[Any, ...]
    oneof: str | None


def _split_annotated(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(hint) is typing.Annotated:
        args = typing.get_args(hint)
        return args[0], tuple(args[1:])
    return hint, ()


def _strip_none(hint: Any) -> tuple[Any, bool]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


_FIELDS: dict[type[Message], tuple[FieldInfo, ...]] = {}


def message_fields(cls: type[Message]) -> tuple[FieldInfo, ...]:
    """The fields of a model, in declaration order, with their rules (computed once)."""
    cached = _FIELDS.get(cls)
    if cached is None:
        cached = _FIELDS[cls] = _collect_fields(cls)
    return cached


def _collect_fields(cls: type[Message]) -> tuple[FieldInfo, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    oneof_of = {member: name for name, members in cls.__oneofs__.items() for member in members}
    infos = []
    model: Any = cls  # every Message subclass is a dataclass
    for field in dataclasses.fields(model):
        hint, field_rules = _split_annotated(hints[field.name])
        hint, optional = _strip_none(hint)
        hint, more_rules = _split_annotated(hint)
        field_rules += more_rules
        origin = typing.get_origin(hint)
        repeated = origin is tuple
        is_map = origin is dict
        item_rules: tuple[Any, ...] = ()
        base = hint
        if repeated:
            base, item_rules = _split_annotated(typing.get_args(hint)[0])
        elif is_map:
            base = str
        is_message = isinstance(base, type) and issubclass(base, Message)
        infos.append(
            FieldInfo(
                name=field.name,
                json_name=json_name(field),
                base=base,
                repeated=repeated,
                is_map=is_map,
                optional=optional or (is_message and not repeated),
                rules=field_rules,
                item_rules=item_rules,
                oneof=oneof_of.get(field.name),
            )
        )
    return tuple(infos)


def _nested_messages(cls: type[Message]) -> Iterator[type[Message]]:
    for info in message_fields(cls):
        if isinstance(info.base, type) and issubclass(info.base, Message):
            yield info.base


def reachable(roots: Iterable[type[Message]]) -> set[type[Message]]:
    """Every model reachable from ``roots`` through message fields, the roots included."""
    seen: set[type[Message]] = set()
    stack = list(roots)
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.add(cls)
            stack.extend(_nested_messages(cls))
    return seen


def _rejects_zero_value(info: FieldInfo) -> bool:
    """True when protovalidate's rules fail on the field's zero value (the empty string)."""
    if info.optional or info.repeated or info.is_map or info.base is not str:
        return False
    if any(isinstance(rule, rules.IgnoreIfUnpopulated) for rule in info.rules):
        return False
    for rule in info.rules:
        if isinstance(rule, rules.Uuid):
            return True
        if isinstance(rule, rules.MinLength) and rule.value > 0:
            return True
        if isinstance(rule, rules.Pattern) and re.search(rule.regex, "") is None:
            return True
    return False


def required_fields(cls: type[Message], mode: Mode) -> list[str]:
    if mode is Mode.RESPONSE:
        names = set(cls.__response_required__)
        return [info.json_name for info in message_fields(cls) if info.name in names]
    return [info.json_name for info in message_fields(cls) if _rejects_zero_value(info)]


def _enum_numbers_schema(enum_cls: type[enum.Enum], defined_only: bool) -> JsonSchema:
    if defined_only:
        return {"type": "integer", "enum": [member.value for member in enum_cls]}
    return {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}


def _string_rules(field_rules: tuple[Any, ...]) -> JsonSchema:
    schema: JsonSchema = {"type": "string"}
    ignore_empty = any(isinstance(rule, rules.IgnoreIfUnpopulated) for rule in field_rules)
    for rule in field_rules:
        if isinstance(rule, rules.Uuid):
            if ignore_empty:
                schema["pattern"] = "^$|" + rules.UUID_PATTERN
            else:
                schema["format"] = "uuid"
                schema["pattern"] = rules.UUID_PATTERN
        elif isinstance(rule, rules.Pattern):
            schema["pattern"] = rule.regex
        elif isinstance(rule, rules.MinLength):
            schema["minLength"] = rule.value
        elif isinstance(rule, rules.Timestamp):
            # date-time alone admits what protojson refuses: a leap second, ten digits.
            schema["format"] = "date-time"
            schema["pattern"] = TIMESTAMP_PATTERN
        elif isinstance(rule, rules.Int64String):
            schema["pattern"] = "^[0-9]+$" if rule.unsigned else "^-?[0-9]+$"
    return schema


def _description(field_rules: tuple[Any, ...]) -> str | None:
    for rule in field_rules:
        if isinstance(rule, rules.Doc):
            return rule.text
    return None


class SchemaBuilder:
    """Collects components while emitting the schemas of the request and response roots."""

    def __init__(
        self, request_roots: Iterable[type[Message]], response_roots: Iterable[type[Message]]
    ) -> None:
        self.components: dict[str, JsonSchema] = {}
        request_roots = tuple(request_roots)
        self._in_requests = reachable(request_roots)
        self._in_responses = reachable(response_roots)
        # Messages nested in a request may be null ("absent"); a request body may not.
        self._nested_in_requests = {
            nested for root in self._in_requests for nested in _nested_messages(root)
        }
        self._names: dict[tuple[type[Any], Mode], str] = {}

    # -- naming ------------------------------------------------------------------------

    def component_name(self, cls: type[Any], mode: Mode) -> str:
        key = (cls, mode)
        if key not in self._names:
            name = cls.__name__
            shared = cls in self._in_requests and cls in self._in_responses
            # A nested request message admits null, so its two schemas always differ.
            if mode is Mode.REQUEST and shared and cls in self._nested_in_requests:
                name += "Input"
            self._names[key] = name
        return self._names[key]

    def ref(self, cls: type[Any], mode: Mode) -> JsonSchema:
        name = self.component_name(cls, mode)
        if name not in self.components:
            self.components[name] = {}  # placeholder: breaks recursion
            if issubclass(cls, enum.Enum):
                self.components[name] = self._enum_schema(cls)
            else:
                self.components[name] = self.message_schema(cls, mode)
        return {"$ref": f"#/components/schemas/{name}"}

    # -- schemas -----------------------------------------------------------------------

    @staticmethod
    def _enum_schema(enum_cls: type[enum.Enum]) -> JsonSchema:
        schema: JsonSchema = {"type": "string", "enum": [member.name for member in enum_cls]}
        if enum_cls.__doc__:
            schema["description"] = enum_cls.__doc__.strip()
        return schema

    def message_schema(self, cls: type[Message], mode: Mode) -> JsonSchema:
        properties = {
            info.json_name: self._field_schema(info, mode) for info in message_fields(cls)
        }
        nullable = mode is Mode.REQUEST and cls in self._nested_in_requests
        schema: JsonSchema = {"type": ["object", "null"] if nullable else "object"}
        if cls.__doc__:
            schema["description"] = " ".join(cls.__doc__.split())
        if properties:
            schema["properties"] = properties
        required = required_fields(cls, mode)
        if required:
            schema["required"] = required
        exclusions = self._oneof_exclusions(cls)
        if exclusions:
            schema["allOf"] = exclusions
        return schema

    @staticmethod
    def _oneof_exclusions(cls: type[Message]) -> list[JsonSchema]:
        """At most one member of each oneof may be set (``null`` counts as unset)."""
        by_json = {info.name: info.json_name for info in message_fields(cls)}
        exclusions = []
        for members in cls.__oneofs__.values():
            names = [by_json[member] for member in members]
            for index, first in enumerate(names):
                for second in names[index + 1 :]:
                    both_set = {
                        # Without "type", a null message (absent) would match and be refused.
                        "type": "object",
                        "required": [first, second],
                        "properties": {
                            first: {"not": {"type": "null"}},
                            second: {"not": {"type": "null"}},
                        },
                    }
                    exclusions.append({"not": both_set})
        return exclusions

    def _value_schema(
        self, base: Any, field_rules: tuple[Any, ...], mode: Mode, *, in_list: bool = False
    ) -> JsonSchema:
        if isinstance(base, type) and issubclass(base, Message):
            if mode is Mode.REQUEST and in_list:
                # The component admits null (an absent field); a list item may not be null.
                return {"allOf": [self.ref(base, mode), {"type": "object"}]}
            return self.ref(base, mode)
        if isinstance(base, type) and issubclass(base, enum.Enum):
            if mode is Mode.RESPONSE:
                return self.ref(base, mode)
            defined_only = any(isinstance(rule, rules.DefinedOnly) for rule in field_rules)
            # The JSON codec drops names it does not know, so any string is accepted.
            return {
                "anyOf": [
                    self.ref(base, Mode.RESPONSE),
                    {"type": "string"},
                    _enum_numbers_schema(base, defined_only),
                ]
            }
        if base is str:
            return _string_rules(field_rules)
        if base is bool:
            return {"type": "boolean"}
        if base is int:
            schema: JsonSchema = {"type": "integer", "format": "int32"}
            minimum = maximum = None
            for rule in field_rules:
                if isinstance(rule, rules.Range):
                    schema["minimum"] = minimum = rule.minimum
                    schema["maximum"] = maximum = rule.maximum
            if mode is Mode.RESPONSE:
                return schema
            # proto3 JSON parsers also take an integer written as a string ("25").
            written = {"type": "string", "pattern": integer_string_pattern(minimum, maximum)}
            return {"anyOf": [schema, written]}
        raise TypeError(f"no JSON Schema for {base!r}")

    def _max_items(self, info: FieldInfo, limit: int, mode: Mode) -> JsonSchema:
        """A list's size limit as the wire applies it.

        A request's repeated enum is counted after the JSON codec has dropped the names it
        does not know (protovalidate sees the decoded message), so 25 known names and 5
        unknown ones are 25 items: the limit counts only the items that survive decoding,
        the enum's names and numbers (``maxContains``).
        """
        base = info.base
        if mode is Mode.REQUEST and isinstance(base, type) and issubclass(base, enum.Enum):
            defined_only = any(isinstance(rule, rules.DefinedOnly) for rule in info.item_rules)
            kept = {
                "anyOf": [self.ref(base, Mode.RESPONSE), _enum_numbers_schema(base, defined_only)]
            }
            return {"contains": kept, "minContains": 0, "maxContains": limit}
        return {"maxItems": limit}

    def _field_schema(self, info: FieldInfo, mode: Mode) -> JsonSchema:
        schema: JsonSchema
        if info.repeated:
            schema = {
                "type": "array",
                "items": self._value_schema(info.base, info.item_rules, mode, in_list=True),
            }
            for rule in info.rules:
                if isinstance(rule, rules.MaxItems):
                    schema.update(self._max_items(info, rule.value, mode))
        elif info.is_map:
            values: JsonSchema = {"type": "string"}
            schema = {"type": "object", "additionalProperties": values}
            for rule in info.rules:
                if isinstance(rule, rules.MapKeyLength):
                    schema["propertyNames"] = {
                        "minLength": rule.minimum,
                        "maxLength": rule.maximum,
                    }
                elif isinstance(rule, rules.MapValueMaxLength):
                    values["maxLength"] = rule.value
        else:
            schema = self._value_schema(info.base, info.rules, mode)
        is_message = isinstance(info.base, type) and issubclass(info.base, Message)
        if (
            mode is Mode.REQUEST
            and not _rejects_zero_value(info)
            and not (is_message and not info.repeated)
        ):
            # proto3 JSON: null means "absent" for any field (message components say so).
            schema = _nullable(schema)
        description = _description(info.rules)
        if description:
            schema = (
                {**schema, "description": description}
                if "$ref" not in schema
                else {
                    "allOf": [schema],
                    "description": description,
                }
            )
        return schema


def _nullable(schema: JsonSchema) -> JsonSchema:
    if "anyOf" in schema:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    kind = schema["type"]
    nullable = dict(schema)
    nullable["type"] = [kind, "null"]
    return nullable
