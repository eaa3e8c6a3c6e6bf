"""The binary codec against the official message classes, byte for byte.

(a) Whatever the domain answers, the fake's encoding decodes with the official classes
into exactly the message its proto3 JSON stands for. (b) A request the official classes
encode reaches the domain as the same dict as its JSON twin.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import duration_pb2, json_format, message_factory, timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.domain import JsonObject
from mockserver.domain.testing import ENV_A, ENV_B, World
from mockserver.http.codecs import CODECS, JsonCodec
from mockserver.http.normalize import build_normalizer
from mockserver.http.protobuf import ProtoCodec, message_class
from mockserver.http.wire import duration_body, timestamp_body
from openapi.methods import METHODS, METHODS_BY_NAME, RpcMethod

CODEC = CODECS["application/proto"]
JSON_CODEC = JsonCodec()
NORMALIZERS = {method.name: build_normalizer(method.request) for method in METHODS}

SCENARIO = """
rules:
  - match: {reference: "^flaky"}
    outcome: fail
    duration: 2
    failure_message: "exit status 1"
    output: {exitCode: "1", note: "é ✓"}
"""

# -- helpers ----------------------------------------------------------------------------------


def test_protobuf_codec_is_registered_for_application_proto() -> None:
    assert isinstance(CODEC, ProtoCodec)
    assert CODEC.content_type == "application/proto"


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.name)
def test_protobuf_message_classes_are_the_official_ones(method: RpcMethod) -> None:
    for model in (method.request, method.response):
        cls = message_class(model)
        assert cls.DESCRIPTOR.full_name == model.__proto_name__
        assert cls.__module__ == "gitpod.v1.environment_automation_pb2"


def _check_response(method: str, response: JsonObject) -> None:
    """The fake's bytes decode into the message its JSON describes, with nothing lost."""
    rpc = METHODS_BY_NAME[method]
    cls = message_class(rpc.response)
    decoded = cls.FromString(CODEC.encode(response, rpc))
    # The JSON codec's bytes, parsed by the official JSON parser: the same message.
    assert decoded == json_format.Parse(JSON_CODEC.encode(response, rpc), cls())
    # And the domain's JSON is already canonical proto3 JSON: nothing dropped or added.
    assert json_format.MessageToDict(decoded) == response


# -- (a) responses --------------------------------------------------------------------------

# Protobuf strings are UTF-8: no lone surrogates.
_CHARACTERS = st.characters(exclude_categories=["Cs"])
_TEXT = st.text(_CHARACTERS, max_size=20)
_NAME = st.text(_CHARACTERS, min_size=1, max_size=20)
_REFERENCE = st.from_regex(r"\A(flaky|job)[a-zA-Z0-9_-]{0,10}\Z")
_UUID = st.uuids().map(str)
_TRIGGER = st.sampled_from(
    ["manual", "postMachineStart", "postEnvironmentStart", "postDevcontainerStart", "prebuild"]
).flatmap(lambda name: st.booleans().map(lambda flag: {name: flag}))
_ENV_ITEM = st.builds(
    lambda name, source: {"name": name, **source},
    _NAME,
    st.one_of(
        _TEXT.map(lambda value: {"value": value}),
        _UUID.map(lambda id_: {"valueFrom": {"secretRef": {"id": id_}}}),
    ),
)
_RUNS_ON = st.one_of(
    st.just({"machine": {}}),
    st.builds(
        lambda image, env: {"docker": {"image": image, **({"environment": env} if env else {})}},
        _NAME,
        st.lists(_TEXT, max_size=2),
    ),
)


