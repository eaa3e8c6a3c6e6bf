"""``--state`` in a real process: kill -9, signals, requests in flight, bad paths."""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.factories import task_body
from tests.support.server_process import ServerProcess, run_until_exit

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
HEADERS = {"Authorization": "Bearer keeper"}


def _create(client: httpx.Client, url: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        response = client.post(
            f"{url}{SERVICE}/CreateTask", json=task_body(reference=f"t{index}"), headers=HEADERS
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["task"]["id"])
    return ids


def _listed(url: str) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        body = {"pagination": {"pageSize": 100, "token": token}}
        page = httpx.post(f"{url}{SERVICE}/ListTasks", json=body, headers=HEADERS).json()
        ids += [task["id"] for task in page.get("tasks", [])]
        token = page["pagination"].get("nextToken", "")
        if not token:
            return ids


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with ServerProcess("--state", str(state)) as first, httpx.Client() as client:
        created = _create(client, first.url, 200)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    with ServerProcess("--state", str(state)) as second:
        assert sorted(_listed(second.url)) == sorted(created)
        assert second.stop(signal.SIGTERM) == 0, second.output()
    assert [p.name for p in tmp_path.iterdir()] == ["state.db"]


def test_writes_racing_a_kill_9_are_either_absent_or_whole(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    acknowledged: list[str] = []
    with ServerProcess("--state", str(state)) as first:

        def writer() -> None:
            with httpx.Client() as client:
                for index in range(10_000):
                    try:
                        response = client.post(
                            f"{first.url}{SERVICE}/CreateTask",
                            json=task_body(reference=f"r{index}"),
                            headers=HEADERS,
                        )
                    except httpx.HTTPError:
                        return
                    acknowledged.append(response.json()["task"]["id"])

        thread = threading.Thread(target=writer)
        thread.start()
        while len(acknowledged) < 100:
            time.sleep(0.01)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        thread.join()
    with ServerProcess("--state", str(state)) as second:
        stored = set(_listed(second.url))
    assert set(acknowledged) <= stored
    assert len(stored) <= len(acknowledged) + 1  # at most the one in flight


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGHUP,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGINT)],
    ids=["SIGHUP", "SIGTERM", "double-SIGINT"],
)
def test_a_stop_by_any_signal_keeps_the_state_and_exits_0(
    tmp_path: Path, signals: tuple[int, ...]
) -> None:
    state = tmp_path / "state.db"
    with ServerProcess("--clock", "manual", "--state", str(state)) as first:
        with httpx.Client() as client:
            created = _create(client, first.url, 20)
        httpx.post(f"{first.url}/_mock/clock/advance", json={"seconds": 30})
        for sig in signals:
            first.process.send_signal(sig)
        assert first.stop(signals[-1]) == 0, first.output()
    assert [p.name for p in tmp_path.iterdir()] == ["state.db"]
    with ServerProcess("--clock", "manual", "--state", str(state)) as second:
        assert sorted(_listed(second.url)) == sorted(created)
        assert httpx.get(f"{second.url}/_mock/clock").json()["now"] == "2026-01-01T00:00:30Z"


def test_a_stop_does_not_wait_forever_for_requests_in_flight(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    scenario = tmp_path / "slow.yaml"
    scenario.write_text("latency: {GetTask: 600}\n")
    with ServerProcess("--state", str(state), "--scenario", str(scenario)) as server:
        with httpx.Client() as client:
            (task_id,) = _create(client, server.url, 1)
        address = urlsplit(server.url)
        # One client waits on a 10-minute latency, another never finishes its body.
        slow = threading.Thread(
            target=lambda: _ignore_errors(
                lambda: httpx.post(
                    f"{server.url}{SERVICE}/GetTask",
                    json={"id": task_id},
                    headers=HEADERS,
                    timeout=700,
                )
            )
        )
        slow.start()
        with socket.create_connection((address.hostname, address.port)) as hanging:
            hanging.sendall(
                f"POST {SERVICE}/CreateTask HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer keeper\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
            )
            time.sleep(0.5)
            # ServerProcess.stop fails the test if the process is still running after 20 s.
            assert server.stop(signal.SIGTERM) == 0, server.output()
        slow.join()
    with ServerProcess("--state", str(state)) as again:
        assert _listed(again.url) == [task_id]


def _ignore_errors(call: object) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("where", ["missing/state.db", "."])
def test_a_bad_state_path_is_refused_with_one_line_and_exit_1(tmp_path: Path, where: str) -> None:
    state = tmp_path / where
    result = run_until_exit("--state", str(state))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"mockserver: cannot use state file {state}")
    assert result.stdout == ""


def test_the_state_file_is_plain_sqlite(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with ServerProcess("--state", str(state)) as server, httpx.Client() as client:
        _create(client, server.url, 3)
        with sqlite3.connect(state) as db:
            (count,) = db.execute("SELECT count(*) FROM tasks").fetchone()
        db.close()
        assert count == 3


def test_a_second_server_on_the_same_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with ServerProcess("--state", str(state)):
        result = run_until_exit("--state", str(state))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"mockserver: cannot use state file {state}: another mockserver is using it\n"
    )
