"""``--state`` on a failing disk, in a real process: a write that cannot be committed is
refused (``unavailable``) and never exists; a file that cannot be written, or is not a
database this version wrote, is refused at start with one line and exit 1."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.factories import task_body
from tests.support.server_process import ServerProcess, file_size_limit, run_until_exit

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
HEADERS = {"Authorization": "Bearer keeper"}


def _listed(client: httpx.Client, url: str) -> set[str]:
    body = {"pagination": {"pageSize": 100}}
    page = client.post(f"{url}{SERVICE}/ListTasks", json=body, headers=HEADERS).json()
    return {task["id"] for task in page.get("tasks", [])}


def test_under_a_file_size_limit_refused_writes_never_exist(tmp_path: Path) -> None:
    """``ulimit -f``: the write-ahead log reaches the limit after a few dozen writes."""
    state = tmp_path / "state.db"
    acknowledged: set[str] = set()
    refused = 0
    limit = file_size_limit(160 * 1024)
    with ServerProcess("--state", str(state), preexec_fn=limit) as server, httpx.Client() as client:
        for index in range(400):
            response = client.post(
                f"{server.url}{SERVICE}/CreateTask",
                json=task_body(reference=f"t{index}", command="x" * 2000),
                headers=HEADERS,
            )
            if response.status_code == 200:
                acknowledged.add(response.json()["task"]["id"])
                continue
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "unavailable"
            refused += 1
            if refused == 1:
                # The refused task does not exist: its reference is still free, so a retry
                # is refused by the disk again, not as already_exists.
                last = task_body(reference=f"t{index}")
                again = client.post(f"{server.url}{SERVICE}/CreateTask", json=last, headers=HEADERS)
                assert again.status_code == 503
                assert again.json()["code"] == "unavailable"
            if refused >= 20:
                break
        assert refused >= 20, "the file size limit was never reached"
        assert acknowledged, "no write fitted under the limit"
        assert _listed(client, server.url) == acknowledged
        assert server.process.poll() is None  # SIGXFSZ did not kill it
        assert server.stop(signal.SIGTERM) == 0, server.output()
    with ServerProcess("--state", str(state)) as restarted, httpx.Client() as client:
        assert _listed(client, restarted.url) == acknowledged


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or directory) cannot be written, even by root: immutable."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make {path} immutable: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def _made_by_a_server(path: Path) -> None:
    with ServerProcess("--state", str(path)) as server:
        httpx.post(f"{server.url}{SERVICE}/CreateTask", json=task_body(), headers=HEADERS)
        assert server.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_state_file_that_cannot_be_written_is_refused_at_start(tmp_path: Path, what: str) -> None:
    state = tmp_path / "dir" / "state.db"
    state.parent.mkdir()
    _made_by_a_server(state)
    with _read_only(state if what == "file" else state.parent):
        result = run_until_exit("--state", str(state))
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    first_words = "write" if what == "file" else "use"
    assert result.stderr.startswith(f"mockserver: cannot {first_words} state file {state}")
    assert "read-only" in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_as_state_is_refused_without_hanging(tmp_path: Path, kind: str) -> None:
    fifo = tmp_path / "state.db"
    if kind == "fifo":
        os.mkfifo(fifo)
    else:
        fifo = Path("/dev/null")
    result = run_until_exit("--state", str(fifo), timeout=30)
    assert result.returncode == 1
    assert result.stderr == (
        f"mockserver: cannot use state file {fifo}: not a regular file (a FIFO, socket or device)\n"
    )


_EDITS = {
    "settings not an object": "INSERT INTO settings VALUES ('t', '[1]')",
    "clockOffsetUs a string": """INSERT INTO settings VALUES ('t', '{"clockOffsetUs": "9"}')""",
    "a wrong table schema": "DROP TABLE tasks; CREATE TABLE tasks (tenant TEXT, name TEXT)",
    "a body that is not JSON": "INSERT INTO tasks VALUES ('t', 'x', x'ff00')",
    "a tenant that is not text": "INSERT INTO executions VALUES (7, 'x', '{}')",
    "a task that is not a task": "INSERT INTO tasks VALUES ('t', 'x', '[[]]')",
    "a scenario with a huge integer": """INSERT INTO settings VALUES ('t',
        '{"scenario": {"seed": 100000000000000000000000}}')""",
    "a clock that is not a time": "UPDATE meta SET value = 'soon' WHERE key = 'clock'",
    "a meta table of another layout": "DROP TABLE meta; CREATE TABLE meta (a, b)",
    "tasks without their primary key": "DROP TABLE tasks; CREATE TABLE tasks (tenant, id, body)",
    "a view where a table was": "DROP TABLE settings; CREATE VIEW settings AS SELECT 1 AS tenant",
}


@pytest.mark.parametrize("edit", list(_EDITS))
def test_a_hand_edited_database_is_refused_with_one_line(tmp_path: Path, edit: str) -> None:
    state = tmp_path / "state.db"
    _made_by_a_server(state)
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', '2026-01-01T00:00:00Z')")
        db.executescript(_EDITS[edit])
        db.commit()
    result = run_until_exit("--state", str(state))
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        (
            f"mockserver: cannot load state from {state}",
            f"mockserver: cannot use state file {state}",
        )
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert "unexpected content" not in result.stderr  # a check foresaw it, and says what


def test_a_database_damaged_past_its_header_is_refused_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    _made_by_a_server(state)
    data = bytearray(state.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)  # the header stays: it looks like SQLite
    state.write_bytes(bytes(data))
    result = run_until_exit("--state", str(state))
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"mockserver: cannot use state file {state}")
