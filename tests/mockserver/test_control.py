"""The control API under /_mock/."""

from __future__ import annotations

from typing import Any

import pytest
from gitpod.v1 import environment_automation_pb2 as pb
from starlette.applications import Starlette

from tests.mockserver.conftest import AppFactory
from tests.support.asgi import AsgiClient
from tests.support.factories import MISSING, task_body

PHASE = "TASK_EXECUTION_PHASE_"


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    message: str = body.get("message", "")
    return message


def test_control_health_needs_no_token(client: AsgiClient) -> None:
    response = client.request("GET", "/_mock/health", token=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_control_advance_moves_the_manual_clock(client: AsgiClient) -> None:
    response = client.request("POST", "/_mock/clock/advance", json={"seconds": 90.5}, token=None)
    assert response.json() == {"now": "2026-01-01T00:01:30.500Z"}
    assert client.request("GET", "/_mock/clock").json() == {
        "clock": "manual",
        "now": "2026-01-01T00:01:30.500Z",
    }


@pytest.mark.parametrize(
    "body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}, [5], {"seconds": None}]
)
def test_control_advance_rejects_a_bad_amount(client: AsgiClient, body: object) -> None:
    response = client.request("POST", "/_mock/clock/advance", json=body)
    assert "seconds" in _error(response, 400, "invalid_argument")


def test_control_advance_rejects_non_finite_and_malformed(client: AsgiClient) -> None:
    for raw in (b'{"seconds": NaN}', b'{"seconds": Infinity}', b"{"):
        response = client.request("POST", "/_mock/clock/advance", content=raw)
        _error(response, 400, "invalid_argument")


@pytest.mark.parametrize("digits", [20, 400])
def test_control_advance_by_a_huge_integer_is_refused_not_a_crash(
    client: AsgiClient, digits: int
) -> None:
    """Past year 9999 either way; 400 digits once made float() overflow (a 500)."""
    raw = b'{"seconds": 1' + b"0" * digits + b"}"
    response = client.request("POST", "/_mock/clock/advance", content=raw)
    assert "seconds" in _error(response, 400, "invalid_argument")


def test_control_advance_on_a_real_clock_is_a_conflict(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(clock="real"))
    response = client.request("POST", "/_mock/clock/advance", json={"seconds": 1})
    assert "--clock manual" in _error(response, 409, "failed_precondition")
    assert client.request("GET", "/_mock/clock").json()["clock"] == "real"


def test_control_reset_with_a_token_forgets_only_that_tenant(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body())
    client.ok("CreateTask", task_body(), token="other")
    assert client.request("POST", "/_mock/reset").json() == {}
    assert client.ok("ListTasks", {}).get("tasks", []) == []
    assert len(client.ok("ListTasks", {}, token="other")["tasks"]) == 1
    # Its journal starts afresh too.
    assert [e["method"] for e in client.request("GET", "/_mock/requests").json()["requests"]] == [
        "ListTasks"
    ]


def test_control_reset_without_a_token_forgets_everyone(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body())
    client.ok("CreateTask", task_body(), token="other")
    assert client.request("POST", "/_mock/reset", token=None).status_code == 200
    assert client.ok("ListTasks", {}, token="other").get("tasks", []) == []
    assert client.request("GET", "/_mock/requests", token="other").json()["requests"][:-1] == []


def test_control_state_round_trips_per_tenant(client: AsgiClient) -> None:
    task = client.ok("CreateTask", task_body())["task"]
    state = client.request("GET", "/_mock/state").json()
    assert len(state["tenants"]) == 1
    client.request("POST", "/_mock/reset")
    assert client.request("PUT", "/_mock/state", json=state).json() == {}
    assert client.ok("GetTask", {"id": task["id"]})["task"] == task
    # Another token can load the same export as its own.
    assert client.request("PUT", "/_mock/state", json=state, token="copy").status_code == 200
    assert client.ok("GetTask", {"id": task["id"]}, token="copy")["task"]["id"] == task["id"]


def test_control_state_needs_a_token(client: AsgiClient) -> None:
    _error(client.request("GET", "/_mock/state", token=None), 401, "unauthenticated")
    _error(client.request("PUT", "/_mock/state", json={}, token=None), 401, "unauthenticated")


def test_control_state_import_rejects_garbage(client: AsgiClient) -> None:
    _error(client.request("PUT", "/_mock/state", json={"tenants": 5}), 400, "invalid_argument")
    _error(client.request("PUT", "/_mock/state", content=b"nope"), 400, "invalid_argument")


def test_control_requests_can_be_read_and_cleared(client: AsgiClient) -> None:
    client.ok("ListTasks", {})
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    for entry in entries:  # what varies, checked in test_control_journal
        assert entry.pop("durationMs") >= 0
        assert entry.pop("requestHeaders")["authorization"] == "[redacted]"
    assert entries == [
        {
            "id": 1,
            "method": "ListTasks",
            "request": {},
            "code": "ok",
            "httpStatus": 200,
            "time": "2026-01-01T00:00:00Z",
            "response": {"pagination": {}},
            "httpMethod": "POST",
        }
    ]
    assert client.request("DELETE", "/_mock/requests").json() == {}
    assert client.request("GET", "/_mock/requests").json() == {"requests": []}
    _error(client.request("GET", "/_mock/requests", token=None), 401, "unauthenticated")


def test_control_journal_is_a_bounded_ring(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(journal_size=3))
    for size in range(5):
        client.ok("ListTasks", {"pagination": {"pageSize": size}})
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    assert [e["request"]["pagination"]["pageSize"] for e in entries] == [2, 3, 4]


def test_control_journal_keeps_each_response(client: AsgiClient) -> None:
    created = client.ok("CreateTask", task_body("build"))
    client.rpc("GetTask", {"id": "00000000-0000-4000-8000-000000000000"})
    entries = client.request("GET", "/_mock/requests").json()["requests"]
    assert entries[0]["response"] == created
    assert entries[1]["code"] == "not_found"
    assert entries[1]["response"] == {
        "code": "not_found",
        "message": "task 00000000-0000-4000-8000-000000000000 not found",
    }


def test_control_journal_response_is_json_whatever_the_codec(client: AsgiClient) -> None:
    request = pb.ListTasksRequest()
    response = client.request(
        "POST",
        "/gitpod.v1.EnvironmentAutomationService/ListTasks",
        content=request.SerializeToString(),
        headers={"Content-Type": "application/proto"},
    )
    assert response.status_code == 200
    [entry] = client.request("GET", "/_mock/requests").json()["requests"]
    assert entry["response"] == {"pagination": {}}  # what the JSON codec would send


SCENARIO_YAML = b"""
rules:
  - match: {reference: "^build$"}
    outcome: fail
    duration: 1
    failure_message: "exit status 2"
    logs: ["compiling", "boom"]
"""


def test_control_scenario_from_yaml_makes_a_run_fail(app: Starlette, client: AsgiClient) -> None:
    response = client.request("PUT", "/_mock/scenario", content=SCENARIO_YAML)
    assert response.status_code == 200, response.text
    assert response.json()["rules"][0]["outcome"] == "fail"
    assert client.request("GET", "/_mock/scenario").json() == response.json()
    task = client.ok("CreateTask", task_body())["task"]
    execution = client.ok("StartTask", {"id": task["id"]})["taskExecution"]
    client.request("POST", "/_mock/clock/advance", json={"seconds": 5})
    status = client.ok("GetTaskExecution", {"id": execution["id"]})["taskExecution"]["status"]
    assert status["phase"] == PHASE + "FAILED"
    assert status["failureMessage"] == "exit status 2"
    logs = client.request("GET", f"/_mock/logs/{execution['id']}")
    assert logs.headers["content-type"].startswith("text/plain")
    assert "boom" in logs.text


def test_control_scenario_accepts_json(client: AsgiClient) -> None:
    response = client.request("PUT", "/_mock/scenario", json={"latency": {"GetTask": 0}})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"rules: 5", "rules"),
        (b"rules: [{outcome: explode}]", "outcome"),
        (b"{unclosed", "invalid"),
        (b"\xff", "UTF-8"),
        (b"latency: {Nope: 1}", "Nope"),
    ],
)
def test_control_bad_scenario_is_invalid_argument(
    client: AsgiClient, body: bytes, fragment: str
) -> None:
    message = _error(
        client.request("PUT", "/_mock/scenario", content=body), 400, "invalid_argument"
    )
    assert fragment in message


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_control_scenario_empty_body_is_refused_not_a_silent_clear(
    client: AsgiClient, body: bytes
) -> None:
    client.request("PUT", "/_mock/scenario", content=SCENARIO_YAML)
    response = client.request("PUT", "/_mock/scenario", content=body)
    message = _error(response, 400, "invalid_argument")
    assert message.startswith("body: empty") and "DELETE /_mock/scenario" in message
    assert client.request("GET", "/_mock/scenario").json()["rules"][0]["outcome"] == "fail"


