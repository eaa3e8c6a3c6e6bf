"""The ``mockserver`` process: its banner, its flags, and a clean stop that keeps the state."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.factories import task_body
from tests.support.server_process import REPO_ROOT, ServerProcess, run_until_exit

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_process_state_is_written_back_on_a_clean_stop(tmp_path: Path, sig: int) -> None:
    state = tmp_path / "state.json"
    headers = {"Authorization": "Bearer keeper"}
    with ServerProcess("--clock", "manual", "--state", str(state)) as first:
        created = httpx.post(f"{first.url}{SERVICE}/CreateTask", json=task_body(), headers=headers)
        task = created.json()["task"]
        httpx.post(f"{first.url}/_mock/clock/advance", json={"seconds": 30})
        assert first.stop(sig) == 0, first.output()
        assert f"state saved in {state}" in first.output()

    with ServerProcess("--clock", "manual", "--state", str(state)) as second:
        got = httpx.post(f"{second.url}{SERVICE}/GetTask", json={"id": task["id"]}, headers=headers)
        assert got.json() == {"task": task}
        clock = httpx.get(f"{second.url}/_mock/clock").json()
        assert clock["now"] == "2026-01-01T00:00:30Z"


def test_process_prints_the_actual_url_and_honours_the_allow_list() -> None:
    with ServerProcess("--token", "alice", "--token", "bob", "--strict") as server:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rsplit(":", 1)[1])
        assert port not in (0, 8080)

        def list_tasks(token: str, body: dict[str, object]) -> httpx.Response:
            return httpx.post(
                f"{server.url}{SERVICE}/ListTasks",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )

        assert list_tasks("alice", {}).status_code == 200
        assert list_tasks("bob", {}).status_code == 200
        assert list_tasks("eve", {}).status_code == 401
        assert list_tasks("alice", {"unknownField": 1}).status_code == 400


def test_process_bad_flags_exit_2_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--clock", "sometimes"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --clock: invalid choice: 'sometimes'" in result.stderr
    assert result.stdout == ""


def test_process_bad_state_file_exits_1(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("[]")
    result = run_until_exit("--state", str(state))
    assert result.returncode == 1
    assert f"cannot load state from {state}" in result.stderr
