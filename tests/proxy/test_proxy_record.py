"""A recording: written by the proxy, replayed against a fresh fake with no difference (and
against a broken one with differences), and turned into a fresh fake's state so that the
same reads return the same resources."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ona_sdk
import pytest

from openapi import METHODS_BY_NAME
from openapi.dialects import build_get_query, to_binary
from tests.contracts.mutants import MUTANTS, serve
from tests.contracts.mutants_dialects import DIALECT_MUTANTS, WireRewrite
from tests.proxy.test_proxy_sdk import lifecycle
from tests.support.factories import MISSING, task_body
from tests.support.proxy_process import ProxyProcess
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
SDK_TOKEN = "record-sdk-secret"
JSON_TOKEN = "record-json-secret"
FAKE_ARGS = ("--clock", "manual", "--pending-delay", "1", "--step-duration", "2")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two callers' traffic through the proxy in front of a fake: the binary SDK's
    lifecycle, then JSON POST and Connect GET calls of a second token."""
    path = tmp_path_factory.mktemp("recording") / "recording.jsonl"
    with (
        ServerProcess(*FAKE_ARGS, "--log-level", "warning") as fake,
        ProxyProcess("--upstream", fake.url, "--record", str(path)) as proxy,
    ):
        sdk = ona_sdk.create_client(api_key=SDK_TOKEN, base_url=proxy.url)
        try:
            lifecycle(sdk.services.environment_automation, proxy.url, SDK_TOKEN)
        finally:
            sdk.services.environment_automation.close()
        with httpx.Client(
            base_url=proxy.url, headers={"Authorization": f"Bearer {JSON_TOKEN}"}
        ) as client:
            created = client.post(f"{SERVICE}/CreateTask", json=task_body("other"))
            task_id = created.json()["task"]["id"]
            message = json.dumps({"id": task_id})
            got = client.get(
                f"{SERVICE}/GetTask",
                params={"encoding": "json", "message": message, "connect": "v1"},
            )
            assert got.status_code == 200 and got.headers["x-contract-violations"] == "0"
            binary = to_binary(METHODS_BY_NAME["GetTask"].request, {"id": task_id})
            query = build_get_query("proto", binary)
            got = client.get(f"{SERVICE}/GetTask?{query}", headers={"Accept-Encoding": "gzip"})
            assert got.status_code == 200 and got.headers["x-contract-violations"] == "0"
            assert client.post(f"{SERVICE}/GetTask", json={"id": MISSING}).status_code == 404
        status, summary = proxy.finish()
        assert status == 0, summary
    yield path


def _entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_recording_keeps_messages_as_proto3_json_and_no_token(recorded: Path) -> None:
    text = recorded.read_text()
    assert SDK_TOKEN not in text and JSON_TOKEN not in text
    entries = _entries(recorded)
    assert {entry["format"] for entry in entries} == {1}
    assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))
    assert {entry["caller"] for entry in entries} == {"caller-1", "caller-2"}
    by_dialect = {(entry["caller"], entry["dialect"]) for entry in entries if entry["method"]}
    assert by_dialect == {
        ("caller-1", "proto"),
        ("caller-2", "json"),
        ("caller-2", "get (json)"),
        ("caller-2", "get (proto)"),
    }
    binary_get = next(e for e in entries if e["dialect"] == "get (proto)")
    assert binary_get["request"] == {"id": binary_get["response"]["task"]["id"]}
    create = next(e for e in entries if e["method"] == "CreateTask" and e["caller"] == "caller-1")
    # The binary SDK's request and answer, read as proto3 JSON.
    assert create["request"]["metadata"]["reference"] == "setup"
    assert create["response"]["task"]["metadata"]["name"] == "Setup"
    assert (create["status"], create["code"]) == (200, "ok")
    missing = [e for e in entries if e["method"] == "GetTask" and e["status"] == 404]
    assert [e["code"] for e in missing] == ["not_found", "not_found"]
    clock = [e for e in entries if e["method"] is None]
    assert {e["path"] for e in clock} == {"/_mock/clock/advance"} and len(clock) == 3


