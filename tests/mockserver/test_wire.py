"""The Connect wire beyond JSON POST: binary protobuf, GET, gzip, and protocol headers."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from gitpod.v1 import environment_automation_pb2 as pb
from google.protobuf import json_format
from starlette.applications import Starlette

from mockserver.domain import Backend, Scenario
from mockserver.http.connect import ConnectError
from mockserver.http.rpc import parse_timeout
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import SERVICE_PATH, AsgiClient, connect_error
from tests.support.factories import ENV, MISSING, task_body

PROTO = {"Content-Type": "application/proto"}
JSON = {"Content-Type": "application/json"}


def _create(client: AsgiClient, reference: str = "build") -> dict[str, Any]:
    task: dict[str, Any] = client.ok("CreateTask", task_body(reference))["task"]
    return task


def _post_proto(
    client: AsgiClient, method: str, message: Any, headers: dict[str, str] | None = None
) -> Any:
    return client.request(
        "POST",
        f"{SERVICE_PATH}/{method}",
        content=message.SerializeToString(),
        headers={**PROTO, **(headers or {})},
    )


def _get(client: AsgiClient, method: str, params: dict[str, str], **kwargs: Any) -> Any:
    return client.request("GET", f"{SERVICE_PATH}/{method}?{urlencode(params)}", **kwargs)


# -- binary protobuf ------------------------------------------------------------------------


def test_wire_proto_lifecycle_of_all_nine_methods(app: Starlette, client: AsgiClient) -> None:
    def call(method: str, request: Any, response_type: Any) -> Any:
        response = _post_proto(client, method, request)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/proto"
        return response_type.FromString(response.content)

    created = call(
        "CreateTask",
        pb.CreateTaskRequest(
            environment_id=ENV,
            metadata=pb.TaskMetadata(
                name="Build", reference="build", triggered_by=[pb.AutomationTrigger(manual=True)]
            ),
            spec=pb.TaskSpec(command="make", runs_on=pb.RunsOn(machine=pb.RunsOn.Machine())),
        ),
        pb.CreateTaskResponse,
    ).task
    assert created.spec.runs_on.HasField("machine")
    assert call("GetTask", pb.GetTaskRequest(id=created.id), pb.GetTaskResponse).task == created
    listed = call(
        "ListTasks",
        pb.ListTasksRequest(filter=pb.ListTasksRequest.Filter(environment_ids=[ENV])),
        pb.ListTasksResponse,
    )
    assert [task.id for task in listed.tasks] == [created.id]
    update = pb.UpdateTaskRequest(id=created.id, spec=pb.UpdateTaskRequest.TaskSpec(command="x"))
    call("UpdateTask", update, pb.UpdateTaskResponse)
    started = call("StartTask", pb.StartTaskRequest(id=created.id), pb.StartTaskResponse)
    execution_id = started.task_execution.id
    got = call(
        "GetTaskExecution", pb.GetTaskExecutionRequest(id=execution_id), pb.GetTaskExecutionResponse
    )
    assert got.task_execution.status.status_version >= 1
    executions = call(
        "ListTaskExecutions",
        pb.ListTaskExecutionsRequest(
            filter=pb.ListTaskExecutionsRequest.Filter(
                phases=[pb.TaskExecutionPhase.TASK_EXECUTION_PHASE_PENDING]
            )
        ),
        pb.ListTaskExecutionsResponse,
    )
    assert [item.id for item in executions.task_executions] == [execution_id]
    call(
        "StopTaskExecution",
        pb.StopTaskExecutionRequest(id=execution_id),
        pb.StopTaskExecutionResponse,
    )
    call("DeleteTask", pb.DeleteTaskRequest(id=created.id), pb.DeleteTaskResponse)
    connect_error(
        _post_proto(client, "GetTask", pb.GetTaskRequest(id=created.id)), 404, "not_found"
    )


def test_wire_proto_and_json_requests_get_the_same_validation_error(
    client: AsgiClient,
) -> None:
    request = pb.ListTasksRequest(
        filter=pb.ListTasksRequest.Filter(task_ids=["nope"], references=[""]),
    )
    as_json = client.request(
        "POST",
        f"{SERVICE_PATH}/ListTasks",
        content=json_format.MessageToJson(request).encode(),
        headers=JSON,
    )
    as_proto = _post_proto(client, "ListTasks", request)
    assert connect_error(as_proto, 400, "invalid_argument") == connect_error(
        as_json, 400, "invalid_argument"
    )


@pytest.mark.parametrize("body", [b"\xff", b"\x0a\x05ab", b"\x0a\x02\xff\xfe", b"\x08" * 3])
def test_wire_malformed_proto_is_invalid_argument(client: AsgiClient, body: bytes) -> None:
    response = client.request("POST", f"{SERVICE_PATH}/GetTask", content=body, headers=PROTO)
    assert "not a valid gitpod.v1.GetTaskRequest" in connect_error(
        response, 400, "invalid_argument"
    )


def test_wire_proto_errors_are_json(client: AsgiClient) -> None:
    response = _post_proto(client, "GetTask", pb.GetTaskRequest(id=MISSING))
    connect_error(response, 404, "not_found")


# -- Connect GET ----------------------------------------------------------------------------


def test_wire_get_json_url_encoded(client: AsgiClient) -> None:
    task = _create(client)
    params = {"connect": "v1", "encoding": "json", "message": json.dumps({"id": task["id"]})}
    response = _get(client, "GetTask", params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["task"] == task


def test_wire_get_json_with_plus_for_space(client: AsgiClient) -> None:
    task = _create(client)
    message = quote(json.dumps({"id": task["id"]}), safe="").replace("%20", "+")
    response = client.request("GET", f"{SERVICE_PATH}/GetTask?encoding=json&message={message}")
    assert response.json()["task"] == task


@pytest.mark.parametrize("padding", [True, False])
def test_wire_get_proto_base64(client: AsgiClient, padding: bool) -> None:
    task = _create(client)
    raw = pb.GetTaskRequest(id=task["id"]).SerializeToString()
    encoded = base64.urlsafe_b64encode(raw).decode()
    message = encoded if padding else encoded.rstrip("=")
    response = _get(client, "GetTask", {"encoding": "proto", "base64": "1", "message": message})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/proto"
    assert pb.GetTaskResponse.FromString(response.content).task.id == task["id"]


def test_wire_get_gzip_compressed_message(client: AsgiClient) -> None:
    _create(client)
    raw = gzip.compress(json.dumps({"filter": {"environmentIds": [ENV]}}).encode())
    params = {
        "encoding": "json",
        "base64": "1",
        "compression": "gzip",
        "message": base64.urlsafe_b64encode(raw).decode(),
    }
    response = _get(client, "ListTasks", params)
    assert response.status_code == 200, response.text
    assert len(response.json()["tasks"]) == 1


def test_wire_get_list_ignores_the_query_for_pagination(client: AsgiClient) -> None:
    for index in range(3):
        _create(client, f"job-{index}")
    message = json.dumps({"pagination": {"pageSize": 2}})
    response = _get(client, "ListTasks", {"encoding": "json", "message": message, "token": "x"})
    assert len(response.json()["tasks"]) == 2


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"message": "{}"}, "'encoding' parameter is required"),
        ({"encoding": "json"}, "'message' parameter is required"),
        ({"encoding": "json", "message": "{}", "connect": "v2"}, "connect must be 'v1'"),
        ({"encoding": "proto", "message": "!!", "base64": "1"}, "not valid base64url"),
        ({"encoding": "proto", "message": "AA", "base64": "yes"}, "base64 must be"),
        ({"encoding": "json", "message": "{"}, "not valid JSON"),
    ],
)
def test_wire_get_bad_params_are_invalid_argument(
    client: AsgiClient, params: dict[str, str], needle: str
) -> None:
    assert needle in connect_error(_get(client, "GetTask", params), 400, "invalid_argument")


def test_wire_get_unknown_encoding_is_415(client: AsgiClient) -> None:
    response = _get(client, "GetTask", {"encoding": "xml", "message": "<id/>"})
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json, application/proto"


@pytest.mark.parametrize("method", ["CreateTask", "UpdateTask", "StartTask", "DeleteTask"])
def test_wire_get_on_a_method_with_side_effects_is_405(client: AsgiClient, method: str) -> None:
    response = _get(client, method, {"encoding": "json", "message": "{}"})
    connect_error(response, 405, "unimplemented")
    assert response.headers["allow"] == "POST"


def test_wire_get_needs_auth_like_post(client: AsgiClient) -> None:
    response = _get(client, "ListTasks", {"encoding": "json", "message": "{}"}, token=None)
    connect_error(response, 401, "unauthenticated")


# -- compression ----------------------------------------------------------------------------


def test_wire_gzip_request_body(client: AsgiClient) -> None:
    body = gzip.compress(json.dumps(task_body("zipped")).encode())
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/CreateTask",
        content=body,
        headers={**JSON, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["task"]["metadata"]["reference"] == "zipped"


def test_wire_gzip_proto_request_body(client: AsgiClient) -> None:
    task = _create(client)
    body = gzip.compress(pb.GetTaskRequest(id=task["id"]).SerializeToString())
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/GetTask",
        content=body,
        headers={**PROTO, "Content-Encoding": "GZIP"},
    )
    assert pb.GetTaskResponse.FromString(response.content).task.id == task["id"]


@pytest.mark.parametrize(
    "body",
    [b"not gzip", gzip.compress(b"{}", mtime=0)[:-5], gzip.compress(b"{}", mtime=0) + b"x"],
    ids=["not gzip", "truncated", "trailing garbage"],
)
def test_wire_corrupt_gzip_is_invalid_argument(client: AsgiClient, body: bytes) -> None:
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/ListTasks",
        content=body,
        headers={**JSON, "Content-Encoding": "gzip"},
    )
    assert "not valid gzip" in connect_error(response, 400, "invalid_argument")


def test_wire_decompressed_size_counts_against_the_limit(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_body_bytes=10_000))
    bomb = gzip.compress(b'{"filter": {"references": ["' + b"a" * 50_000 + b'"]}}')
    assert len(bomb) < 10_000
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/ListTasks",
        content=bomb,
        headers={**JSON, "Content-Encoding": "gzip"},
    )
    assert "decompressed" in connect_error(response, 429, "resource_exhausted")


@pytest.mark.parametrize("encoding", ["br", "deflate", "zstd"])
def test_wire_unsupported_content_encoding_is_501(client: AsgiClient, encoding: str) -> None:
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/ListTasks",
        content=b"{}",
        headers={**JSON, "Content-Encoding": encoding},
    )
    connect_error(response, 501, "unimplemented")
    assert response.headers["accept-encoding"] == "gzip, identity"


def test_wire_get_unsupported_compression_is_501(client: AsgiClient) -> None:
    response = _get(client, "ListTasks", {"encoding": "json", "message": "{}", "compression": "br"})
    connect_error(response, 501, "unimplemented")
    assert response.headers["accept-encoding"] == "gzip, identity"


def _many_tasks(client: AsgiClient, count: int = 10) -> None:
    for index in range(count):
        _create(client, f"task-{index}")


@pytest.mark.parametrize("accept", ["gzip", "gzip,identity", "deflate, gzip;q=0.5", "*"])
def test_wire_large_responses_are_gzipped(client: AsgiClient, accept: str) -> None:
    _many_tasks(client)
    response = client.rpc("ListTasks", {}, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(response.content)
    assert len(response.json()["tasks"]) == 10


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "br", "gzip;q=0, *"])
def test_wire_responses_not_gzipped_unless_accepted(client: AsgiClient, accept: str) -> None:
    _many_tasks(client)
    response = client.rpc("ListTasks", {}, headers={"Accept-Encoding": accept})
    assert "content-encoding" not in response.headers
    assert len(response.json()["tasks"]) == 10


def test_wire_small_responses_are_not_gzipped(client: AsgiClient) -> None:
    response = client.rpc("ListTasks", {}, headers={"Accept-Encoding": "gzip"})
    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers


# -- protocol headers -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0", "2", "1.0", ""])
def test_wire_bad_protocol_version_is_invalid_argument(client: AsgiClient, version: str) -> None:
    response = client.rpc("ListTasks", {}, headers={"Connect-Protocol-Version": version})
    assert "Connect-Protocol-Version" in connect_error(response, 400, "invalid_argument")


def test_wire_protocol_version_may_be_absent_or_1(client: AsgiClient) -> None:
    assert client.rpc("ListTasks", {}).status_code == 200
    assert client.rpc("ListTasks", {}, headers={"Connect-Protocol-Version": "1"}).status_code == 200


@pytest.mark.parametrize("timeout", ["", "0", "-5", "1.5", "abc", "12345678901", " 10"])
def test_wire_bad_timeout_is_invalid_argument(client: AsgiClient, timeout: str) -> None:
    response = client.rpc("ListTasks", {}, headers={"Connect-Timeout-Ms": timeout})
    assert "Connect-Timeout-Ms" in connect_error(response, 400, "invalid_argument")


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "+1", "1_0"])
def test_wire_parse_timeout_takes_ascii_digits_only(value: str) -> None:
    with pytest.raises(ConnectError):
        parse_timeout(value)


@pytest.mark.parametrize("timeout", ["1", "9999999999", "0010"])
def test_wire_valid_timeouts_are_accepted(client: AsgiClient, timeout: str) -> None:
    assert client.rpc("ListTasks", {}, headers={"Connect-Timeout-Ms": timeout}).status_code == 200


def _latency(app: Starlette, seconds: float) -> None:
    backend: Backend = app.state.backend
    backend.set_scenario(
        Scenario.from_yaml(f"latency: {{GetTask: {seconds}, CreateTask: {seconds}}}")
    )


def test_wire_deadline_exceeded_before_the_latency_ends(app: Starlette, client: AsgiClient) -> None:
    task = _create(client)
    _latency(app, 30)
    started = time.monotonic()
    response = client.rpc("GetTask", {"id": task["id"]}, headers={"Connect-Timeout-Ms": "50"})
    assert "deadline of 50 ms" in connect_error(response, 504, "deadline_exceeded")
    assert time.monotonic() - started < 10


def test_wire_deadline_exceeded_has_no_side_effects(app: Starlette, client: AsgiClient) -> None:
    _latency(app, 30)
    response = client.rpc("CreateTask", task_body(), headers={"Connect-Timeout-Ms": "20"})
    connect_error(response, 504, "deadline_exceeded")
    _latency(app, 0)
    assert client.ok("ListTasks", {}) == {"pagination": {}}


def test_wire_deadline_longer_than_the_latency(app: Starlette, client: AsgiClient) -> None:
    task = _create(client)
    _latency(app, 0.01)
    response = client.rpc("GetTask", {"id": task["id"]}, headers={"Connect-Timeout-Ms": "5000"})
    assert response.status_code == 200
