"""Normalization of decoded requests: names, enums, nulls, unknown fields."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.domain import JsonObject
from mockserver.http.connect import ConnectError
from mockserver.http.normalize import MAX_ITEMS, MessageNormalizer, _Field, build_normalizer
from openapi import models
from openapi.errors import Code
from openapi.methods import METHODS


def test_normalize_converts_snake_case_at_every_depth() -> None:
    normalizer = build_normalizer(models.CreateTaskRequest)
    out = normalizer.normalize(
        {
            "environment_id": "e",
            "depends_on": ["a"],
            "metadata": {"triggered_by": [{"post_machine_start": True}]},
            "spec": {
                "runs_on": {"docker": {"image": "i"}},
                "env": [{"name": "A", "value_from": {"secret_ref": {"id": "s"}}}],
            },
        }
    )
    assert out == {
        "environmentId": "e",
        "dependsOn": ["a"],
        "metadata": {"triggeredBy": [{"postMachineStart": True}]},
        "spec": {
            "runsOn": {"docker": {"image": "i"}},
            "env": [{"name": "A", "valueFrom": {"secretRef": {"id": "s"}}}],
        },
    }


def test_normalize_keeps_map_keys_and_values_untouched() -> None:
    normalizer = build_normalizer(models.TaskExecutionStatusStep)
    out = normalizer.normalize({"output": {"exit_code": "0", "someKey": None}})
    assert out == {"output": {"exit_code": "0", "someKey": None}}


def test_normalize_maps_enum_numbers_and_drops_unknown_names() -> None:
    normalizer = build_normalizer(models.ListTaskExecutionsRequest)
    out = normalizer.normalize(
        {"filter": {"phases": [2, "TASK_EXECUTION_PHASE_FAILED", "SOMETHING_NEW", 99]}}
    )
    assert out == {
        "filter": {"phases": ["TASK_EXECUTION_PHASE_RUNNING", "TASK_EXECUTION_PHASE_FAILED", 99]}
    }


def test_normalize_drops_a_singular_unknown_enum_name() -> None:
    normalizer = build_normalizer(models.Subject)
    assert normalizer.normalize({"principal": "PRINCIPAL_ALIEN", "id": "x"}) == {"id": "x"}
    assert normalizer.normalize({"principal": 2}) == {"principal": "PRINCIPAL_USER"}


def test_normalize_drops_nulls_and_unknown_fields() -> None:
    normalizer = build_normalizer(models.ListTasksRequest)
    assert normalizer.normalize({"pagination": None, "x": 1, "filter": {"taskIds": None}}) == {
        "filter": {}
    }


def test_normalize_leaves_wrong_types_for_the_validator() -> None:
    normalizer = build_normalizer(models.ListTasksRequest)
    body = {"pagination": [1], "filter": {"references": "a"}}
    assert normalizer.normalize(body) == body


def test_normalize_turns_integral_floats_into_integers() -> None:
    normalizer = build_normalizer(models.ListTasksRequest)
    out = normalizer.normalize({"pagination": {"pageSize": 10.0}})
    assert out == {"pagination": {"pageSize": 10}}
    assert isinstance(out["pagination"]["pageSize"], int)


def test_normalize_strict_names_the_unknown_field_path() -> None:
    normalizer = build_normalizer(models.CreateTaskRequest, strict=True)
    with pytest.raises(ConnectError) as caught:
        normalizer.normalize({"metadata": {"triggeredBy": [{"manual": True, "hourly": True}]}})
    assert caught.value.code is Code.invalid_argument
    assert caught.value.message == (
        "metadata.triggeredBy[0].hourly: unknown field of gitpod.v1.AutomationTrigger"
    )


def test_normalize_rejects_a_field_given_twice() -> None:
    normalizer = build_normalizer(models.CreateTaskRequest)
    with pytest.raises(ConnectError, match="environmentId: field given more than once"):
        normalizer.normalize({"environmentId": "a", "environment_id": "b"})


def test_normalize_leaves_a_non_list_repeated_enum_for_the_validator() -> None:
    """A bare string where a list of enums belongs is a type error, not an unknown name."""
    normalizer = build_normalizer(models.ListTaskExecutionsRequest)
    body = {"filter": {"phases": "abc"}}
    assert normalizer.normalize(body) == body


# -- the walk that recognises a message as already normal --------------------------------

# Every request, and Subject for a singular enum field (no request has one).
_MODELS = [method.request for method in METHODS] + [models.Subject]


def _building_walk(normalizer: MessageNormalizer, message: JsonObject) -> object:
    """What normalize gives without its shortcut: the result, or the error's message."""
    with mock.patch.object(MessageNormalizer, "_is_normal", return_value=False):
        try:
            return _typed(normalizer.normalize(message))
        except ConnectError as error:
            return error.message


