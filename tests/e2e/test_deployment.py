"""A real server playing a deployment: dropped connections, --environment with --token,
browser preflights (--cors-origin), --public-url and the Host header, --version."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import ENV, OTHER_ENV, task_body
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
ORIGIN = "http://localhost:3000"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(
        "--clock", "manual", "--environment", ENV, "--token", "ci", "--token", "other",
        "--admin-token", "op", "--cors-origin", ORIGIN, "--log-level", "warning",
    ) as process:  # fmt: skip
        yield process


def _headers(token: str = "ci") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_deployment_dropped_connection_gets_no_response(server: ServerProcess) -> None:
    scenario = b"faults: [{method: ListTasks, drop: true, times: 1}]"
    put = httpx.put(f"{server.url}/_mock/scenario", content=scenario, headers=_headers())
    assert put.status_code == 200
    host, port = server.url.removeprefix("http://").split(":")
    body = b"{}"
    request = (
        f"POST {SERVICE}/ListTasks HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Authorization: Bearer ci\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        try:
            received = sock.recv(65536)
        except ConnectionResetError:
            received = b""
    assert received == b""  # closed without a status line
    # httpx sees the same; the next call (times: 1) goes through
    with httpx.Client(base_url=server.url, headers=_headers()) as client:
        assert client.post(f"{SERVICE}/ListTasks", json={}).status_code == 200
        journal = client.get("/_mock/requests").json()["requests"]
    assert journal[0]["code"] is None and journal[0]["fault"] == {"rule": 0, "kind": "drop"}
    assert "Exception" not in server.output() and "ERROR" not in server.output()


def test_deployment_dropped_connection_is_a_transport_error_for_httpx(
    server: ServerProcess,
) -> None:
    scenario = b"faults: [{method: GetTask, drop: true}]"
    httpx.put(f"{server.url}/_mock/scenario", content=scenario, headers=_headers("other"))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{server.url}{SERVICE}/GetTask", json={"id": ENV}, headers=_headers("other"))


def test_deployment_environment_flag_with_token(server: ServerProcess) -> None:
    url = f"{server.url}{SERVICE}"
    assert httpx.post(f"{url}/CreateTask", json=task_body(), headers=_headers()).status_code == 200
    other = httpx.post(
        f"{url}/CreateTask", json=task_body(environment_id=OTHER_ENV), headers=_headers()
    )
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    listed = httpx.post(
        f"{url}/ListTasks", json={"filter": {"environmentIds": [OTHER_ENV]}}, headers=_headers()
    )
    assert listed.json() == {"pagination": {}}
    anonymous = httpx.post(f"{server.url}/_mock/reset")
    assert anonymous.status_code == 401


def test_deployment_cors_preflight_and_response(server: ServerProcess) -> None:
    preflight = httpx.options(
        f"{server.url}{SERVICE}/CreateTask",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,connect-protocol-version,"
            "connect-timeout-ms,x-user-agent",
        },
    )
    assert preflight.status_code == 200, preflight.text
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("content-type", "connect-protocol-version", "connect-timeout-ms",
                   "authorization", "x-user-agent"):  # fmt: skip
        assert header in allowed
    assert {"GET", "POST"} <= set(preflight.headers["access-control-allow-methods"].split(", "))
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert int(preflight.headers["access-control-max-age"]) > 0
    answer = httpx.post(
        f"{server.url}{SERVICE}/GetTask",
        json={"id": ENV},
        headers={**_headers(), "Origin": ORIGIN},
    )
    assert answer.status_code == 404
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "grpc-status" in answer.headers["access-control-expose-headers"].lower()
    stranger = httpx.options(
        f"{server.url}{SERVICE}/CreateTask",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers


def test_deployment_no_cors_by_default() -> None:
    with ServerProcess("--log-level", "warning") as plain:
        preflight = httpx.options(
            f"{plain.url}{SERVICE}/CreateTask",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 405


def _log_url(url: str, host_header: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {host_header}"}
    if host_header is not None:
        headers["Host"] = host_header
    with httpx.Client(base_url=url, headers=headers) as client:
        task = client.post(f"{SERVICE}/CreateTask", json=task_body()).json()["task"]
        execution = client.post(f"{SERVICE}/StartTask", json={"id": task["id"]}).json()
        client.post("/_mock/clock/advance", json={"seconds": 1.5})
        read = client.post(
            f"{SERVICE}/GetTaskExecution", json={"id": execution["taskExecution"]["id"]}
        )
        log_url: str = read.json()["taskExecution"]["status"]["logUrl"]
        return log_url


def test_deployment_public_url_is_the_base_of_log_urls() -> None:
    public = "https://fake.example.test:8443/base"
    with ServerProcess("--clock", "manual", "--public-url", public) as process:
        assert _log_url(process.url).startswith(f"{public}/_mock/logs/")


def test_deployment_wildcard_bind_uses_the_request_host() -> None:
    with ServerProcess("--clock", "manual", "--host", "0.0.0.0") as process:
        port = process.url.rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}"
        assert _log_url(local).startswith(f"{local}/_mock/logs/")
        assert _log_url(local, "fake.internal:9999").startswith("http://fake.internal:9999/")
        # a Host that is not a host does not make it into a URL
        assert _log_url(local, "a/b").startswith("http://0.0.0.0:")


def test_deployment_version_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "--version"],
        capture_output=True, text=True, cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    assert done.stdout.startswith("mockserver 0.")
