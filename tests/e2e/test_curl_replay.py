""" "Copy as curl": the command the journal gives for a call, run by bash against a real
server, sends the same call again (JSON, binary and Connect GET), with ``$TOKEN``."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gitpod.v1 import environment_automation_pb2 as pb

from tests.support.factories import task_body
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
TOKEN = "curl-replay-4f1a2b"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess("--clock", "manual", "--token", TOKEN) as process:
        yield process


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10.0
    ) as client:
        client.post("/_mock/reset")
        yield client


def _replay(
    api: httpx.Client, method: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Runs the curl command of the newest entry (of ``method``) in bash; the entry, its
    replay and what curl printed."""
    before = api.get("/_mock/requests").json()["requests"]
    original = [e for e in before if method in (None, e["method"])][-1]
    command = api.get(f"/_mock/requests/{original['id']}/curl")
    assert command.status_code == 200, command.text
    assert TOKEN not in command.text
    done = subprocess.run(
        ["bash", "-c", command.text],
        env={**os.environ, "TOKEN": TOKEN},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = api.get("/_mock/requests").json()["requests"]
    assert len(after) == len(before) + 1, "the command made no call"
    return original, after[-1], done.stdout.decode("latin-1")


def _same_call(original: dict[str, Any], replay: dict[str, Any]) -> None:
    for key in ("method", "request", "code", "httpMethod", "query"):
        assert replay.get(key) == original.get(key), key
    content_type = original["requestHeaders"].get("content-type")
    assert replay["requestHeaders"].get("content-type") == content_type


def test_curl_replays_a_json_call(api: httpx.Client) -> None:
    body = task_body("build", metadata={"name": 'It\'s "quoted" $HOME', "reference": "build"})
    created = api.post(f"{SERVICE}/CreateTask", json=body)
    assert created.status_code == 200, created.text
    # Gone again, so the replay does not meet "reference already exists".
    api.post(f"{SERVICE}/DeleteTask", json={"id": created.json()["task"]["id"]})
    original, replay, output = _replay(api, "CreateTask")
    _same_call(original, replay)
    assert replay["code"] == "ok"
    assert 'It\'s \\"quoted\\" $HOME' in output  # the shell left the name alone


def test_curl_replays_a_binary_call_byte_for_byte(api: httpx.Client) -> None:
    message = pb.ListTasksRequest(pagination={"page_size": 7})
    headers = {"Content-Type": "application/proto", "Connect-Protocol-Version": "1"}
    body = message.SerializeToString()
    response = api.post(f"{SERVICE}/ListTasks", content=body, headers=headers)
    assert response.status_code == 200, response.text
    original, replay, _ = _replay(api)
    _same_call(original, replay)
    assert replay["request"] == {"pagination": {"pageSize": 7}}
    assert replay["requestHeaders"]["connect-protocol-version"] == "1"


def test_curl_replays_a_connect_get(api: httpx.Client) -> None:
    message = base64.urlsafe_b64encode(pb.ListTasksRequest().SerializeToString()).decode()
    query = f"encoding=proto&base64=1&message={message}&connect=v1"
    assert api.get(f"{SERVICE}/ListTasks?{query}").status_code == 200
    original, replay, _ = _replay(api)
    _same_call(original, replay)
    assert replay["httpMethod"] == "GET"
