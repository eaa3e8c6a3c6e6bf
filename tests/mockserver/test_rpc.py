"""The RPC endpoints over the JSON codec: success paths and every protocol error."""

from __future__ import annotations

import gzip
import json
import urllib.parse
from typing import Any

import pytest
from starlette.applications import Starlette

from mockserver.domain import Backend
from openapi.methods import METHODS
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import SERVICE_PATH, AsgiClient, connect_error
from tests.support.factories import ENV, MISSING, OTHER_ENV, task_body

PHASE = "TASK_EXECUTION_PHASE_"


def _backend(app: Starlette) -> Backend:
    backend: Backend = app.state.backend
    return backend


def _advance(app: Starlette, seconds: float) -> None:
    clock: Any = _backend(app).clock
    clock.advance(seconds)


# -- success paths -------------------------------------------------------------------------


def test_rpc_create_and_get_task(client: AsgiClient) -> None:
    created = client.ok("CreateTask", task_body())["task"]
    assert created["environmentId"] == ENV
    assert created["metadata"]["reference"] == "build"
    assert client.ok("GetTask", {"id": created["id"]}) == {"task": created}


def test_rpc_list_tasks_filters_and_pages(client: AsgiClient) -> None:
    ids = [client.ok("CreateTask", task_body(f"t{i}"))["task"]["id"] for i in range(3)]
    client.ok("CreateTask", task_body("elsewhere", environment_id=OTHER_ENV))
    seen: list[str] = []
    token = ""
    while True:
        page = client.ok(
            "ListTasks",
            {"filter": {"environmentIds": [ENV]}, "pagination": {"pageSize": 2, "token": token}},
        )
        seen += [task["id"] for task in page["tasks"]]
        token = page["pagination"].get("nextToken", "")
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    only = client.ok("ListTasks", {"filter": {"references": ["t1"]}})["tasks"]
    assert [task["id"] for task in only] == [ids[1]]