@st.composite
def _task_request(draw: st.DrawFn) -> JsonObject:
    metadata: JsonObject = {"name": draw(_NAME), "reference": draw(_REFERENCE)}
    if draw(st.booleans()):
        metadata["description"] = draw(_TEXT)
    triggers = draw(st.lists(_TRIGGER, max_size=3))
    if triggers:
        metadata["triggeredBy"] = triggers
    spec: JsonObject = {"command": draw(_TEXT)}
    env = draw(st.lists(_ENV_ITEM, max_size=3))
    if env:
        spec["env"] = env
    if draw(st.booleans()):
        spec["runsOn"] = draw(_RUNS_ON)
    return {
        "environmentId": draw(st.sampled_from([ENV_A, ENV_B])),
        "metadata": metadata,
        "spec": spec,
    }


_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(0.1, 5, allow_nan=False)),
        st.tuples(st.just("start"), st.integers(0, 10)),
        st.tuples(st.just("stop"), st.integers(0, 10)),
        st.tuples(st.just("update"), st.integers(0, 10)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_task_request(), min_size=1, max_size=4), _ACTIONS)
def test_protobuf_domain_responses_decode_with_the_official_classes(
    requests: list[JsonObject], actions: list[tuple[str, Any]]
) -> None:
    world = World(scenario=SCENARIO)
    tasks: list[str] = []
    executions: list[str] = []

    def call(method: str, request: JsonObject) -> JsonObject:
        response = world.call(method, request)
        _check_response(method, response)
        return response

    for request in requests:
        existing = {
            (task["environmentId"], task["metadata"].get("reference"))
            for task in call("ListTasks", {}).get("tasks", [])
        }
        if (request["environmentId"], request["metadata"]["reference"]) in existing:
            continue
        tasks.append(call("CreateTask", request)["task"]["id"])
    for kind, value in actions:
        if kind == "advance":
            world.advance(value)
        elif kind == "start":
            started = call("StartTask", {"id": tasks[value % len(tasks)]})
            executions.append(started["taskExecution"]["id"])
        elif kind == "stop" and executions:
            execution = call("GetTaskExecution", {"id": executions[value % len(executions)]})
            if execution["taskExecution"]["status"]["phase"] in (
                "TASK_EXECUTION_PHASE_PENDING",
                "TASK_EXECUTION_PHASE_RUNNING",
            ):
                call("StopTaskExecution", {"id": execution["taskExecution"]["id"]})
        elif kind == "update":
            call("UpdateTask", {"id": tasks[value % len(tasks)], "spec": {"command": "again"}})
    for task_id in tasks:
        call("GetTask", {"id": task_id})
    for execution_id in executions:
        call("GetTaskExecution", {"id": execution_id})
    call("ListTasks", {"pagination": {"pageSize": 2}})
    call("ListTaskExecutions", {})


# -- (b) requests ---------------------------------------------------------------------------

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_STRING = st.one_of(_TEXT, _UUID, st.sampled_from(["", "build", "not-a-uuid"]))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return _STRING
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        # Defined values, and a few a newer server might add (open proto3 enums).
        return st.one_of(
            st.sampled_from([value.number for value in field.enum_type.values]),
            st.integers(0, 12),
        )
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=8)
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    low, high = _INT_RANGES[field.type]
    return st.one_of(st.integers(0, 200), st.integers(low, high))


@st.composite
def _message(draw: st.DrawFn, descriptor: Descriptor, depth: int = 0) -> Any:
    """Any message of ``descriptor``: each field set or not, one member of each oneof."""
    cls = message_factory.GetMessageClass(descriptor)
    message = cls()
    if descriptor.full_name == "google.protobuf.Timestamp":
        message.seconds = draw(st.integers(-62135596800, 253402300799))
        message.nanos = draw(st.integers(0, 999_999_999))
        return message
    if descriptor.full_name == "google.protobuf.Duration":
        seconds = draw(st.integers(-315576000000, 315576000000))
        nanos = draw(st.integers(0, 999_999_999))
        message.seconds, message.nanos = seconds, -nanos if seconds < 0 else nanos
        return message
    chosen = {
        oneof.name: draw(st.sampled_from([None, *oneof.fields]))
        for oneof in descriptor.oneofs
        if not oneof.name.startswith("_")
    }
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and not oneof.name.startswith("_"):
            if chosen[oneof.name] is not field:
                continue
        elif not draw(st.booleans()):
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields
            entries = draw(st.dictionaries(_scalar(key_field), _scalar(value_field), max_size=3))
            getattr(message, field.name).update(entries)
        elif field.message_type is not None:
            if depth > 6:
                continue
            sub = _message(field.message_type, depth + 1)
            if field.label == FieldDescriptor.LABEL_REPEATED:
                getattr(message, field.name).extend(draw(st.lists(sub, max_size=3)))
            else:
                getattr(message, field.name).CopyFrom(draw(sub))
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            getattr(message, field.name).extend(draw(st.lists(_scalar(field), max_size=3)))
        else:
            setattr(message, field.name, draw(_scalar(field)))
    return message


