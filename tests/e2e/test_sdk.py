"""The official SDK against a real server, in both of its codecs.

``binary``: the client ``ona_sdk.create_client`` builds, exactly as users run it (binary
protobuf). ``json``: the generated client with the JSON codec and the Connect runtime's
defaults (gzip-compressed requests). Every test runs with both.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import ona_sdk
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


def _client(kind: str, url: str, token: str) -> EnvironmentAutomationServiceClientSync:
    if kind == "binary":
        sdk: EnvironmentAutomationServiceClientSync = ona_sdk.create_client(
            api_key=token, base_url=url
        ).services.environment_automation
        return sdk
    return EnvironmentAutomationServiceClientSync(url, codec=google_protobuf_json_codec())


@pytest.fixture(params=["binary", "json"])
def sdk(
    request: pytest.FixtureRequest, server: ServerProcess, token: str
) -> Iterator[EnvironmentAutomationServiceClientSync]:
    client = _client(request.param, server.url, token)
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
    with pytest.raises(ConnectError) as empty:
        sdk.create_task(pb.CreateTaskRequest(), headers=headers)
    assert empty.value.code == Code.INVALID_ARGUMENT
    _create(sdk, headers, "twice")
    with pytest.raises(ConnectError) as duplicate:
        _create(sdk, headers, "twice")
    assert duplicate.value.code == Code.ALREADY_EXISTS
    with pytest.raises(ConnectError) as unknown:  # a dependency naming no task, like any id
        _create(sdk, headers, "orphan", depends_on=(MISSING,))
    assert unknown.value.code == Code.NOT_FOUND
    needed = _create(sdk, headers, "needed")
    _create(sdk, headers, "dependent", depends_on=(needed.id,))
    with pytest.raises(ConnectError) as precondition:  # another task still depends on it
        sdk.delete_task(pb.DeleteTaskRequest(id=needed.id), headers=headers)
    assert precondition.value.code == Code.FAILED_PRECONDITION


def test_sdk_connect_get_for_methods_without_side_effects(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str]
) -> None:
    task = _create(sdk, headers, "fetched")
    got = sdk.get_task(pb.GetTaskRequest(id=task.id), headers=headers, use_get=True).task
    assert got == task
    listed = sdk.list_tasks(
        pb.ListTasksRequest(filter=pb.ListTasksRequest.Filter(task_ids=[task.id])),
        headers=headers,
        use_get=True,
    )
    assert [item.id for item in listed.tasks] == [task.id]
    with pytest.raises(ConnectError) as missing:
        sdk.get_task_execution(
            pb.GetTaskExecutionRequest(id=MISSING), headers=headers, use_get=True
        )
    assert missing.value.code == Code.NOT_FOUND


def test_sdk_large_pages_arrive_gzipped(
    sdk: EnvironmentAutomationServiceClientSync, headers: dict[str, str]
) -> None:
    created = {_create(sdk, headers, f"bulk-{index}").id for index in range(30)}
    listed = sdk.list_tasks(
        pb.ListTasksRequest(pagination=pagination_pb2.PaginationRequest(page_size=100)),
        headers=headers,
    )
    assert {item.id for item in listed.tasks} == created


# -- a server with an allow-list of tokens ------------------------------------------------


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[ServerProcess]:
    with ServerProcess("--token", "good", "--log-level", "warning") as process:
        yield process


@pytest.mark.parametrize("kind", ["binary", "json"])
def test_sdk_unknown_token_is_unauthenticated(guarded_server: ServerProcess, kind: str) -> None:
    client = _client(kind, guarded_server.url, "bad")
    with pytest.raises(ConnectError) as rejected:
        client.list_tasks(pb.ListTasksRequest(), headers={"Authorization": "Bearer bad"})
    assert rejected.value.code == Code.UNAUTHENTICATED
    good = _client(kind, guarded_server.url, "good")
    assert good.list_tasks(pb.ListTasksRequest(), headers={"Authorization": "Bearer good"})
    client.close()
    good.close()
