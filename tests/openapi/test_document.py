"""The generated document is valid, current, and loads in the tools that consume it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from openapi_core import OpenAPI
from openapi_spec_validator import validate

import openapi
from openapi.errors import HTTP_STATUS
from openapi.generator import GET_OPERATION_SUFFIX
from openapi.methods import METHODS


def test_document_validates_with_openapi_spec_validator(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_document_committed_copy_is_current() -> None:
    assert openapi.document_text() == openapi.render_document()


def test_document_check_command_passes_when_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openapi", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_document_print_command_emits_the_committed_yaml() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openapi"], capture_output=True, text=True, check=True
    )
    assert result.stdout == openapi.document_text()


def test_document_check_command_fails_on_drift(tmp_path: Any, monkeypatch: Any) -> None:
    from openapi import __main__ as cli
    from openapi import generator

    stale = tmp_path / "openapi.yaml"
    stale.write_text(openapi.document_text().replace("GetTask", "FetchTask", 1))
    monkeypatch.setattr(cli, "DOCUMENT_PATH", stale)
    assert stale != generator.DOCUMENT_PATH
    assert cli.main(["--check"]) == 1


def test_document_loads_in_schemathesis(document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    names = {operation.definition.raw["operationId"] for operation in operations}
    gets = {m.name + GET_OPERATION_SUFFIX for m in METHODS if not m.has_side_effects}
    assert names == {method.name for method in METHODS} | gets


def test_document_loads_in_openapi_core(document: dict[str, Any]) -> None:
    spec = OpenAPI.from_dict(document)
    assert spec is not None


def test_document_has_one_post_path_per_method(document: dict[str, Any]) -> None:
    expected = {f"/gitpod.v1.EnvironmentAutomationService/{m.name}" for m in METHODS}
    assert set(document["paths"]) == expected
    for method in METHODS:
        item = document["paths"][method.path]
        # Connect GET is part of the protocol for methods without side effects.
        assert list(item) == (["post"] if method.has_side_effects else ["post", "get"])
        operation = item["post"]
        assert operation["operationId"] == method.name
        assert operation["security"] == [{"bearerAuth": []}]
        assert "application/json" in operation["requestBody"]["content"]
        assert "200" in operation["responses"]


def test_document_error_responses_follow_the_connect_status_table(
    document: dict[str, Any],
) -> None:
    for method in METHODS:
        responses = document["paths"][method.path]["post"]["responses"]
        for code in method.all_errors:
            status = str(HTTP_STATUS[code])
            assert status in responses, (method.name, code)
            schema = responses[status]["content"]["application/json"]["schema"]
            assert code.name in schema["allOf"][1]["properties"]["code"]["enum"]
        assert "401" in responses
        assert "415" in responses  # a content type the Connect protocol does not speak
        # The protocol requires only the status: an empty body (connect-python's runtime)
        # conforms as well as a Connect error.
        assert "content" not in responses["415"], method.name


def test_document_create_examples_name_no_task(document: dict[str, Any]) -> None:
    # A tool replaying examples against an empty server must not meet a dependsOn to a task
    # that was never created (upstream schemathesis counted that as a rejected valid request).
    path = openapi.METHODS_BY_NAME["CreateTask"].path
    examples = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    for example in examples["examples"].values():
        assert not example["value"].get("dependsOn")


def test_document_connect_get_takes_the_message_in_the_query(document: dict[str, Any]) -> None:
    for method in METHODS:
        get = document["paths"][method.path].get("get")
        if method.has_side_effects:
            assert get is None, method.name
            continue
        params = {param["name"]: param for param in get["parameters"]}
        assert params["encoding"]["required"] and params["message"]["required"]
        schema = params["message"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{method.request.__name__}"}
        post = document["paths"][method.path]["post"]["responses"]
        assert set(get["responses"]) == set(post)
        assert get["responses"]["200"]["content"] == post["200"]["content"]


def test_document_links_chain_created_ids(document: dict[str, Any]) -> None:
    def links(method: str) -> dict[str, Any]:
        ok = document["paths"][openapi.METHODS_BY_NAME[method].path]["post"]["responses"]["200"]
        result: dict[str, Any] = ok.get("links", {})
        return result

    assert {link["operationId"] for link in links("CreateTask").values()} == {
        "GetTask",
        "UpdateTask",
        "DeleteTask",
        "StartTask",
    }
    assert {link["operationId"] for link in links("StartTask").values()} == {
        "GetTaskExecution",
        "StopTaskExecution",
    }
    assert links("ListTasks")["GetTask"]["requestBody"] == {"id": "$response.body#/tasks/0/id"}
    # The way in to CreateTask for a stateful tester: nothing here returns an environment.
    assert links("ListTasks")["CreateTask"]["requestBody"] == {
        "environmentId": "$response.body#/tasks/0/environmentId"
    }
    assert not links("GetTask") and not links("ListTaskExecutions")


def test_document_connect_get_has_the_links_of_the_post(document: dict[str, Any]) -> None:
    for method in openapi.METHODS:
        get = document["paths"][method.path].get("get")
        if get is None:
            continue
        post = document["paths"][method.path]["post"]["responses"]["200"]
        assert get["responses"]["200"].get("links") == post.get("links")


def _validator(document: dict[str, Any], name: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def test_document_examples_are_valid_requests(document: dict[str, Any]) -> None:
    for method in METHODS:
        media = document["paths"][method.path]["post"]["requestBody"]["content"]
        examples = media["application/json"].get("examples", {})
        assert examples, method.name
        validator = _validator(document, method.request.__name__)
        for name, example in examples.items():
            errors = [e.message for e in validator.iter_errors(example["value"])]
            assert not errors, (method.name, name, errors)


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ("GetTaskRequest", {"id": "D2C94C27-3B76-4A42-B88C-95A85E392C68"}),
        ("GetTaskRequest", {"id": "d2c94c27-3b76-4a42-b88c-95a85e392c68", "unknown": 1}),
        ("ListTasksRequest", {"pagination": {"pageSize": 0}}),
        ("ListTasksRequest", {"pagination": {"pageSize": 100}, "filter": None}),
        ("ListTaskExecutionsRequest", {"filter": {"phases": ["NOT_A_PHASE", 3]}}),
        ("CreateTaskRequest", {"environmentId": "d2c94c27-3b76-4a42-b88c-95a85e392c68"}),
    ],
)
def test_request_schema_accepts_what_a_connect_server_accepts(
    document: dict[str, Any], schema: str, instance: dict[str, Any]
) -> None:
    assert _validator(document, schema).is_valid(instance)


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ("GetTaskRequest", {}),
        ("GetTaskRequest", {"id": ""}),
        ("GetTaskRequest", {"id": "not-a-uuid"}),
        ("CreateTaskRequest", {}),
        (
            "CreateTaskRequest",
            {
                "environmentId": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
                "metadata": {"reference": "has space", "name": "x"},
            },
        ),
        ("ListTasksRequest", {"pagination": {"pageSize": 101}}),
        ("ListTasksRequest", {"pagination": {"pageSize": -1}}),
        ("ListTasksRequest", {"filter": {"references": [""]}}),
        (
            "ListTasksRequest",
            {"filter": {"taskIds": ["d2c94c27-3b76-4a42-b88c-95a85e392c68"] * 26}},
        ),
        (
            "UpdateTaskRequest",
            {
                "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
                "metadata": {"triggeredBy": {"trigger": [{"manual": True, "prebuild": True}]}},
            },
        ),
        (
            "UpdateTaskRequest",
            {
                "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
                "spec": {"env": [{"name": "A", "value": "1", "valueFrom": {}}]},
            },
        ),
        (
            "UpdateTaskRequest",
            {
                "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
                "spec": {"runsOn": {"docker": {"image": "x"}, "machine": {}}},
            },
        ),
    ],
)
def test_request_schema_rejects_what_the_descriptor_rules_reject(
    document: dict[str, Any], schema: str, instance: dict[str, Any]
) -> None:
    assert not _validator(document, schema).is_valid(instance)


def test_response_schemas_are_strict(document: dict[str, Any]) -> None:
    execution = _validator(document, "GetTaskExecutionResponse")
    valid = {
        "taskExecution": {
            "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
            "status": {"phase": "TASK_EXECUTION_PHASE_RUNNING", "statusVersion": "3"},
        }
    }
    assert execution.is_valid(valid)
    renamed = {"taskExecution": {**valid["taskExecution"], "status": {"phase": "RUNNING"}}}
    assert not execution.is_valid(renamed)
    assert not execution.is_valid({})
    numeric_version = {"taskExecution": {**valid["taskExecution"], "status": {"statusVersion": 3}}}
    assert not execution.is_valid(numeric_version)
