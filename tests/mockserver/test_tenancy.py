"""Per-tenant control over HTTP: scenario, clock, reset; --token, --admin-token; 9999."""

from __future__ import annotations

import pytest

from tests.mockserver.conftest import AppFactory
from tests.support.asgi import AsgiClient, connect_error
from tests.support.factories import task_body

PHASE = "TASK_EXECUTION_PHASE_"
FAIL = "rules: [{outcome: fail, failure_message: tenant failure}]"


def _run(client: AsgiClient, token: str) -> str:
    task = client.ok("CreateTask", task_body(), token=token)["task"]
    execution = client.ok("StartTask", {"id": task["id"]}, token=token)["taskExecution"]
    execution_id: str = execution["id"]
    return execution_id


def _phase(client: AsgiClient, token: str, execution_id: str) -> str:
    read = client.ok("GetTaskExecution", {"id": execution_id}, token=token)
    phase: str = read["taskExecution"]["status"]["phase"]
    return phase.removeprefix(PHASE)


def test_tenancy_scenario_and_clock_of_one_token_leave_another_alone(client: AsgiClient) -> None:
    put = client.request("PUT", "/_mock/scenario", content=FAIL.encode(), token="alice")
    assert put.status_code == 200
    alice, bob = _run(client, "alice"), _run(client, "bob")
    advanced = client.request(
        "POST", "/_mock/clock/advance", json={"seconds": 10}, token="alice"
    ).json()
    assert advanced == {"now": "2026-01-01T00:00:10Z"}
    assert _phase(client, "alice", alice) == "FAILED"
    assert _phase(client, "bob", bob) == "PENDING"
    assert client.request("GET", "/_mock/clock", token="bob").json()["now"] == (
        "2026-01-01T00:00:00Z"
    )
    assert client.request("GET", "/_mock/clock", token="alice").json()["now"] == (
        "2026-01-01T00:00:10Z"
    )
    assert client.request("GET", "/_mock/scenario", token="bob").json()["rules"] == []
    assert client.request("GET", "/_mock/scenario", token="alice").json()["rules"] != []
    assert client.request("GET", "/_mock/scenario", token=None).json()["rules"] == []


def test_tenancy_reset_with_a_token_restores_default_scenario_and_clock(
    client: AsgiClient,
) -> None:
    client.request("PUT", "/_mock/scenario", content=FAIL.encode(), token="alice")
    client.request("POST", "/_mock/clock/advance", json={"seconds": 10}, token="alice")
    assert client.request("POST", "/_mock/reset", token="alice").status_code == 200
    assert client.request("GET", "/_mock/scenario", token="alice").json()["rules"] == []
    now = client.request("GET", "/_mock/clock", token="alice").json()["now"]
    assert now == "2026-01-01T00:00:00Z"


def test_tenancy_anonymous_changes_are_global_without_token_list(client: AsgiClient) -> None:
    assert client.request("PUT", "/_mock/scenario", content=FAIL.encode(), token=None).is_success
    assert client.request("GET", "/_mock/scenario", token="anyone").json()["rules"] != []
    client.request("POST", "/_mock/clock/advance", json={"seconds": 5}, token=None)
    assert client.request("GET", "/_mock/clock", token="anyone").json()["now"] == (
        "2026-01-01T00:00:05Z"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_mock/reset", None),
        ("POST", "/_mock/clock/advance", b'{"seconds": 1}'),
        ("PUT", "/_mock/scenario", b"rules: []"),
        ("PUT", "/_mock/state", b'{"version": 1}'),
        ("DELETE", "/_mock/requests", None),
    ],
)
def test_tenancy_no_anonymous_control_under_token_list(
    make_app: AppFactory, method: str, path: str, body: bytes | None
) -> None:
    client = AsgiClient(make_app(tokens=frozenset({"alice"}), admin_tokens=frozenset({"op"})))
    response = client.request(method, path, content=body, token=None)
    connect_error(response, 401, "unauthenticated")
    connect_error(client.request(method, path, content=body, token="eve"), 401, "unauthenticated")
    assert client.request(method, path, content=body, token="alice").status_code == 200
    assert client.request(method, path, content=body, token="op").status_code == 200


