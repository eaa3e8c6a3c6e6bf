"""The official SDK's generated Connect client (JSON codec) against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_json_codec
from connectrpc.errors import ConnectError
from gitpod.v1 import environment_automation_pb2 as pb
from gitpod.v1 import identity_pb2, pagination_pb2
from gitpod.v1.environment_automation_connect import EnvironmentAutomationServiceClientSync

from tests.support.factories import ENV, MISSING, OTHER_ENV
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

Phase = pb.TaskExecutionPhase


@pytest.fixture
def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sdk(server: ServerProcess) -> Iterator[EnvironmentAutomationServiceClientSync]:
    # Request compression is left to the server's gzip support; this test is about JSON.
    client = EnvironmentAutomationServiceClientSync(
        server.url, codec=google_protobuf_json_codec(), send_compression=None
    )
    yield client
    client.close()


def _advance(server: ServerProcess, seconds: float) -> None:
    response = httpx.post(f"{server.url}/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200


def _create(
    sdk: EnvironmentAutomationServiceClientSync,
    headers: dict[str, str],
    reference: str,
    environment_id: str = ENV,
    depends_on: tuple[str, ...] = (),
) -> pb.Task:
    request = pb.CreateTaskRequest(
        environment_id=environment_id,
        metadata=pb.TaskMetadata(
            name=reference.title(),
            reference=reference,
            triggered_by=[pb.AutomationTrigger(manual=True)],
        ),
        spec=pb.TaskSpec(
            command=f"make {reference}",
            runs_on=pb.RunsOn(docker=pb.RunsOn.Docker(image="node:18")),
        ),
        depends_on=list(depends_on),
    )
    task: pb.Task = sdk.create_task(request, headers=headers).task
    return task


def _run_to_the_end(
    sdk: EnvironmentAutomationServiceClientSync,
    headers: dict[str, str],
    server: ServerProcess,
    execution_id: str,
) -> pb.TaskExecution:
    terminal = {
        Phase.TASK_EXECUTION_PHASE_SUCCEEDED,
        Phase.TASK_EXECUTION_PHASE_FAILED,
        Phase.TASK_EXECUTION_PHASE_STOPPED,
    }
    for _ in range(60):
        request = pb.GetTaskExecutionRequest(id=execution_id)
        execution: pb.TaskExecution = sdk.get_task_execution(
            request, headers=headers
        ).task_execution
        if execution.status.phase in terminal:
            return execution
        _advance(server, 1)
    raise AssertionError("the execution never finished")


def test_sdk_create_get_list_update(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str]
) -> None:
    task = _create(sdk, headers, "lint")
    assert task.metadata.creator.principal == identity_pb2.Principal.PRINCIPAL_USER
    got = sdk.get_task(pb.GetTaskRequest(id=task.id), headers=headers).task
    assert got == task
    _create(sdk, headers, "lint", environment_id=OTHER_ENV)
    for index in range(3):
        _create(sdk, headers, f"job-{index}")

    seen: list[str] = []
    page_token = ""
    while True:
        response = sdk.list_tasks(
            pb.ListTasksRequest(
                filter=pb.ListTasksRequest.Filter(environment_ids=[ENV]),
                pagination=pagination_pb2.PaginationRequest(page_size=2, token=page_token),
            ),
            headers=headers,
        )
        seen += [item.id for item in response.tasks]
        page_token = response.pagination.next_token
        if not page_token:
            break
    assert len(seen) == len(set(seen)) == 4

    sdk.update_task(
        pb.UpdateTaskRequest(
            id=task.id,
            metadata=pb.UpdateTaskRequest.TaskMetadata(name="Lint all"),
            spec=pb.UpdateTaskRequest.TaskSpec(command="make lint-all"),
        ),
        headers=headers,
    )
    updated = sdk.get_task(pb.GetTaskRequest(id=task.id), headers=headers).task
    assert (updated.metadata.name, updated.spec.command) == ("Lint all", "make lint-all")
    assert updated.spec.runs_on.docker.image == "node:18"


def test_sdk_start_run_stop_delete(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str], server: ServerProcess
) -> None:
    base = _create(sdk, headers, "setup")
    main = _create(sdk, headers, "build", depends_on=(base.id,))
    started = sdk.start_task(pb.StartTaskRequest(id=main.id), headers=headers).task_execution
    assert started.status.phase == Phase.TASK_EXECUTION_PHASE_PENDING
    done = _run_to_the_end(sdk, headers, server, started.id)
    assert done.status.phase == Phase.TASK_EXECUTION_PHASE_SUCCEEDED
    assert done.metadata.completed_at.ToDatetime() >= done.metadata.started_at.ToDatetime()

    listed = sdk.list_task_executions(
        pb.ListTaskExecutionsRequest(
            filter=pb.ListTaskExecutionsRequest.Filter(
                task_ids=[main.id], phases=[Phase.TASK_EXECUTION_PHASE_SUCCEEDED]
            )
        ),
        headers=headers,
    )
    assert [item.id for item in listed.task_executions] == [started.id]

    second = sdk.start_task(pb.StartTaskRequest(id=main.id), headers=headers).task_execution
    sdk.stop_task_execution(pb.StopTaskExecutionRequest(id=second.id), headers=headers)
    stopped = sdk.get_task_execution(
        pb.GetTaskExecutionRequest(id=second.id), headers=headers
    ).task_execution
    assert stopped.status.phase == Phase.TASK_EXECUTION_PHASE_STOPPED

    with pytest.raises(ConnectError) as blocked:
        sdk.delete_task(pb.DeleteTaskRequest(id=base.id), headers=headers)
    assert blocked.value.code == Code.FAILED_PRECONDITION
    sdk.delete_task(pb.DeleteTaskRequest(id=main.id), headers=headers)
    sdk.delete_task(pb.DeleteTaskRequest(id=base.id), headers=headers)
    with pytest.raises(ConnectError) as gone:
        sdk.get_task(pb.GetTaskRequest(id=main.id), headers=headers)
    assert gone.value.code == Code.NOT_FOUND


def test_sdk_failed_run_from_the_scenario(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str], server: ServerProcess
) -> None:
    task = _create(sdk, headers, "flaky-e2e")
    started = sdk.start_task(pb.StartTaskRequest(id=task.id), headers=headers).task_execution
    done = _run_to_the_end(sdk, headers, server, started.id)
    assert done.status.phase == Phase.TASK_EXECUTION_PHASE_FAILED
    assert done.status.failure_message == "exit status 2"
    assert dict(done.status.steps[0].output) == {"exitCode": "2"}


def test_sdk_errors_carry_connect_codes(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str]
) -> None:
    with pytest.raises(ConnectError) as missing:
        sdk.get_task_execution(pb.GetTaskExecutionRequest(id=MISSING), headers=headers)
    assert missing.value.code == Code.NOT_FOUND
    with pytest.raises(ConnectError) as invalid:
        sdk.get_task(pb.GetTaskRequest(id="not-a-uuid"), headers=headers)
    assert invalid.value.code == Code.INVALID_ARGUMENT
    assert "not a UUID" in invalid.value.message
    with pytest.raises(ConnectError) as anonymous:
        sdk.list_tasks(pb.ListTasksRequest())
    assert anonymous.value.code == Code.UNAUTHENTICATED
