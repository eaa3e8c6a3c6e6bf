"""mockserver.recording: what a recording showed becomes state that shows the same.

The recorded server here is the fake itself (in-process, manual clock), so every
execution's phase at the recording's instant is known exactly: after the conversion, a
fresh tenant on the recording's clock must render each execution as it was last recorded,
whatever phase it was in (pending, running, failed, stopped, succeeded).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.recording import convert, main
from mockserver.testing import MockClient, MockServer
from openapi.recording import Entry, RecordingError, read_recording
from tests.support.factories import ENV

SCENARIO = """
rules:
  - match: {reference: "^flaky"}
    outcome: fail
    duration: 3
    failure_message: "exit status 2"
    output: {exitCode: "2"}
"""


class Recorder:
    """Calls through a tenant, kept as recording lines (what the proxy would write)."""

    def __init__(self, client: MockClient) -> None:
        self.client = client
        self.entries: list[dict[str, Any]] = []

    def call(self, method: str, request: dict[str, Any]) -> Any:
        response = self.client.call(method, request)
        self.entries.append(
            {
                "format": 1, "seq": len(self.entries) + 1, "time": self.client.now(),
                "caller": "caller-1", "path": f"/x/{method}", "httpMethod": "POST",
                "method": method, "dialect": "json", "request": request, "status": 200,
                "code": "ok", "response": response, "ms": 1.0,
            }
        )  # fmt: skip
        return response


def _task(recorder: Recorder, reference: str, depends_on: list[str] | None = None) -> str:
    body: dict[str, Any] = {
        "environmentId": ENV,
        "metadata": {"name": reference.title(), "reference": reference},
        "spec": {"command": f"make {reference}"},
    }
    if depends_on:
        body["dependsOn"] = depends_on
    return str(recorder.call("CreateTask", body)["task"]["id"])


def _start(recorder: Recorder, task_id: str) -> str:
    return str(recorder.call("StartTask", {"id": task_id})["taskExecution"]["id"])


def _read(recorder: Recorder, execution_id: str) -> None:
    recorder.call("GetTaskExecution", {"id": execution_id})


def _last(entries: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in entries:
        response = entry["response"]
        for item in [response.get("taskExecution"), *response.get("taskExecutions", [])]:
            if item:
                found[item["id"]] = item
    return found


def _parsed(lines: list[dict[str, Any]]) -> list[Entry]:
    return [Entry.from_json(line, f"line {index}") for index, line in enumerate(lines, 1)]


def _comparable(execution: dict[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(execution))
    copy["status"].pop("logUrl", None)
    return copy


def test_recording_every_phase_is_rendered_as_last_recorded() -> None:
    with MockServer(scenario=SCENARIO, token="recorded") as server:
        recorder = Recorder(server)
        setup = _task(recorder, "setup")
        build = _task(recorder, "build", [setup])
        flaky = _task(recorder, "flaky-tests", [setup])
        pending = _start(recorder, setup)
        succeeded = _start(recorder, build)
        failed = _start(recorder, flaky)
        stopped = _start(recorder, build)
        server.advance(2)  # every execution is RUNNING its first group
        _read(recorder, stopped)
        recorder.call("StopTaskExecution", {"id": stopped})
        server.advance(10)
        for execution_id in (succeeded, failed):
            _read(recorder, execution_id)
        running = _start(recorder, setup)
        server.advance(1.5)
        _read(recorder, running)
        recorder.call("DeleteTask", {"id": flaky})
        recorder.call("UpdateTask", {"id": build, "metadata": {"name": "Build all"}})
        state = convert(_parsed(recorder.entries))
        expected = _last(recorder.entries)
        del expected[pending]  # last seen PENDING at its start; read below as it is now
        del expected[stopped]  # last seen RUNNING, then stopped: checked below
        stop_time = next(e["time"] for e in recorder.entries if e["method"] == "StopTaskExecution")

        fresh = server.tenant("seeded")
        try:
            fresh.import_state(state)
            for execution_id, execution in expected.items():
                got = fresh.call("GetTaskExecution", {"id": execution_id})["taskExecution"]
                assert _comparable(got) == _comparable(execution), execution_id
            halted = fresh.call("GetTaskExecution", {"id": stopped})["taskExecution"]
            assert halted["status"]["phase"] == "TASK_EXECUTION_PHASE_STOPPED"
            assert halted["metadata"]["completedAt"] == stop_time
            phases = {
                fresh.call("GetTaskExecution", {"id": e})["taskExecution"]["status"]["phase"]
                for e in (succeeded, failed, stopped, running)
            }
            tasks = fresh.call("ListTasks", {})["tasks"]
        finally:
            fresh.close()
    assert phases == {
        f"TASK_EXECUTION_PHASE_{p}" for p in ("SUCCEEDED", "FAILED", "STOPPED", "RUNNING")
    }
    assert {task["id"] for task in tasks} == {setup, build}  # flaky was deleted
    assert next(t for t in tasks if t["id"] == build)["metadata"]["name"] == "Build all"


def _line(caller: str) -> dict[str, Any]:
    return {
        "format": 1, "seq": 1, "time": "2026-01-01T00:00:00Z", "caller": caller,
        "path": "/x", "httpMethod": "POST", "method": "GetTask", "dialect": "json",
        "request": {}, "status": 404, "code": "not_found", "response": {}, "ms": 1.0,
    }  # fmt: skip


def test_recording_of_several_callers_needs_one_chosen() -> None:
    with pytest.raises(RecordingError, match=r"2 callers \(caller-1, caller-2\)"):
        convert(_parsed([_line("caller-1"), _line("caller-2")]))
    assert convert(_parsed([_line("caller-1"), _line("caller-2")]), "caller-2")["tenants"] == {
        "caller-2": {"tasks": [], "executions": [], "clock": "2026-01-01T00:00:00Z"}
    }


def test_recording_of_another_format_is_refused_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(_line("caller-1")) + "\n" + json.dumps({"format": 2}) + "\n")
    with pytest.raises(RecordingError, match=r"calls.jsonl:2: format 2"):
        list(read_recording(path))
    assert main([str(path)]) == 1
    assert "calls.jsonl:2: format 2 (this version reads format 1)" in capsys.readouterr().err