_ANY_RESPONSE = st.sampled_from(METHODS).flatmap(
    lambda method: st.tuples(st.just(method), _message(message_class(method.response).DESCRIPTOR))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY_RESPONSE)
def test_protobuf_encoder_writes_any_response_message(case: tuple[RpcMethod, Any]) -> None:
    """Every field kind the response messages have (maps, enums unknown to the names,
    64-bit integers, timestamps, durations, oneofs, empty messages) survives the encoder."""
    method, message = case
    as_json = json_format.MessageToDict(message)
    encoded = CODEC.encode(as_json, method)
    assert type(message).FromString(encoded) == message
    # The same dict again (the cache is keyed by identity): the same bytes.
    assert CODEC.encode(as_json, method) == encoded


def _request(method: RpcMethod) -> st.SearchStrategy[Any]:
    return _message(message_class(method.request).DESCRIPTOR)


_ANY_REQUEST = st.sampled_from(METHODS).flatmap(
    lambda method: st.tuples(st.just(method), _request(method))
)


def _through_the_server(codec: Any, body: bytes, method: RpcMethod) -> JsonObject:
    normalized: JsonObject = NORMALIZERS[method.name].normalize(codec.decode(body, method))
    return normalized


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY_REQUEST)
def test_protobuf_requests_decode_like_their_json_twins(case: tuple[RpcMethod, Any]) -> None:
    method, message = case
    binary = message.SerializeToString()
    twin = json_format.MessageToJson(message).encode()
    from_binary = _through_the_server(CODEC, binary, method)
    from_json = _through_the_server(JSON_CODEC, twin, method)
    assert from_binary == from_json
    # Both are what the proto3 JSON mapping says the message is.
    assert json.loads(twin) == CODEC.decode(binary, method)


@settings(max_examples=100, deadline=None)
@given(_ANY_REQUEST)
def test_protobuf_request_round_trip_through_the_response_encoder(
    case: tuple[RpcMethod, Any],
) -> None:
    """Decoding then encoding (as the same message type) gives back the same message."""
    method, message = case
    decoded = CODEC.decode(message.SerializeToString(), method)
    again = json_format.ParseDict(decoded, type(message)())
    assert again == message


@pytest.mark.parametrize(
    "text",
    ["0s", "1.5s", "-1.5s", "-0.000000001s", "315576000000.999999999s", "-315576000000s", "3s"],
)
def test_protobuf_encoder_writes_durations_like_json_format(text: str) -> None:
    expected = json_format.Parse(json.dumps(text), duration_pb2.Duration())
    assert duration_pb2.Duration.FromString(duration_body(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1970-01-01T00:00:00Z",
        "2026-11-29T10:20:30.123456Z",
        "1969-12-31T23:59:59.999999999Z",
        "0001-01-01T00:00:00Z",
        "2026-11-29T12:20:30.5+02:00",
        "2026-11-29T08:20:30-02:30",
    ],
)
def test_protobuf_encoder_writes_timestamps_like_json_format(text: str) -> None:
    expected = json_format.Parse(json.dumps(text), timestamp_pb2.Timestamp())
    assert timestamp_pb2.Timestamp.FromString(timestamp_body(text)) == expected