def test_control_scenario_delete_clears_the_tenants_only(make_app: AppFactory) -> None:
    app = make_app(admin_tokens=frozenset({"root"}))
    alice, bob = AsgiClient(app, "alice"), AsgiClient(app, "bob")
    for tenant in (alice, bob):
        assert tenant.request("PUT", "/_mock/scenario", content=SCENARIO_YAML).status_code == 200
    response = alice.request("DELETE", "/_mock/scenario")
    assert response.status_code == 200, response.text
    assert response.json() == alice.request("GET", "/_mock/scenario").json()
    assert response.json().get("rules", []) == []
    assert bob.request("GET", "/_mock/scenario").json()["rules"][0]["outcome"] == "fail"
    # The operator clears the default every tenant without its own falls back to.
    root = AsgiClient(app, "root")
    root.request("PUT", "/_mock/scenario", content=SCENARIO_YAML)
    carol = AsgiClient(app, "carol")
    assert carol.request("GET", "/_mock/scenario").json()["rules"][0]["outcome"] == "fail"
    assert root.request("DELETE", "/_mock/scenario").status_code == 200
    assert carol.request("GET", "/_mock/scenario").json().get("rules", []) == []


def test_control_scenario_delete_needs_a_token_under_token(make_app: AppFactory) -> None:
    app = make_app(tokens=frozenset({"alice"}))
    response = AsgiClient(app, None).request("DELETE", "/_mock/scenario")
    assert "clearing the scenario needs a bearer token" in _error(response, 401, "unauthenticated")
    assert AsgiClient(app, "alice").request("DELETE", "/_mock/scenario").status_code == 200


