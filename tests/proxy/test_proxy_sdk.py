"""The official SDK, binary and JSON, through the proxy in front of the fake: 0 violations.

Each client drives a whole lifecycle (create, start, advance the clock, get, list, stop,
delete); every API call must come back judged, with ``x-contract-violations: 0``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import ona_sdk
import pytest
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_json_codec
from connectrpc.errors import ConnectError
from gitpod.v1 import environment_automation_pb2 as pb
from gitpod.v1.environment_automation_connect import EnvironmentAutomationServiceClientSync

from tests.support.factories import ENV
from tests.support.proxy_process import ProxyProcess

pytestmark = pytest.mark.e2e

Phase = pb.TaskExecutionPhase


def _client(kind: str, url: str, token: str) -> EnvironmentAutomationServiceClientSync:
    if kind == "binary":
        sdk: EnvironmentAutomationServiceClientSync = ona_sdk.create_client(
            api_key=token, base_url=url
        ).services.environment_automation
        return sdk
    return EnvironmentAutomationServiceClientSync(url, codec=google_protobuf_json_codec())


def lifecycle(sdk: EnvironmentAutomationServiceClientSync, proxy_url: str, token: str) -> int:
    """Create, start, advance, get, list, stop, delete; the number of API calls made."""
    headers = {"Authorization": f"Bearer {token}"}
    calls = 0

    def call(method: str, request: Any) -> Any:
        nonlocal calls
        calls += 1
        return getattr(sdk, method)(request, headers=headers)

    setup = call(
        "create_task",
        pb.CreateTaskRequest(
            environment_id=ENV,
            metadata=pb.TaskMetadata(name="Setup", reference="setup"),
            spec=pb.TaskSpec(command="make setup"),
        ),
    ).task
    build = call(
        "create_task",
        pb.CreateTaskRequest(
            environment_id=ENV,
            metadata=pb.TaskMetadata(
                name="Build", reference="build", triggered_by=[pb.AutomationTrigger(manual=True)]
            ),
            spec=pb.TaskSpec(
                command="make",
                runs_on=pb.RunsOn(docker=pb.RunsOn.Docker(image="node:18")),
            ),
            depends_on=[setup.id],
        ),
    ).task
    assert call("get_task", pb.GetTaskRequest(id=build.id)).task == build
    execution = call("start_task", pb.StartTaskRequest(id=build.id)).task_execution
    assert execution.status.phase == Phase.TASK_EXECUTION_PHASE_PENDING
    for _ in range(3):
        seen = call("get_task_execution", pb.GetTaskExecutionRequest(id=execution.id))
        advanced = httpx.post(
            f"{proxy_url}/_mock/clock/advance", json={"seconds": 2}, headers=headers
        )
        assert advanced.status_code == 200 and "x-contract-violations" not in advanced.headers
    finished = call("get_task_execution", pb.GetTaskExecutionRequest(id=execution.id))
    assert finished.task_execution.status.phase == Phase.TASK_EXECUTION_PHASE_SUCCEEDED
    versions = (seen.task_execution.status, finished.task_execution.status)
    assert versions[0].status_version <= versions[1].status_version
    listed = call(
        "list_tasks",
        pb.ListTasksRequest(filter=pb.ListTasksRequest.Filter(environment_ids=[ENV])),
    )
    assert sorted(task.id for task in listed.tasks) == sorted([setup.id, build.id])
    executions = call(
        "list_task_executions",
        pb.ListTaskExecutionsRequest(
            filter=pb.ListTaskExecutionsRequest.Filter(task_ids=[build.id])
        ),
    )
    assert [item.id for item in executions.task_executions] == [execution.id]
    second = call("start_task", pb.StartTaskRequest(id=setup.id)).task_execution
    call("stop_task_execution", pb.StopTaskExecutionRequest(id=second.id))
    stopped = call("get_task_execution", pb.GetTaskExecutionRequest(id=second.id))
    assert stopped.task_execution.status.phase == Phase.TASK_EXECUTION_PHASE_STOPPED
    call("delete_task", pb.DeleteTaskRequest(id=build.id))
    with pytest.raises(ConnectError) as gone:
        call("get_task", pb.GetTaskRequest(id=build.id))
    assert gone.value.code == Code.NOT_FOUND
    return calls


_SUMMARY = re.compile(r"(\d+) calls forwarded, (\d+) judged; (\d+) server violation")


@pytest.mark.parametrize("kind", ["binary", "json"])
def test_proxy_sdk_lifecycle_has_no_violation(
    kind: str, proxy: ProxyProcess, recording: Path, tmp_path: Path
) -> None:
    token = f"proxy-sdk-{kind}"
    sdk = _client(kind, proxy.url, token)
    try:
        calls = lifecycle(sdk, proxy.url, token)
    finally:
        sdk.close()
    violations = httpx.get(f"{proxy.url}/_contracts/violations").json()
    assert violations == {"violations": []}
    status, summary = proxy.finish()
    assert status == 0, summary
    counts = _SUMMARY.search(summary)
    assert counts is not None, summary
    forwarded, judged, server = map(int, counts.groups())
    # Every API call was judged (in the SDK's own dialect); the clock calls were not.
    assert (forwarded, judged, server) == (calls + 3, calls, 0), summary
    junit = (tmp_path / "junit.xml").read_text()
    assert "<failure" not in junit
    assert token not in recording.read_text()
