"""Faults through the HTTP layer: status from the Connect table, Retry-After, journal."""

from __future__ import annotations

import pytest

from tests.mockserver.conftest import AppFactory
from tests.support.asgi import AsgiClient, connect_error
from tests.support.factories import task_body

MINIMAL = b"""
faults:
  - method: StartTask        # a method name, or "*" for all
    code: unavailable        # any Connect code; HTTP status from the Connect mapping
    times: 2                 # the first 2 matching calls fail, later ones go through
"""


def _load(client: AsgiClient, scenario: bytes, token: str = "test-token") -> None:
    response = client.request("PUT", "/_mock/scenario", content=scenario, token=token)
    assert response.status_code == 200, response.text


def test_faults_minimal_yaml_works_as_written(client: AsgiClient) -> None:
    _load(client, MINIMAL)
    task = client.ok("CreateTask", task_body())["task"]
    for _ in range(2):
        response = client.rpc("StartTask", {"id": task["id"]})
        assert connect_error(response, 503, "unavailable") == "injected fault: unavailable"
    assert client.ok("StartTask", {"id": task["id"]})["taskExecution"]["id"]
    journal = client.request("GET", "/_mock/requests").json()["requests"]
    assert [(e["method"], e["code"], e["httpStatus"], e.get("fault")) for e in journal] == [
        ("CreateTask", "ok", 200, None),
        ("StartTask", "unavailable", 503, {"rule": 0, "kind": "error"}),
        ("StartTask", "unavailable", 503, {"rule": 0, "kind": "error"}),
        ("StartTask", "ok", 200, None),
    ]


def test_faults_belong_to_the_tenant_that_loaded_them(client: AsgiClient) -> None:
    _load(client, b"faults: [{code: internal}]", token="alice")
    connect_error(client.rpc("ListTasks", {}, token="alice"), 500, "internal")
    assert client.ok("ListTasks", {}, token="bob") == {"pagination": {}}


def test_faults_come_before_validation_and_keep_the_request_in_the_journal(
    client: AsgiClient,
) -> None:
    _load(client, b"faults: [{method: GetTask, code: not_found, message: gone}]")
    assert connect_error(client.rpc("GetTask", {"id": "not a uuid"}), 404, "not_found") == "gone"
    [entry] = client.request("GET", "/_mock/requests").json()["requests"]
    assert entry["request"] == {"id": "not a uuid"}


@pytest.mark.parametrize(("code", "status"), [("unavailable", 503), ("resource_exhausted", 429)])
def test_faults_retry_after_on_429_and_503(client: AsgiClient, code: str, status: int) -> None:
    _load(client, f"faults: [{{code: {code}, retry_after: 4}}]".encode())
    response = client.rpc("ListTasks", {})
    connect_error(response, status, code)
    assert response.headers["retry-after"] == "4"


def test_faults_no_retry_after_on_other_statuses(client: AsgiClient) -> None:
    _load(client, b"faults: [{code: internal, retry_after: 4}]")
    response = client.rpc("ListTasks", {})
    connect_error(response, 500, "internal")
    assert "retry-after" not in response.headers


def test_faults_rate_limit_answers_429_with_retry_after_and_refills_on_the_clock(
    client: AsgiClient,
) -> None:
    _load(client, b"faults: [{rate_limit: {requests: 2, per: 10}}]")
    assert client.rpc("ListTasks", {}).status_code == 200
    assert client.rpc("ListTasks", {}).status_code == 200
    limited = client.rpc("ListTasks", {})
    assert "rate limit exceeded" in connect_error(limited, 429, "resource_exhausted")
    assert limited.headers["retry-after"] == "5"
    client.request("POST", "/_mock/clock/advance", json={"seconds": 5})
    assert client.rpc("ListTasks", {}).status_code == 200
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    assert entries[2]["fault"] == {"rule": 0, "kind": "rate_limit", "retryAfter": 5}


def test_faults_latency_is_recorded_and_the_call_goes_through(client: AsgiClient) -> None:
    _load(client, b"faults: [{method: ListTasks, latency: 0.01}]")
    assert client.ok("ListTasks", {}) == {"pagination": {}}
    [entry] = client.request("GET", "/_mock/requests").json()["requests"]
    assert (entry["code"], entry["fault"]) == ("ok", {"rule": 0, "kind": "delay", "delay": 0.01})


def test_faults_latency_past_the_deadline_is_deadline_exceeded(client: AsgiClient) -> None:
    _load(client, b"faults: [{method: ListTasks, latency: 5}]")
    response = client.rpc("ListTasks", {}, headers={"Connect-Timeout-Ms": "20"})
    connect_error(response, 504, "deadline_exceeded")


def test_faults_drop_without_a_connection_to_drop_is_unavailable(client: AsgiClient) -> None:
    # In process there is no socket; a real server closes it (tests/e2e/test_faults_e2e.py).
    _load(client, b"faults: [{method: DeleteTask, drop: true}]")
    response = client.rpc("DeleteTask", {"id": "00000000-0000-4000-8000-000000000000"})
    connect_error(response, 503, "unavailable")
    [entry] = client.request("GET", "/_mock/requests").json()["requests"]
    assert (entry["code"], entry["httpStatus"], entry["fault"]) == (
        None,
        None,
        {"rule": 0, "kind": "drop"},
    )


def test_faults_bad_scenario_is_invalid_argument(client: AsgiClient) -> None:
    response = client.request("PUT", "/_mock/scenario", content=b"faults: [{code: nope}]")
    assert "faults[0].code" in connect_error(response, 400, "invalid_argument")


def test_faults_request_log_line(make_app: AppFactory, capsys: pytest.CaptureFixture[str]) -> None:
    client = AsgiClient(make_app(request_log=True))
    _load(client, b"faults: [{method: GetTask, code: unavailable}]")
    client.ok("ListTasks", {})
    client.rpc("GetTask", {"id": "00000000-0000-4000-8000-000000000000"})
    client.rpc("ListTasks", {}, token=None)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["ListTasks", "ok", "200"],
        ["GetTask", "unavailable", "503"],
        ["ListTasks", "unauthenticated", "401"],
    ]
    assert lines[0].endswith("ms")
    assert lines[1].endswith("(fault: error, rule 0)")


def test_faults_request_log_off_by_default(
    client: AsgiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.ok("ListTasks", {})
    assert capsys.readouterr().out == ""