def test_rpc_update_task_replaces_given_fields(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    assert client.ok("UpdateTask", {"id": task["id"], "metadata": {"name": "Renamed"}}) == {}
    updated = client.ok("GetTask", {"id": task["id"]})["task"]
    assert updated["metadata"]["name"] == "Renamed"
    assert updated["spec"] == task["spec"]


def test_rpc_delete_task(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    assert client.ok("DeleteTask", {"id": task["id"]}) == {}
    connect_error(client.rpc("GetTask", {"id": task["id"]}), 404, "not_found")


def test_rpc_start_task_runs_to_success_on_the_clock(app: Starlette, client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    execution = client.ok("StartTask", {"id": task["id"]})["taskExecution"]
    assert execution["status"]["phase"] == PHASE + "PENDING"
    _advance(app, 60)
    current = client.ok("GetTaskExecution", {"id": execution["id"]})["taskExecution"]
    assert current["status"]["phase"] == PHASE + "SUCCEEDED"
    assert current["status"]["logUrl"].startswith("http://127.0.0.1:8080/_mock/logs/")


def test_rpc_list_task_executions_and_stop(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    execution = client.ok("StartTask", {"id": task["id"]})["taskExecution"]
    listed = client.ok("ListTaskExecutions", {"filter": {"taskIds": [task["id"]]}})
    assert [item["id"] for item in listed["taskExecutions"]] == [execution["id"]]
    assert client.ok("StopTaskExecution", {"id": execution["id"]}) == {}
    stopped = client.ok("GetTaskExecution", {"id": execution["id"]})["taskExecution"]
    assert stopped["status"]["phase"] == PHASE + "STOPPED"
    by_phase = client.ok("ListTaskExecutions", {"filter": {"phases": [PHASE + "STOPPED"]}})
    assert len(by_phase["taskExecutions"]) == 1


@pytest.mark.parametrize("method", [m.name for m in METHODS if m.name.startswith("List")])
def test_rpc_empty_body_object_is_an_empty_request(client: AsgiClient, method: str) -> None:
    assert client.rpc(method, {}).status_code == 200


def test_rpc_content_type_with_charset_is_accepted(client: AsgiClient) -> None:
    response = client.rpc(
        "ListTasks",
        None,
        content=b"{}",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


def test_rpc_tenants_are_separated_by_token(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    connect_error(client.rpc("GetTask", {"id": task["id"]}, token="someone-else"), 404, "not_found")
    assert client.ok("ListTasks", {}, token="someone-else").get("tasks", []) == []


# -- domain errors -----------------------------------------------------------------------


def test_rpc_unknown_id_is_not_found(client: AsgiClient) -> None:
    message = connect_error(client.rpc("GetTaskExecution", {"id": MISSING}), 404, "not_found")
    assert MISSING in message


def test_rpc_duplicate_reference_is_already_exists(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body())
    connect_error(client.rpc("CreateTask", task_body()), 409, "already_exists")


def test_rpc_missing_dependency_is_not_found(client: AsgiClient) -> None:
    connect_error(client.rpc("CreateTask", task_body(dependsOn=[MISSING])), 404, "not_found")


# -- protocol errors ---------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/jsonx"])
def test_rpc_unsupported_content_type_is_415(client: AsgiClient, content_type: str) -> None:
    response = client.rpc("ListTasks", None, content=b"{}", headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json, application/proto"


def test_rpc_missing_content_type_is_415(client: AsgiClient) -> None:
    response = client.rpc("ListTasks", None, content=b"{}")
    assert response.status_code == 415


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH"])
def test_rpc_other_http_methods_are_405_with_allow(client: AsgiClient, verb: str) -> None:
    response = client.request(verb, f"{SERVICE_PATH}/CreateTask")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("verb", ["PUT", "DELETE", "PATCH"])
def test_rpc_methods_without_side_effects_allow_get_too(client: AsgiClient, verb: str) -> None:
    response = client.request(verb, f"{SERVICE_PATH}/GetTask")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_rpc_unknown_method_under_the_service_is_404_unimplemented(client: AsgiClient) -> None:
    message = connect_error(client.rpc("CreateService", {}), 404, "unimplemented")
    assert "CreateService" in message


def test_rpc_unknown_path_is_404_not_found(client: AsgiClient) -> None:
    connect_error(client.request("POST", "/gitpod.v1.OtherService/Get", json={}), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"   ",
        b"{'id': 1}",
        b"\xff\xfe",
        b"[1,",
        b'{"id": NaN}',
        b'{"pagination": {"pageSize": Infinity}}',
        b'{"pagination": {"pageSize": 1e400}}',
        b'{"id": "\\ud800"}',
        b'{"x\\udfff": 1}',
        b"[" * 100_000,
        b'{"a":' * 5_000,
        b'\xef\xbb\xbf{"id": "x"}',
    ],
)
def test_rpc_malformed_json_is_invalid_argument(client: AsgiClient, body: bytes) -> None:
    response = client.rpc(
        "ListTasks", None, content=body, headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in connect_error(response, 400, "invalid_argument")


@pytest.mark.parametrize("body", [[], "x", 1, True, None])
def test_rpc_body_must_be_a_json_object(client: AsgiClient, body: object) -> None:
    response = client.rpc(
        "ListTasks",
        None,
        content=__import__("json").dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert "must be a JSON object" in connect_error(response, 400, "invalid_argument")


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("GetTask", {"id": 5}, "id"),
        ("ListTasks", {"pagination": {"pageSize": "ten"}}, "pagination.pageSize"),
        ("ListTasks", {"pagination": "first"}, "pagination"),
        ("ListTasks", {"filter": {"references": "build"}}, "filter.references"),
        ("ListTaskExecutions", {"filter": {"phases": "abc"}}, "filter.phases"),
        ("CreateTask", task_body(dependsOn=[1]), "dependsOn[0]"),
        (
            "CreateTask",
            task_body(metadata={"name": "x", "reference": "x", "triggeredBy": [{"manual": "yes"}]}),
            "metadata.triggeredBy[0].manual",
        ),
    ],
)
def test_rpc_wrong_value_type_is_invalid_argument(
    client: AsgiClient, method: str, body: dict[str, Any], field: str
) -> None:
    message = connect_error(client.rpc(method, body), 400, "invalid_argument")
    assert message.startswith(f"{field}: "), message


def test_rpc_validation_message_names_field_and_rule(client: AsgiClient) -> None:
    body = task_body()
    body["metadata"]["reference"] = "a b"
    message = connect_error(client.rpc("CreateTask", body), 400, "invalid_argument")
    assert message == 'metadata.reference: "a b" does not match "^[a-zA-Z0-9_-]{1,128}$"'


def test_rpc_validation_message_for_a_oneof(client: AsgiClient) -> None:
    body = task_body()
    body["metadata"]["triggeredBy"] = [{"manual": True, "prebuild": False}]
    message = connect_error(client.rpc("CreateTask", body), 400, "invalid_argument")
    assert message == "metadata.triggeredBy[0]: at most one of manual, prebuild may be set"


def test_rpc_validation_message_for_a_missing_uuid(client: AsgiClient) -> None:
    assert connect_error(client.rpc("GetTask", {}), 400, "invalid_argument") == "id: is required"
    message = connect_error(client.rpc("GetTask", {"id": "nope"}), 400, "invalid_argument")
    assert message == 'id: "nope" is not a UUID'


def test_rpc_page_size_over_the_limit_is_invalid(client: AsgiClient) -> None:
    message = connect_error(
        client.rpc("ListTasks", {"pagination": {"pageSize": 101}}), 400, "invalid_argument"
    )
    assert message.startswith("pagination.pageSize: 101")


# -- proto3 JSON leniency ------------------------------------------------------------------


def test_rpc_snake_case_input_is_accepted(client: AsgiClient) -> None:
    body = {
        "environment_id": ENV,
        "metadata": {
            "name": "Build",
            "reference": "build",
            "triggered_by": [{"post_environment_start": True}],
        },
        "spec": {"command": "make", "runs_on": {"machine": {}}},
    }
    task = client.ok("CreateTask", body)["task"]
    assert task["environmentId"] == ENV
    assert task["metadata"]["triggeredBy"] == [{"postEnvironmentStart": True}]
    assert task["spec"]["runsOn"] == {"machine": {}}
    page = client.ok(
        "ListTasks", {"pagination": {"page_size": 1}, "filter": {"task_ids": [task["id"]]}}
    )
    assert [item["id"] for item in page["tasks"]] == [task["id"]]


def test_rpc_unknown_fields_are_ignored(client: AsgiClient) -> None:
    body = task_body(somethingNew={"nested": True})
    body["metadata"]["colour"] = "blue"
    task = client.ok("CreateTask", body)["task"]
    assert "colour" not in task["metadata"]
    assert "somethingNew" not in task


def test_rpc_unknown_enum_names_are_dropped(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    client.ok("StartTask", {"id": task["id"]})
    # The unknown item disappears, leaving an empty filter: every execution matches.
    listed = client.ok("ListTaskExecutions", {"filter": {"phases": ["TASK_EXECUTION_PHASE_LATER"]}})
    assert len(listed["taskExecutions"]) == 1


def test_rpc_enum_numbers_are_accepted(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    client.ok("StartTask", {"id": task["id"]})
    pending = client.ok("ListTaskExecutions", {"filter": {"phases": [1]}})
    assert len(pending["taskExecutions"]) == 1
    assert (
        client.ok("ListTaskExecutions", {"filter": {"phases": [3]}}).get("taskExecutions", []) == []
    )


@pytest.mark.parametrize("phases", [[58], [2.0], [2147483646], [-2147483648]])
def test_rpc_undefined_phase_numbers_are_accepted(client: AsgiClient, phases: list[object]) -> None:
    # The peer tool's finding: no defined_only on filter.phases, so json_format takes these.
    task = client.ok("CreateTask", task_body())["task"]
    client.ok("StartTask", {"id": task["id"]})
    listed = client.ok("ListTaskExecutions", {"filter": {"phases": phases}})
    assert listed.get("taskExecutions", []) == []


def test_rpc_null_means_absent(client: AsgiClient) -> None:
    body = task_body(dependsOn=None)
    body["spec"]["runsOn"] = None
    body["metadata"]["description"] = None
    task = client.ok("CreateTask", body)["task"]
    assert "runsOn" not in task["spec"]
    assert client.ok("ListTasks", {"pagination": None, "filter": None})["tasks"] == [task]


def test_rpc_field_given_under_both_names_is_invalid(client: AsgiClient) -> None:
    response = client.rpc("ListTasks", {"pagination": {"pageSize": 1, "page_size": 2}})
    assert "pagination.pageSize" in connect_error(response, 400, "invalid_argument")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"bogus": 1}, "bogus: unknown field of gitpod.v1.ListTaskExecutionsRequest"),
        (
            {"filter": {"phases": ["TASK_EXECUTION_PHASE_LATER"]}},
            "filter.phases[0]: unknown TaskExecutionPhase value 'TASK_EXECUTION_PHASE_LATER'",
        ),
    ],
)
def test_rpc_strict_mode_rejects_unknown_fields_and_enum_names(
    make_app: AppFactory, body: dict[str, Any], message: str
) -> None:
    strict = AsgiClient(make_app(strict=True))
    assert connect_error(strict.rpc("ListTaskExecutions", body), 400, "invalid_argument") == message
    assert (
        strict.rpc(
            "ListTaskExecutions", {"filter": {"phases": ["TASK_EXECUTION_PHASE_RUNNING"]}}
        ).status_code
        == 200
    )


# -- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "token abc"]
)
def test_rpc_missing_or_malformed_token_is_unauthenticated(
    client: AsgiClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.rpc("ListTasks", {}, headers=headers, token=None)
    connect_error(response, 401, "unauthenticated")


def test_rpc_token_outside_the_allow_list_is_unauthenticated(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(tokens=frozenset({"alice", "bob"})), token="alice")
    assert client.rpc("ListTasks", {}).status_code == 200
    assert client.rpc("ListTasks", {}, token="bob").status_code == 200
    connect_error(client.rpc("ListTasks", {}, token="mallory"), 401, "unauthenticated")


def test_rpc_bearer_scheme_is_case_insensitive(client: AsgiClient) -> None:
    response = client.rpc("ListTasks", {}, headers={"Authorization": "bearer abc"}, token=None)
    assert response.status_code == 200


# -- body limit ------------------------------------------------------------------------


def test_rpc_body_over_the_limit_is_resource_exhausted(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_body_bytes=64))
    body = task_body()
    body["spec"]["command"] = "x" * 100
    message = connect_error(client.rpc("CreateTask", body), 429, "resource_exhausted")
    assert "64 bytes" in message
    assert client.rpc("ListTasks", {}).status_code == 200


# -- journal ---------------------------------------------------------------------------


def test_rpc_calls_are_journaled_per_tenant(app: Starlette, client: AsgiClient) -> None:
    client.ok("ListTasks", {"pagination": {"page_size": 5}})
    client.rpc("GetTask", {"id": "x"})
    client.rpc("GetTask", {"id": MISSING}, token="other")
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    assert [(e["method"], e["code"], e["httpStatus"]) for e in entries] == [
        ("ListTasks", "ok", 200),
        ("GetTask", "invalid_argument", 400),
    ]
    # The request as the client sent it, not as normalized.
    assert entries[0]["request"] == {"pagination": {"page_size": 5}}
    assert entries[0]["time"] == "2026-01-01T00:00:00Z"


def test_the_journal_shows_every_codec_s_request_as_proto3_json(client: AsgiClient) -> None:
    """Binary, gzip-compressed and Connect GET requests alike: the journal keeps each
    message as it came and shows it decoded, as the JSON client would have sent it."""
    from gitpod.v1 import environment_automation_pb2 as messages

    create = task_body()
    binary = messages.CreateTaskRequest(
        environment_id=create["environmentId"],
        metadata=messages.TaskMetadata(name="from proto", reference="proto"),
    ).SerializeToString()
    proto = {"Content-Type": "application/proto"}
    response = client.request("POST", f"{SERVICE_PATH}/CreateTask", content=binary, headers=proto)
    assert response.status_code == 200
    zipped = gzip.compress(json.dumps({"pagination": {"pageSize": 7}}).encode())
    gzip_json = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = client.request(
        "POST", f"{SERVICE_PATH}/ListTasks", content=zipped, headers=gzip_json
    )
    assert response.status_code == 200
    query = urllib.parse.urlencode({"encoding": "json", "message": json.dumps({"id": MISSING})})
    assert client.request("GET", f"{SERVICE_PATH}/GetTask?{query}").status_code == 404
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    assert [entry["request"] for entry in entries] == [
        {
            "environmentId": create["environmentId"],
            "metadata": {"name": "from proto", "reference": "proto"},
        },
        {"pagination": {"pageSize": 7}},
        {"id": MISSING},
    ]


# -- pagination in the query (older JSON SDKs) -------------------------------------------


def test_rpc_query_token_fills_an_empty_body_token(client: AsgiClient) -> None:
    for index in range(3):
        client.ok("CreateTask", task_body(f"q{index}"))
    first = client.ok("ListTasks", {"pagination": {"pageSize": 2}})
    token = first["pagination"]["nextToken"]
    # The body keeps its first pagination; the next page's token rides in the query.
    response = client.request(
        "POST", f"{SERVICE_PATH}/ListTasks?token={token}&pageSize=2", json={"pagination": {}}
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert len(second["tasks"]) == 1
    assert {t["id"] for t in second["tasks"]}.isdisjoint({t["id"] for t in first["tasks"]})


def test_rpc_query_page_size_does_not_override_the_body(client: AsgiClient) -> None:
    for index in range(3):
        client.ok("CreateTask", task_body(f"q{index}"))
    path = f"{SERVICE_PATH}/ListTasks?pageSize=1"
    assert len(client.request("POST", path, json={}).json()["tasks"]) == 1
    body = {"pagination": {"pageSize": 3}}
    assert len(client.request("POST", path, json=body).json()["tasks"]) == 3


def test_rpc_query_page_size_is_validated(client: AsgiClient) -> None:
    response = client.request("POST", f"{SERVICE_PATH}/ListTasks?pageSize=lots", json={})
    assert connect_error(response, 400, "invalid_argument").startswith("pagination.pageSize:")
    response = client.request("POST", f"{SERVICE_PATH}/ListTasks?token=garbage", json={})
    connect_error(response, 400, "invalid_argument")


def test_rpc_query_is_ignored_by_methods_without_pagination(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    response = client.request("POST", f"{SERVICE_PATH}/GetTask?token=x", json={"id": task["id"]})
    assert response.status_code == 200


# -- scenario latency ------------------------------------------------------------------


def test_rpc_scenario_latency_delays_the_answer(
    app: Starlette, client: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("mockserver.http.rpc.sleep", fake_sleep)
    response = client.request("PUT", "/_mock/scenario", content=b"latency: {ListTasks: 0.25}")
    assert response.status_code == 200, response.text
    client.ok("ListTasks", {})
    client.ok("ListTaskExecutions", {})
    assert slept == [0.25]
