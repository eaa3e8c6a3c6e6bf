"""Validators compiled from the document, and how their errors read."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.http.connect import ConnectError
from mockserver.http.validation import MAX_REPORTED_ERRORS, RequestValidator, field_path
from openapi.methods import METHODS


@pytest.fixture(scope="module")
def validators(document: dict[str, Any]) -> dict[str, RequestValidator]:
    return {m.name: RequestValidator.for_operation(document, m.path) for m in METHODS}


def _message(validator: RequestValidator, body: dict[str, Any]) -> str:
    with pytest.raises(ConnectError) as caught:
        validator.check(body)
    return caught.value.message


def test_validation_field_path_formats_names_and_indexes() -> None:
    assert field_path(["metadata", "triggeredBy", 0, "manual"]) == "metadata.triggeredBy[0].manual"
    assert field_path([]) == ""
    assert field_path([3]) == "[3]"


def test_validation_accepts_the_document_examples(
    document: dict[str, Any], validators: dict[str, RequestValidator]
) -> None:
    for method in METHODS:
        content = document["paths"][method.path]["post"]["requestBody"]["content"]
        for example in content["application/json"].get("examples", {}).values():
            validators[method.name].check(example["value"])


def test_validation_reports_one_complaint_per_field(
    validators: dict[str, RequestValidator],
) -> None:
    # A bad UUID fails its pattern and its format: one item, not two.
    assert _message(validators["GetTask"], {"id": "x"}) == 'id: "x" is not a UUID'


def test_validation_reports_several_fields(validators: dict[str, RequestValidator]) -> None:
    body = {"environmentId": "x", "metadata": {"name": "", "reference": "ok"}}
    message = _message(validators["CreateTask"], body)
    assert (
        message == 'environmentId: "x" is not a UUID; metadata.name: "" is shorter than 1 character'
    )


def test_validation_caps_the_number_of_reported_errors(
    validators: dict[str, RequestValidator],
) -> None:
    body = {"filter": {"taskIds": [f"bad{i}" for i in range(10)]}}
    message = _message(validators["ListTasks"], body)
    assert message.count(";") == MAX_REPORTED_ERRORS - 1


def test_validation_oneof_of_env_source(validators: dict[str, RequestValidator]) -> None:
    body = {
        "id": "07e03a28-65a5-4d98-b532-8ea67b188048",
        "spec": {
            "env": [
                {
                    "name": "A",
                    "value": "1",
                    "valueFrom": {"secretRef": {"id": "07e03a28-65a5-4d98-b532-8ea67b188048"}},
                }
            ]
        },
    }
    assert (
        _message(validators["UpdateTask"], body)
        == "spec.env[0]: at most one of value, valueFrom may be set"
    )


def test_validation_runs_on_oneof(validators: dict[str, RequestValidator]) -> None:
    body = {
        "id": "07e03a28-65a5-4d98-b532-8ea67b188048",
        "spec": {"runsOn": {"docker": {"image": "x"}, "machine": {}}},
    }
    assert (
        _message(validators["UpdateTask"], body)
        == "spec.runsOn: at most one of docker, machine may be set"
    )


def test_validation_upper_case_uuid_is_valid(validators: dict[str, RequestValidator]) -> None:
    validators["GetTask"].check({"id": "07E03A28-65A5-4D98-B532-8EA67B188048"})


def test_validation_counts_only_the_enum_values_that_survive_decoding(
    validators: dict[str, RequestValidator],
) -> None:
    # The codec drops unknown enum names before protovalidate counts (max_items 25), so the
    # document limits the names and numbers (maxContains), not the raw items.
    validator = validators["ListTaskExecutions"]
    known = ["TASK_EXECUTION_PHASE_PENDING", 58] * 12 + ["TASK_EXECUTION_PHASE_RUNNING"]
    validator.check({"filter": {"phases": known}})
    validator.check({"filter": {"phases": [*known, *["NOT_A_PHASE"] * 14]}})
    message = _message(validator, {"filter": {"phases": [*known, 3]}})
    assert message == (
        "filter.phases: more than 25 items (enum names the codec drops do not count)"
    )