def test_control_logs_of_an_unknown_execution_are_not_found(client: AsgiClient) -> None:
    _error(client.request("GET", f"/_mock/logs/{MISSING}"), 404, "not_found")
    _error(client.request("GET", f"/_mock/logs/{MISSING}", token=None), 401, "unauthenticated")


def test_control_wrong_method_is_405_with_allow(client: AsgiClient) -> None:
    response = client.request("GET", "/_mock/reset")
    _error(response, 405, "unimplemented")
    assert response.headers["allow"] == "POST"


def test_control_unknown_route_is_404(client: AsgiClient) -> None:
    _error(client.request("GET", "/_mock/nothing"), 404, "not_found")


def test_control_invalid_token_is_rejected_even_where_optional(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(tokens=frozenset({"alice"})), token="alice")
    assert client.request("POST", "/_mock/reset").status_code == 200
    _error(client.request("POST", "/_mock/reset", token="eve"), 401, "unauthenticated")
    _error(client.request("GET", "/_mock/scenario", token="eve"), 401, "unauthenticated")
    assert client.request("GET", "/_mock/scenario", token=None).status_code == 200


def test_control_body_limit_applies(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_body_bytes=16))
    response = client.request("PUT", "/_mock/scenario", content=b"rules: []\n" * 10)
    _error(response, 429, "resource_exhausted")