def _typed(value: object) -> str:
    """The value as JSON, so that 2.0 and 2 (equal in Python) differ, and so does key order."""
    return json.dumps(value)


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0.0, 2.0, 2.5]),
    st.sampled_from(["", "x", "NOPE"]),
    st.dictionaries(st.sampled_from(["k", "exit_code"]), st.sampled_from(["v", 1]), max_size=2),
)


def _field_values(spec: _Field, depth: int, junk: bool) -> st.SearchStrategy[object]:
    """Values for one field: of its own kind (enum names known or not, enum numbers,
    integral floats, nested messages), and with ``junk`` of any other."""
    own: st.SearchStrategy[object]
    if spec.message is not None and depth < 2:
        own = _messages(spec.message, depth + 1)
    elif spec.enum_names:
        own = st.one_of(
            st.sampled_from(sorted(spec.enum_names)),
            st.sampled_from(sorted(spec.enum_numbers)),
            st.just(99),
            st.just("UNKNOWN_NAME"),
        )
    else:
        own = st.one_of(st.text(max_size=3), st.integers(-2, 2), st.sampled_from([1.0, 1.5]))
    one = st.one_of(own, own, _JUNK) if junk else own
    return st.one_of(st.lists(one, max_size=3), one) if spec.repeated else one


def _messages(normalizer: MessageNormalizer, depth: int = 0) -> st.SearchStrategy[JsonObject]:
    """Dicts of a message's fields. Mostly under their JSON names with values of their
    kind, which may be normal already (the shortcut's case); else under either name
    (sometimes both), unknown keys and values of any kind."""
    specs = {spec.json_name: spec for spec in normalizer.fields.values()}
    clean = {key: _field_values(spec, depth, junk=False) for key, spec in specs.items()}
    messy = {key: _field_values(spec, depth, junk=True) for key, spec in normalizer.fields.items()}
    messy["unknownField"] = _JUNK

    def dicts(parts: dict[str, st.SearchStrategy[object]]) -> st.SearchStrategy[JsonObject]:
        return st.lists(st.sampled_from(sorted(parts)), max_size=4, unique=True).flatmap(
            lambda keys: st.fixed_dictionaries({key: parts[key] for key in keys})
        )

    return st.one_of(dicts(clean), dicts(clean), dicts(messy))


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("model", _MODELS, ids=lambda model: model.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_normalize_shortcut_agrees_with_the_building_walk(
    model: type[models.Message], strict: bool, data: st.DataObject
) -> None:
    """Returning the message itself is only a shortcut: for any input, normal or not, the
    result (or the error) is exactly what building a new dict gives."""
    normalizer = build_normalizer(model, strict=strict)
    message = data.draw(_messages(normalizer))
    try:
        got: object = _typed(normalizer.normalize(message))
    except ConnectError as error:
        got = error.message
    assert got == _building_walk(normalizer, message)


def test_normalize_returns_a_normal_message_itself() -> None:
    normalizer = build_normalizer(models.CreateTaskRequest)
    body = {
        "environmentId": "e",
        "dependsOn": ["a"],
        "metadata": {"name": "n", "triggeredBy": [{"manual": True}]},
        "spec": {"command": "c", "runsOn": {"docker": {"image": "i"}}},
    }
    assert normalizer.normalize(body) is body
    listing = build_normalizer(models.ListTaskExecutionsRequest)
    query = {"filter": {"phases": ["TASK_EXECUTION_PHASE_RUNNING"]}, "pagination": {"pageSize": 5}}
    assert listing.normalize(query) is query
    # One proto name anywhere, and the result is a new, normalized dict.
    renamed = {**body, "spec": {"command": "c", "runs_on": {"docker": {"image": "i"}}}}
    out = normalizer.normalize(renamed)
    assert out is not renamed
    assert out == body


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (models.ListTaskExecutionsRequest, {"filter": {"phases": ["UNKNOWN_NAME"]}}),
        (models.ListTaskExecutionsRequest, {"filter": {"phases": [2]}}),
        (models.ListTasksRequest, {"pagination": {"pageSize": 2.0}}),
        (models.ListTasksRequest, {"filter": {"taskIds": ["a"] * (MAX_ITEMS + 1)}}),
        (models.Subject, {"principal": 2}),
        (models.Subject, {"principal": "PRINCIPAL_ALIEN"}),
        (models.CreateTaskRequest, {"spec": {"command": None}}),
    ],
    ids=[
        "unknown-enum-item",
        "enum-number-item",
        "integral-float",
        "too-many",
        "enum-number",
        "unknown-enum",
        "null",
    ],
)
def test_normalize_shortcut_is_not_taken_where_normalizing_changes_something(
    model: type[models.Message], message: JsonObject
) -> None:
    normalizer = build_normalizer(model)
    expected = _building_walk(normalizer, message)
    try:
        got: object = _typed(normalizer.normalize(message))
    except ConnectError as error:
        got = error.message
    assert got == expected
    assert got != _typed(message)  # each case is one the building walk changes