def test_tenancy_admin_token_acts_on_every_tenant(make_app: AppFactory) -> None:
    client = AsgiClient(
        make_app(tokens=frozenset({"alice", "bob"}), admin_tokens=frozenset({"op"}))
    )
    client.ok("CreateTask", task_body(), token="alice")
    client.ok("CreateTask", task_body(), token="bob")
    state = client.request("GET", "/_mock/state", token="op").json()
    assert len(state["tenants"]) == 2
    journal = client.request("GET", "/_mock/requests", token="op").json()["requests"]
    assert [entry["method"] for entry in journal] == ["CreateTask", "CreateTask"]
    assert len({entry["tenant"] for entry in journal}) == 2
    client.request("PUT", "/_mock/scenario", content=FAIL.encode(), token="op")
    assert client.request("GET", "/_mock/scenario", token="bob").json()["rules"] != []
    client.request("POST", "/_mock/clock/advance", json={"seconds": 3}, token="op")
    assert client.request("GET", "/_mock/clock", token="alice").json()["now"].endswith(":03Z")
    assert client.request("POST", "/_mock/reset", token="op").status_code == 200
    assert client.ok("ListTasks", {}, token="alice") == {"pagination": {}}
    assert client.ok("ListTasks", {}, token="bob") == {"pagination": {}}
    # the admin token is for the control API only
    connect_error(client.rpc("ListTasks", {}, token="op"), 401, "unauthenticated")
    # an admin import replaces the whole state
    assert client.request("PUT", "/_mock/state", json=state, token="op").status_code == 200
    assert len(client.ok("ListTasks", {}, token="alice")["tasks"]) == 1
    # an import replaces state, not journals
    methods = [
        e["method"]
        for e in client.request("GET", "/_mock/requests", token="alice").json()["requests"]
    ]
    assert methods == ["ListTasks", "ListTasks"]


@pytest.mark.parametrize("seconds", [1e308, 1e12, 2.6e11])
@pytest.mark.parametrize("token", ["alice", None])
def test_tenancy_advance_past_year_9999_is_invalid_argument(
    client: AsgiClient, seconds: float, token: str | None
) -> None:
    response = client.request(
        "POST", "/_mock/clock/advance", json={"seconds": seconds}, token=token
    )
    message = connect_error(response, 400, "invalid_argument")
    assert message.startswith("seconds: ") and "9999-12-31" in message
    assert client.request("GET", "/_mock/clock").json()["now"] == "2026-01-01T00:00:00Z"


def test_tenancy_state_round_trip_carries_scenario_and_clock(client: AsgiClient) -> None:
    client.request("PUT", "/_mock/scenario", content=FAIL.encode(), token="alice")
    client.request("POST", "/_mock/clock/advance", json={"seconds": 42}, token="alice")
    execution = _run(client, "alice")
    state = client.request("GET", "/_mock/state", token="alice").json()
    assert client.request("PUT", "/_mock/state", json=state, token="bob").status_code == 200
    assert client.request("GET", "/_mock/clock", token="bob").json()["now"].endswith("00:42Z")
    for token in ("alice", "bob"):
        client.request("POST", "/_mock/clock/advance", json={"seconds": 60}, token=token)
    assert client.ok("GetTaskExecution", {"id": execution}, token="bob") == client.ok(
        "GetTaskExecution", {"id": execution}, token="alice"
    )
    assert _phase(client, "bob", execution) == "FAILED"


def test_tenancy_environment_flag_limits_environments(make_app: AppFactory) -> None:
    env = task_body()["environmentId"]
    client = AsgiClient(make_app(environments=frozenset({env})))
    client.ok("CreateTask", task_body())
    other = task_body(environment_id="d2c94c27-3b76-4a42-b88c-95a85e392c68")
    message = connect_error(client.rpc("CreateTask", other), 404, "not_found")
    assert "d2c94c27-3b76-4a42-b88c-95a85e392c68" in message
