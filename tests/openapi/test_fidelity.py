"""The models agree with the official message descriptors of gitpod-sdk 1.2.0.

The descriptor is the wire truth: field names, enum values, scalar encodings and the
buf.validate rules. Any drift between it and the generated document fails here.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
from gitpod.v1 import environment_automation_pb2
from google.protobuf import descriptor as pb
from google.protobuf import descriptor_pool

from openapi import models
from openapi.fields import UUID_PATTERN
from openapi.methods import METHODS, SERVICE
from openapi.schema import Mode, SchemaBuilder, message_fields, required_fields

POOL = descriptor_pool.Default()
# Newer than the seed page; the descriptor of 1.2.0 has it and so do we.
ALLOWED_EXTRA = {"prebuildRequiresSuccess"}

MODELS: list[type[models.Message]] = [
    value
    for value in vars(models).values()
    if isinstance(value, type)
    and issubclass(value, models.Message)
    and value is not models.Message
    and value.__proto_name__
]


def _descriptor(cls: type[models.Message]) -> pb.Descriptor:
    return POOL.FindMessageTypeByName(cls.__proto_name__)


def _rules(field: pb.FieldDescriptor) -> Any:
    """The buf.validate FieldConstraints of a field (an empty message when it has none)."""
    from buf.validate import validate_pb2

    options = field.GetOptions()
    return options.Extensions[validate_pb2.field]


def _components() -> dict[str, Any]:
    builder = SchemaBuilder(
        request_roots=[m.request for m in METHODS], response_roots=[m.response for m in METHODS]
    )
    for method in METHODS:
        builder.ref(method.request, Mode.REQUEST)
        builder.ref(method.response, Mode.RESPONSE)
    return builder.components


COMPONENTS = _components()


def _schemas_of(cls: type[models.Message]) -> list[dict[str, Any]]:
    """The component schemas emitted for a model (request and/or response variants)."""
    return [
        COMPONENTS[name] for name in (cls.__name__, cls.__name__ + "Input") if name in COMPONENTS
    ]


def _unwrap(schema: dict[str, Any]) -> dict[str, Any]:
    """Strip the description/nullable wrappers around a property schema."""
    while True:
        if "allOf" in schema and len(schema["allOf"]) >= 1 and "$ref" in schema["allOf"][0]:
            schema = schema["allOf"][0]
        elif "anyOf" in schema:
            options = [o for o in schema["anyOf"] if o != {"type": "null"}]
            if len(options) != 1:
                return schema
            schema = options[0]
        else:
            return schema


def test_fidelity_every_descriptor_message_has_a_model() -> None:
    service = POOL.FindServiceByName(SERVICE)
    task_methods = {m.name for m in METHODS}
    modelled = {cls.__proto_name__ for cls in MODELS}
    pending = [service.FindMethodByName(name).input_type for name in task_methods] + [
        service.FindMethodByName(name).output_type for name in task_methods
    ]
    seen = set()
    while pending:
        message = pending.pop()
        if message.full_name in seen or message.full_name.startswith("google.protobuf."):
            continue
        seen.add(message.full_name)
        if message.GetOptions().map_entry:
            continue
        assert message.full_name in modelled, f"no model for {message.full_name}"
        pending.extend(f.message_type for f in message.fields if f.message_type is not None)


def test_fidelity_method_table_matches_the_service() -> None:
    service = POOL.FindServiceByName(SERVICE)
    for method in METHODS:
        descriptor = service.FindMethodByName(method.name)
        assert descriptor.input_type.full_name == method.request.__proto_name__
        assert descriptor.output_type.full_name == method.response.__proto_name__
        level = descriptor.GetOptions().idempotency_level
        assert (level == 1) == (method.idempotency.value == "NO_SIDE_EFFECTS"), method.name


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_fidelity_json_field_names_match(cls: type[models.Message]) -> None:
    official = {f.json_name for f in _descriptor(cls).fields}
    ours = {info.json_name for info in message_fields(cls)}
    assert ours - ALLOWED_EXTRA <= official
    assert official - ours == set()
    for schema in _schemas_of(cls):
        assert set(schema.get("properties", {})) == ours


@pytest.mark.parametrize(
    ("ours", "official"),
    [
        (models.Principal, "gitpod.v1.Principal"),
        (models.TaskExecutionPhase, "gitpod.v1.TaskExecutionPhase"),
    ],
)
def test_fidelity_enum_values_match(ours: type[enum.Enum], official: str) -> None:
    descriptor = POOL.FindEnumTypeByName(official)
    assert {v.name: v.number for v in descriptor.values} == {m.name: m.value for m in ours}
    assert COMPONENTS[ours.__name__]["enum"] == [v.name for v in descriptor.values]


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_fidelity_scalar_encodings_and_rules(cls: type[models.Message]) -> None:
    descriptor = _descriptor(cls)
    infos = {info.json_name: info for info in message_fields(cls)}
    for field in descriptor.fields:
        info = infos[field.json_name]
        rules = _rules(field)
        for schema in _schemas_of(cls):
            prop = _unwrap(schema["properties"][field.json_name])
            _check_field(cls, field, rules, prop, repeated=info.repeated)


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def _check_field(
    cls: type[models.Message],
    field: pb.FieldDescriptor,
    rules: Any,
    prop: dict[str, Any],
    *,
    repeated: bool,
) -> None:
    where = f"{cls.__name__}.{field.json_name}"
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    if repeated and not is_map:
        assert "array" in _types(prop), where
        if rules.repeated.HasField("max_items"):
            if field.enum_type is not None and "anyOf" in _unwrap(prop["items"]):
                # A request's enum list: the limit counts the values that survive decoding.
                assert prop["maxContains"] == rules.repeated.max_items, where
                assert prop["minContains"] == 0 and "maxItems" not in prop, where
            else:
                assert prop["maxItems"] == rules.repeated.max_items, where
        items = _unwrap(prop["items"])
        item_rules = rules.repeated.items
        _check_scalar(where + "[]", field, item_rules, items)
        return
    if is_map:
        assert "object" in _types(prop), where
        assert prop["propertyNames"] == {
            "minLength": rules.map.keys.string.min_len,
            "maxLength": rules.map.keys.string.max_len,
        }, where
        assert prop["additionalProperties"]["maxLength"] == rules.map.values.string.max_len
        return
    _check_scalar(where, field, rules, prop)


def _check_scalar(where: str, field: pb.FieldDescriptor, rules: Any, prop: dict[str, Any]) -> None:
    kinds = _types(prop)
    if field.type in (field.TYPE_INT64, field.TYPE_UINT64, field.TYPE_SINT64, field.TYPE_FIXED64):
        assert kinds == {"string"} and prop["pattern"].startswith("^"), where
        return
    if (
        field.message_type is not None
        and field.message_type.full_name == "google.protobuf.Timestamp"
    ):
        assert "string" in kinds and prop["format"] == "date-time", where
        return
    if field.type == field.TYPE_STRING:
        assert "string" in kinds, where
        if rules.string.uuid:
            if rules.ignore == 1:  # IGNORE_IF_UNPOPULATED: "" or a UUID
                assert prop["pattern"] == "^$|" + UUID_PATTERN, where
            else:
                assert prop["pattern"] == UUID_PATTERN and prop["format"] == "uuid", where
        if rules.string.HasField("pattern"):
            assert prop["pattern"] == rules.string.pattern, where
        if rules.string.HasField("min_len"):
            assert prop["minLength"] == rules.string.min_len, where
    elif field.type == field.TYPE_INT32:
        if "anyOf" in prop:  # request side: the number, or the number written as a string
            prop, written = prop["anyOf"][0], prop["anyOf"][1]
            assert written["type"] == "string" and written["pattern"].startswith("^"), where
            kinds = _types(prop)
        assert "integer" in kinds, where
        if rules.int32.HasField("gte"):
            assert prop["minimum"] == rules.int32.gte, where
        if rules.int32.HasField("lte"):
            assert prop["maximum"] == rules.int32.lte, where
    elif field.type == field.TYPE_BOOL:
        assert "boolean" in kinds, where
    elif field.type == field.TYPE_ENUM:
        names = [v.name for v in field.enum_type.values]
        if "anyOf" in prop:  # request side: names documented, other strings accepted
            enum_schema = COMPONENTS[prop["anyOf"][0]["$ref"].rsplit("/", 1)[1]]
            assert enum_schema["enum"] == names, where
            numbers = prop["anyOf"][2]
            if rules.enum.defined_only:
                assert numbers["enum"] == [v.number for v in field.enum_type.values], where
        else:
            assert COMPONENTS[prop["$ref"].rsplit("/", 1)[1]]["enum"] == names, where
    elif field.type == field.TYPE_MESSAGE:
        assert "$ref" in prop or "allOf" in prop, where


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_fidelity_oneofs_match(cls: type[models.Message]) -> None:
    descriptor = _descriptor(cls)
    official = {
        oneof.name: tuple(f.name for f in oneof.fields)
        for oneof in descriptor.oneofs
        if not (len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name)
    }
    assert cls.__oneofs__ == official


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_fidelity_zero_value_rules_make_request_fields_required(
    cls: type[models.Message],
) -> None:
    """protovalidate applies rules to proto3 scalars without presence, zero value included."""
    descriptor = _descriptor(cls)
    expected = []
    for field in descriptor.fields:
        rules = _rules(field)
        has_presence = field.containing_oneof is not None or field.message_type is not None
        if has_presence or field.label == field.LABEL_REPEATED or rules.ignore == 1:
            continue
        string = rules.string
        if (
            string.uuid
            or string.min_len > 0
            or (string.HasField("pattern") and "{1," in string.pattern)
        ):
            expected.append(field.json_name)
    assert sorted(required_fields(cls, Mode.REQUEST)) == sorted(expected)


def test_fidelity_descriptor_module_is_the_one_in_the_sdk() -> None:
    assert environment_automation_pb2.DESCRIPTOR.package == "gitpod.v1"
