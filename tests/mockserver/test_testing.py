"""The in-process MockServer helper."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.domain import Caller
from mockserver.testing import MockServer, RpcError
from tests.support.factories import MISSING, task_body

PHASE = "TASK_EXECUTION_PHASE_"


def test_testing_mock_server_runs_a_task_to_the_end() -> None:
    with MockServer(pending_delay=1, step_duration=2) as server:
        assert server.url.startswith("http://127.0.0.1:")
        task = server.call("CreateTask", task_body())["task"]
        execution = server.call("StartTask", {"id": task["id"]})["taskExecution"]
        assert server.advance(3) == "2026-01-01T00:00:03Z"
        status = server.call("GetTaskExecution", {"id": execution["id"]})["taskExecution"]
        assert status["status"]["phase"] == PHASE + "SUCCEEDED"
        assert status["status"]["logUrl"] == f"{server.url}/_mock/logs/{execution['id']}"
        assert "step succeeded" in server.logs(execution["id"])
        assert [entry["method"] for entry in server.journal()] == [
            "CreateTask",
            "StartTask",
            "GetTaskExecution",
        ]
        server.clear_journal()
        assert server.journal() == []


def test_testing_mock_server_state_scenario_and_reset() -> None:
    scenario = {"rules": [{"match": {"reference": "build"}, "outcome": "fail"}]}
    with MockServer(scenario=scenario, token="alice") as server:
        assert server.backend.scenario.to_dict()["rules"][0]["outcome"] == "fail"
        server.set_scenario("rules: []")
        assert server.backend.scenario_for(Caller("alice")).rules == ()
        assert server.backend.scenario.rules != ()  # the default is left alone
        task = server.call("CreateTask", task_body())["task"]
        state = server.export_state()
        server.reset()
        with pytest.raises(httpx.HTTPStatusError):
            server.call("GetTask", {"id": task["id"]})
        server.import_state(state)
        assert server.call("GetTask", {"id": task["id"]})["task"] == task
        server.reset(all_tenants=True)
        assert server.call("ListTasks").get("tasks", []) == []


def test_testing_mock_server_allow_list_and_strict() -> None:
    with MockServer(tokens={"alice"}, token="alice", strict=True) as server:
        response = server.client.post(
            "/gitpod.v1.EnvironmentAutomationService/ListTasks",
            json={},
            headers={"Authorization": "Bearer eve"},
        )
        assert response.status_code == 401
        response = server.client.post(
            "/gitpod.v1.EnvironmentAutomationService/ListTasks", json={"extra": 1}
        )
        assert response.status_code == 400


def test_testing_mock_server_is_stopped_after_the_block() -> None:
    server = MockServer()
    with pytest.raises(RuntimeError):
        server.backend  # noqa: B018
    with server:
        url = server.url
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_mock/health", timeout=2)
    # The backend stays readable after the stop, for post-mortem assertions.
    assert server.backend.export_state()["tenants"] == {}


def test_testing_call_raises_rpc_error_with_code_and_message() -> None:
    with MockServer() as server:
        with pytest.raises(RpcError) as caught:
            server.call("GetTask", {"id": MISSING})
        error = caught.value
        assert (error.code, error.http_status) == ("not_found", 404)
        assert error.message == f"task {MISSING} not found"
        assert str(error).startswith(f"not_found: task {MISSING} not found (HTTP 404")
        assert isinstance(error, httpx.HTTPStatusError)  # what callers caught before
        with pytest.raises(RpcError) as bad:
            server.advance(1e308)
        assert bad.value.code == "invalid_argument" and "seconds" in bad.value.message


def test_testing_tenants_of_one_server_are_apart() -> None:
    with MockServer(tokens={"alice", "bob"}, token="alice") as server:
        bob = server.tenant("bob")
        try:
            server.faults({"method": "ListTasks", "code": "unavailable"})
            with pytest.raises(RpcError):
                server.call("ListTasks")
            assert bob.call("ListTasks") == {"pagination": {}}
            bob.advance(5)
            assert (server.now(), bob.now()) == ("2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z")
            assert server.scenario()["faults"][0]["code"] == "unavailable"
            assert bob.scenario()["faults"] == []
            bob.call("CreateTask", task_body())
            server.reset(all_tenants=True)  # the server's admin token, despite --token
            assert bob.call("ListTasks") == {"pagination": {}}
            assert bob.now() == "2026-01-01T00:00:00Z"
        finally:
            bob.close()


def test_testing_seeded_servers_repeat_journal_and_export_exactly() -> None:
    def run() -> tuple[list[Any], dict[str, Any]]:
        with MockServer(seed=7) as server:
            task = server.call("CreateTask", task_body())["task"]
            server.call("StartTask", {"id": task["id"]})
            server.advance(2)
            journal = server.journal()
            for entry in journal:  # what cannot repeat: a measured time, the server's port
                assert entry.pop("durationMs") >= 0
                assert entry["requestHeaders"].pop("host").startswith("127.0.0.1:")
            return journal, server.export_state()

    journal, export = run()
    assert (journal, export) == run()
    [tenant] = export["tenants"].values()
    assert journal[0]["response"]["task"]["id"] == tenant["tasks"][0]["id"]
