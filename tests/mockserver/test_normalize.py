"""Normalization of decoded requests: names, enums, nulls, unknown fields."""

from __future__ import annotations

import pytest

from mockserver.http.connect import ConnectError
from mockserver.http.normalize import build_normalizer
from openapi import models
from openapi.errors import Code


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
