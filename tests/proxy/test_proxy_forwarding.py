"""The proxy forwards as a proxy must: bodies, statuses and end-to-end headers as they
were, ``Host`` the upstream's, hop-by-hop headers dropped, nothing added but the verdict;
paths outside the API untouched and unjudged; an unreachable upstream a setup error."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from tests.support.factories import task_body
from tests.support.proxy_process import ProxyProcess
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """An upstream that answers with what it received, and a hop-by-hop header of its own."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": base64.b64encode(body).decode(),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 207,
            "headers": [
                (b"content-type", b"application/json"),
                (b"x-upstream", b"echo"),
                (b"keep-alive", b"timeout=5"),
                (b"connection", b"x-private"),
                (b"x-private", b"hop"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(seen).encode()})


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(_echo, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the echo server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def echo_proxy(echo: str) -> Iterator[ProxyProcess]:
    with ProxyProcess("--upstream", echo) as process:
        yield process


def _raw_request(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[http.client.HTTPResponse, bytes]:
    """A request with exactly these headers (http.client adds only Host)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def test_proxy_forwards_end_to_end_headers_and_drops_hop_by_hop(
    echo: str, echo_proxy: ProxyProcess
) -> None:
    response, data = _raw_request(
        echo_proxy.url,
        "PUT",
        "/_mock/anything?x=1&y=%20",
        {
            "X-Custom": "kept",
            "Authorization": "Bearer secret-token",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "dropped",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
        },
        b"\x00\x01binary",
    )
    seen = json.loads(data)
    headers = dict(seen["headers"])
    assert (seen["method"], seen["path"], seen["query"]) == ("PUT", "/_mock/anything", "x=1&y=%20")
    assert base64.b64decode(seen["body"]) == b"\x00\x01binary"
    assert headers["x-custom"] == "kept"
    assert headers["authorization"] == "Bearer secret-token"  # end-to-end: forwarded as is
    assert headers["host"] == urlsplit(echo).netloc
    assert not {"x-hop", "keep-alive", "te"} & set(headers), headers
    assert "accept-encoding" not in headers  # the proxy asks for nothing the client did not
    assert response.status == 207
    assert response.getheader("x-upstream") == "echo"
    assert response.getheader("x-private") is None and response.getheader("keep-alive") is None
    # Outside the API: not judged, so no verdict header.
    assert response.getheader("x-contract-violations") is None


def test_proxy_passes_gzip_through_and_adds_none(fake: ServerProcess, proxy: ProxyProcess) -> None:
    headers = {"Authorization": "Bearer proxy-gzip", "Content-Type": "application/json"}
    for index in range(12):
        body = task_body(f"gzip-{index}", spec={"command": "x" * 200})
        assert httpx.post(f"{proxy.url}{SERVICE}/CreateTask", json=body, headers=headers)
    payload = b"{}"
    zipped, raw = _raw_request(
        proxy.url, "POST", f"{SERVICE}/ListTasks", {**headers, "Accept-Encoding": "gzip"}, payload
    )
    plain, text = _raw_request(proxy.url, "POST", f"{SERVICE}/ListTasks", headers, payload)
    assert zipped.getheader("content-encoding") == "gzip" and raw[:2] == b"\x1f\x8b"
    assert plain.getheader("content-encoding") is None and len(json.loads(text)["tasks"]) == 12
    assert zipped.getheader("x-contract-violations") == plain.getheader("x-contract-violations")
    assert plain.getheader("x-contract-violations") == "0"


def test_proxy_leaves_the_fakes_control_routes_unjudged(proxy: ProxyProcess) -> None:
    response = httpx.get(f"{proxy.url}/_mock/health")
    assert response.json() == {"status": "ok"}
    assert "x-contract-violations" not in response.headers
    assert httpx.get(f"{proxy.url}/_contracts/violations").json() == {"violations": []}


def test_proxy_exits_2_when_the_upstream_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "contracts", "proxy", "--upstream", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the upstream" in lines[0], result.stderr
    assert "listening" not in result.stdout


def test_proxy_answers_502_when_the_upstream_goes_away() -> None:
    upstream = ServerProcess("--log-level", "warning").start()
    try:
        with ProxyProcess("--upstream", upstream.url) as proxy:
            upstream.stop()
            answer = httpx.post(
                f"{proxy.url}{SERVICE}/ListTasks",
                json={},
                headers={"Authorization": "Bearer gone"},
            )
            status, summary = proxy.finish()
    finally:
        upstream.close()
    assert answer.status_code == 502
    assert answer.json()["code"] == "unavailable"
    assert "x-contract-violations" not in answer.headers
    assert status == 0, summary  # the upstream's absence is no violation
