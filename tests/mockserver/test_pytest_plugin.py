"""The pytest plugin: installed by its entry point, one fake shared by xdist workers,
a tenant per test so conflicting scenarios, faults and clocks never meet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_USER_TESTS = """
import json
import os
import pathlib
import uuid

import pytest
from gitpod.v1 import environment_automation_pb2 as pb

from mockserver.testing import RpcError

OUT = pathlib.Path(os.environ["PLUGIN_OUT"])
TASK = {
    "environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048",
    "metadata": {"name": "Build", "reference": "build"},
    "spec": {"command": "make"},
}
FAIL = "rules: [{outcome: fail, failure_message: broken}]"


def _record(mockserver):
    seen = {"url": mockserver.url, "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}
    OUT.joinpath(f"{uuid.uuid4().hex}.json").write_text(json.dumps(seen))


def _start(mockserver):
    task = mockserver.call("CreateTask", TASK)["task"]
    return mockserver.call("StartTask", {"id": task["id"]})["taskExecution"]["id"]


def _phase(mockserver, execution_id):
    read = mockserver.call("GetTaskExecution", {"id": execution_id})["taskExecution"]
    return read["status"]["phase"]


@pytest.mark.parametrize("i", range(6))
@pytest.mark.mockserver(scenario=FAIL)
def test_fails_by_scenario(mockserver, i):
    _record(mockserver)
    execution = _start(mockserver)
    assert mockserver.advance(10) == "2026-01-01T00:00:10Z"
    assert _phase(mockserver, execution) == "TASK_EXECUTION_PHASE_FAILED"


@pytest.mark.parametrize("i", range(6))
def test_succeeds_on_its_own_clock(mockserver, i):
    _record(mockserver)
    assert mockserver.now() == "2026-01-01T00:00:00Z"  # no other test's advance got here
    execution = _start(mockserver)
    mockserver.advance(2.5)
    assert _phase(mockserver, execution) == "TASK_EXECUTION_PHASE_RUNNING"
    mockserver.advance(1)
    assert _phase(mockserver, execution) == "TASK_EXECUTION_PHASE_SUCCEEDED"


@pytest.mark.parametrize(
    "mockserver",
    [{"faults": [{"method": "StartTask", "code": "unavailable", "times": 1}]}],
    indirect=True,
)
def test_fault_then_success(mockserver):
    _record(mockserver)
    task = mockserver.call("CreateTask", TASK)["task"]
    with pytest.raises(RpcError) as caught:
        mockserver.call("StartTask", {"id": task["id"]})
    assert (caught.value.code, caught.value.http_status) == ("unavailable", 503)
    assert mockserver.call("StartTask", {"id": task["id"]})["taskExecution"]["id"]
    assert [e["code"] for e in mockserver.journal()] == ["ok", "unavailable", "ok"]


def test_official_sdk(mockserver):
    sdk = mockserver.sdk()
    try:
        sdk.create_task(pb.CreateTaskRequest(
            environment_id=TASK["environmentId"],
            metadata=pb.TaskMetadata(name="Build", reference="build"),
        ))
        assert len(sdk.list_tasks(pb.ListTasksRequest()).tasks) == 1
    finally:
        sdk.close()


@pytest.mark.mockserver(seed=3)
def test_seeded(mockserver):
    task = mockserver.call("CreateTask", TASK)["task"]
    OUT.joinpath("seeded.txt").write_text(task["id"] + " " + task["metadata"]["creator"]["id"])
"""


def test_plugin_is_registered_by_its_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("ona_mockserver") == "mockserver.pytest_plugin"


def _pytest(tmp_path: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out.mkdir()
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "--basetemp", str(out / "basetemp"), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PLUGIN_OUT": str(out)},
    )  # fmt: skip


def test_plugin_under_xdist_shares_one_server_and_tests_never_collide(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(_USER_TESTS)
    parallel = _pytest(tmp_path, tmp_path / "parallel", "-n", "2")
    assert parallel.returncode == 0, parallel.stdout + parallel.stderr
    assert "15 passed" in parallel.stdout
    seen = [json.loads(p.read_text()) for p in (tmp_path / "parallel").glob("*.json")]
    assert len(seen) == 13
    assert len({entry["url"] for entry in seen}) == 1  # one server for the whole run
    assert {entry["worker"] for entry in seen} == {"gw0", "gw1"}
    # the controller stopped the shared server at the end of the run
    info = json.loads(
        (tmp_path / "parallel" / "basetemp" / "ona-mockserver" / "server.json").read_text()
    )
    assert _gone(int(info["pid"]))

    # Without xdist the plugin serves in process; the seeded test gets the same ids.
    serial = _pytest(tmp_path, tmp_path / "serial")
    assert serial.returncode == 0, serial.stdout + serial.stderr
    assert "15 passed" in serial.stdout
    first = (tmp_path / "parallel" / "seeded.txt").read_text()
    assert first == (tmp_path / "serial" / "seeded.txt").read_text()


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A stopped child of the ended run may linger as a zombie until reaped by init.
        if Path(f"/proc/{pid}/stat").exists() and ") Z" in Path(f"/proc/{pid}/stat").read_text():
            return True
        time.sleep(0.1)
    return False