def test_replay_against_a_fresh_fake_finds_no_difference(recorded: Path) -> None:
    with ServerProcess(*FAKE_ARGS, "--log-level", "warning") as fresh:
        result = _run("-m", "contracts", "replay", str(recorded), "--base-url", fresh.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 difference(s)" in result.stdout


def test_replay_against_a_broken_server_reports_the_differences(recorded: Path) -> None:
    mutant = next(m for m in MUTANTS if m.name == "missing_required_field")
    with serve(mutant) as url:
        result = _run("-m", "contracts", "replay", str(recorded), "--base-url", url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CreateTask: /task/id: recorded, missing now" in result.stdout


def test_replay_speaks_the_recorded_dialect(recorded: Path) -> None:
    """The binary SDK's calls are replayed in binary: a server refusing it differs."""
    mutant = next(m for m in DIALECT_MUTANTS if m.name == "binary_refused")
    with serve(None, wrap=lambda app: WireRewrite(app, mutant)) as url:
        result = _run("-m", "contracts", "replay", str(recorded), "--base-url", url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "#1 CreateTask: recorded HTTP 200 ok, got HTTP 415" in result.stdout
    differing = {int(line.split()[0][1:]) for line in result.stdout.splitlines() if line[:1] == "#"}
    in_json = {e["seq"] for e in _entries(recorded) if e["dialect"] in ("json", "get (json)")}
    assert in_json and not differing & in_json  # the JSON calls still agree


def _rpc(url: str, token: str, method: str, body: object) -> Any:
    response = httpx.post(
        f"{url}{SERVICE}/{method}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _without_log_url(value: Any) -> Any:
    """An execution without ``status.logUrl``, which names the server that serves the log."""
    value = json.loads(json.dumps(value))
    value.get("status", {}).pop("logUrl", None)
    return value


def test_recording_seeds_a_fresh_fake_with_the_same_resources(recorded: Path) -> None:
    converted = _run("-m", "mockserver", "import-recording", str(recorded), "--caller", "caller-1")
    assert converted.returncode == 0, converted.stderr
    state = json.loads(converted.stdout)
    entries = [e for e in _entries(recorded) if e["caller"] == "caller-1" and e["status"] == 200]
    last_tasks: dict[str, Any] = {}
    last_executions: dict[str, Any] = {}
    for entry in entries:
        response = entry["response"] or {}
        for task in [response.get("task"), *response.get("tasks", [])]:
            if task:
                last_tasks[task["id"]] = task
        for execution in [response.get("taskExecution"), *response.get("taskExecutions", [])]:
            if execution:
                last_executions[execution["id"]] = execution
        if entry["method"] == "DeleteTask":
            last_tasks.pop(entry["request"]["id"])
    token = "seeded-tenant"
    with ServerProcess(*FAKE_ARGS, "--log-level", "warning") as fresh:
        put = httpx.put(
            f"{fresh.url}/_mock/state", json=state, headers={"Authorization": f"Bearer {token}"}
        )
        assert put.status_code == 200, put.text
        listed = _rpc(fresh.url, token, "ListTasks", {})["tasks"]
        assert {task["id"]: task for task in listed} == last_tasks
        for task_id, task in last_tasks.items():
            assert _rpc(fresh.url, token, "GetTask", {"id": task_id})["task"] == task
        assert len(last_executions) == 2
        for execution_id, execution in last_executions.items():
            got = _rpc(fresh.url, token, "GetTaskExecution", {"id": execution_id})
            assert _without_log_url(got["taskExecution"]) == _without_log_url(execution)


def test_import_recording_needs_a_caller_when_there_are_several(recorded: Path) -> None:
    result = _run("-m", "mockserver", "import-recording", str(recorded))
    assert result.returncode == 1
    assert "2 callers (caller-1, caller-2); choose one with --caller" in result.stderr
