"""The whole task lifecycle over plain HTTP (httpx), every response checked against the document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import ENV, MISSING, OTHER_ENV, task_body
from tests.support.openapi_check import ResponseChecker
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
PHASE = "TASK_EXECUTION_PHASE_"
TERMINAL = {PHASE + "SUCCEEDED", PHASE + "FAILED", PHASE + "STOPPED"}


def call(api: httpx.Client, method: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"{SERVICE}/{method}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def advance(api: httpx.Client, seconds: float) -> None:
    assert api.post("/_mock/clock/advance", json={"seconds": seconds}).status_code == 200


def run_to_the_end(api: httpx.Client, execution_id: str) -> dict[str, Any]:
    """Advance the clock a second at a time until the execution is terminal."""
    versions: list[int] = []
    for _ in range(120):
        execution: dict[str, Any] = call(api, "GetTaskExecution", {"id": execution_id})[
            "taskExecution"
        ]
        versions.append(int(execution["status"]["statusVersion"]))
        if execution["status"]["phase"] in TERMINAL:
            assert versions == sorted(versions)
            return execution
        advance(api, 1)
    raise AssertionError(f"execution {execution_id} never finished")


def test_e2e_create_get_list_update(api: httpx.Client) -> None:
    created = call(api, "CreateTask", task_body("compile"))["task"]
    assert call(api, "GetTask", {"id": created["id"]}) == {"task": created}
    others = [call(api, "CreateTask", task_body(f"t{i}"))["task"]["id"] for i in range(4)]
    call(api, "CreateTask", task_body("compile", environment_id=OTHER_ENV))

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        body: dict[str, Any] = {"filter": {"environmentIds": [ENV]}, "pagination": {"pageSize": 2}}
        if token:
            body["pagination"]["token"] = token
        page = call(api, "ListTasks", body)
        pages += 1
        seen += [task["id"] for task in page.get("tasks", [])]
        token = page.get("pagination", {}).get("nextToken", "")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted([created["id"], *others])

    by_reference = call(api, "ListTasks", {"filter": {"references": ["compile"]}})["tasks"]
    assert {task["environmentId"] for task in by_reference} == {ENV, OTHER_ENV}

    update = {
        "id": created["id"],
        "metadata": {"name": "Compile everything", "triggeredBy": {"trigger": [{"manual": True}]}},
        "spec": {"command": "make all"},
    }
    assert call(api, "UpdateTask", update) == {}
    task = call(api, "GetTask", {"id": created["id"]})["task"]
    assert task["metadata"]["name"] == "Compile everything"
    assert task["metadata"]["triggeredBy"] == [{"manual": True}]
    assert task["spec"]["command"] == "make all"
    assert task["metadata"]["reference"] == "compile"


def test_e2e_start_and_run_to_success(api: httpx.Client) -> None:
    base = call(api, "CreateTask", task_body("deps"))["task"]
    top = call(api, "CreateTask", task_body("app", dependsOn=[base["id"]]))["task"]
    execution = call(api, "StartTask", {"id": top["id"]})["taskExecution"]
    assert execution["status"]["phase"] == PHASE + "PENDING"
    assert [len(group["steps"]) for group in execution["spec"]["plan"]] == [1, 1]

    done = run_to_the_end(api, execution["id"])
    status = done["status"]
    assert status["phase"] == PHASE + "SUCCEEDED"
    assert [step["phase"] for step in status["steps"]] == [PHASE + "SUCCEEDED"] * 2
    metadata = done["metadata"]
    assert metadata["createdAt"] <= metadata["startedAt"] <= metadata["completedAt"]

    logs = api.get(status["logUrl"])
    assert logs.status_code == 200
    assert "[App] step succeeded" in logs.text

    listed = call(
        api,
        "ListTaskExecutions",
        {"filter": {"taskIds": [top["id"]], "phases": [PHASE + "SUCCEEDED"]}},
    )
    assert [item["id"] for item in listed["taskExecutions"]] == [execution["id"]]


def test_e2e_a_scenario_rule_makes_the_run_fail(api: httpx.Client) -> None:
    task = call(api, "CreateTask", task_body("flaky-tests"))["task"]
    execution = call(api, "StartTask", {"id": task["id"]})["taskExecution"]
    status = run_to_the_end(api, execution["id"])["status"]
    assert status["phase"] == PHASE + "FAILED"
    assert status["failureMessage"] == "exit status 2"
    assert status["steps"][0]["output"] == {"exitCode": "2"}
    assert "1 failed" in api.get(status["logUrl"]).text


def test_e2e_stop_and_delete(api: httpx.Client) -> None:
    task = call(api, "CreateTask", task_body("server"))["task"]
    execution = call(api, "StartTask", {"id": task["id"]})["taskExecution"]
    advance(api, 1.5)
    running = call(api, "GetTaskExecution", {"id": execution["id"]})["taskExecution"]
    assert running["status"]["phase"] == PHASE + "RUNNING"
    assert call(api, "StopTaskExecution", {"id": execution["id"]}) == {}
    stopped = call(api, "GetTaskExecution", {"id": execution["id"]})["taskExecution"]
    assert stopped["status"]["phase"] == PHASE + "STOPPED"
    assert stopped["spec"]["desiredPhase"] == PHASE + "STOPPED"
    # Stopping a finished execution changes nothing.
    assert call(api, "StopTaskExecution", {"id": execution["id"]}) == {}

    assert call(api, "DeleteTask", {"id": task["id"]}) == {}
    assert api.post(f"{SERVICE}/GetTask", json={"id": task["id"]}).status_code == 404
    # The execution stays readable.
    assert call(api, "GetTaskExecution", {"id": execution["id"]})["taskExecution"]["id"]


@pytest.mark.parametrize(
    ("method", "body", "status", "code"),
    [
        ("GetTask", {"id": MISSING}, 404, "not_found"),
        ("GetTask", {"id": "not-a-uuid"}, 400, "invalid_argument"),
        ("CreateTask", {"environmentId": "nope"}, 400, "invalid_argument"),
        ("StartTask", {"id": MISSING}, 404, "not_found"),
        ("DeleteTask", {"id": MISSING}, 404, "not_found"),
        ("StopTaskExecution", {"id": MISSING}, 404, "not_found"),
        ("ListTasks", {"pagination": {"pageSize": 1000}}, 400, "invalid_argument"),
        ("ListTaskExecutions", {"pagination": {"token": "garbage"}}, 400, "invalid_argument"),
    ],
)
def test_e2e_errors_are_documented_connect_errors(
    api: httpx.Client, method: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = api.post(f"{SERVICE}/{method}", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_e2e_duplicate_reference_and_missing_token(
    api: httpx.Client, server: ServerProcess
) -> None:
    call(api, "CreateTask", task_body("unique"))
    duplicate = api.post(f"{SERVICE}/CreateTask", json=task_body("unique"))
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_exists")
    anonymous = api.post(f"{SERVICE}/ListTasks", json={}, headers={"Authorization": ""})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")


def test_e2e_every_api_response_was_checked(api: httpx.Client, checker: ResponseChecker) -> None:
    before = checker.checked
    call(api, "ListTaskExecutions", {})
    assert checker.checked == before + 1


def test_e2e_protocol_errors_over_a_socket(server: ServerProcess, token: str) -> None:
    # Connect answers these below the API, so the document has nothing to say about them:
    # a client without the response check.
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers) as raw:
        wrong_type = raw.post(
            f"{SERVICE}/ListTasks", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        assert wrong_type.status_code == 415
        assert wrong_type.headers["accept-post"] == "application/json, application/proto"
        wrong_method = raw.get(f"{SERVICE}/StartTask")
        assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")
        not_get_or_post = raw.put(f"{SERVICE}/ListTasks")
        assert not_get_or_post.status_code == 405
        assert not_get_or_post.headers["allow"] == "GET, POST"
        get = raw.get(f"{SERVICE}/ListTasks", params={"encoding": "json", "message": "{}"})
        assert (get.status_code, get.json()) == (200, {"pagination": {}})
        bad_get = raw.get(f"{SERVICE}/ListTasks", params={"message": "{}"})
        assert (bad_get.status_code, bad_get.json()["code"]) == (400, "invalid_argument")
        unknown = raw.post(f"{SERVICE}/ListServices", json={})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unimplemented")
        document = raw.get("/openapi.yaml", headers={"Authorization": ""})
        assert document.status_code == 200
        assert document.text.startswith("openapi: 3.1.0")
