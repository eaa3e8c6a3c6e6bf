"""Shaped positive bodies stay valid, in every proto3 JSON spelling, and reach the logic."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gitpod.v1 import environment_automation_pb2 as pb
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from contracts.document import Document, load_document
from contracts.exchange import Exchange
from contracts.realistic import UNKNOWN_FIELD, Shaper, with_unknown_field
from contracts.refusals import refusals

_ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"
_TASK = "d2c94c27-3b76-4a42-b88c-95a85e392c68"
_OPERATIONS = ("CreateTask", "UpdateTask", "ListTasks", "ListTaskExecutions", "GetTask")


@pytest.fixture(scope="module")
def doc() -> Document:
    return load_document()


def _request(operation: str) -> Any:
    return getattr(pb, f"{operation}Request")()


def _parses(operation: str, body: object) -> bool:
    try:
        json_format.Parse(json.dumps(body), _request(operation), ignore_unknown_fields=True)
    except json_format.ParseError:
        return False
    return True


def _created(task_id: str, environment_id: str = _ENV) -> Exchange:
    body = {"task": {"id": task_id, "environmentId": environment_id}}
    return Exchange(
        operation="CreateTask", url="", request_headers={}, request_body=b"{}", status=200,
        response_headers={}, content=json.dumps(body).encode(), sent_at=0, received_at=0,
        curl="",
    )  # fmt: skip


@pytest.mark.parametrize("operation", _OPERATIONS)
def test_shaped_bodies_parse_with_the_official_parser(doc: Document, operation: str) -> None:
    shaper = Shaper(doc, seed=1, run_id="r")
    shaper.observe(_created(_TASK))
    schema = doc.schemathesis_schema(GenerationMode.POSITIVE)
    strategy = schema.find_operation_by_id(operation).as_strategy(
        generation_mode=GenerationMode.POSITIVE
    )
    spellings: set[str] = set()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(case: Any) -> None:
        body = doc.strip_aliases(case.body)
        shaped = shaper.shape(operation, body)
        assert _parses(operation, shaped), shaped
        spellings.update(key for key in _keys(shaped) if "_" in key)

    check()
    if operation in ("CreateTask", "UpdateTask"):
        assert spellings, "no proto field name was ever used"


def _keys(node: object) -> set[str]:
    if isinstance(node, list):
        return {key for item in node for key in _keys(item)}
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in _keys(value)}
    return set()


def test_shaped_create_task_is_unique_and_depends_on_created_tasks(doc: Document) -> None:
    shaper = Shaper(doc, seed=3, run_id="r")
    shaper.observe(_created(_TASK))
    shaper.observe(_created("11111111-2222-3333-4444-555555555555", "other-environment"))
    body = {
        "environmentId": _ENV,
        "metadata": {"reference": "build", "name": "n"},
        "dependsOn": ["99999999-9999-9999-9999-999999999999"],
    }
    references, dependencies = set(), set()
    for _ in range(30):
        shaped: Any = shaper.shape("CreateTask", body)
        metadata = shaped.get("metadata", {})
        references.add(metadata["reference"])
        dependencies.update(shaped.get("dependsOn", shaped.get("depends_on", [])))
    assert len(references) == 30
    assert dependencies <= {_TASK}


def test_with_unknown_field_adds_one_field(doc: Document) -> None:
    body = {"id": _TASK}
    extended = with_unknown_field(body)
    assert set(extended) == {"id", UNKNOWN_FIELD} and body == {"id": _TASK}
    assert UNKNOWN_FIELD not in doc.property_names


@pytest.mark.parametrize("operation", ["CreateTask", "ListTasks", "ListTaskExecutions"])
def test_refusals_differ_from_a_valid_example_by_one_refused_form(
    doc: Document, operation: str
) -> None:
    kinds: set[str] = set()
    for example in doc.examples(operation):
        assert _parses(operation, example)
        for refused in refusals(doc, example):
            text = json.dumps(refused)
            if '"not a message"' in text or '["not", "a", "message"]' in text:
                # Go refuses; Python's json_format, told to ignore unknown fields, reads a
                # string's characters and a list's items as (unknown) field names.
                kinds.add("message")
            elif "true]" in text or "1.5]" in text:
                kinds.add("enum")  # Go refuses; Python's json_format reads 1 (int())
            else:
                kinds.add("both names")  # Go refuses; Python's keeps the last
                assert any("_" in key for key in _keys(refused) - _keys(example)), refused
    assert "message" in kinds and "both names" in kinds
    if operation == "ListTaskExecutions":
        assert "enum" in kinds
