"""Connections are bounded: header and idle timeouts, a connection limit answered with a
Connect error, and clients that stop reading are let go. Real sockets, a real process.

Counts are small and every wait has a generous deadline: nothing here is timed.
"""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from mockserver.domain.caller import subject_id_for
from tests.support.factories import ENV
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

DEADLINE = 30.0  # seconds a guard may take on a loaded machine; it acts in ~1 s
HEALTH = b"GET /_mock/health HTTP/1.1\r\nHost: fake\r\n\r\n"


def _address(server: ServerProcess) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _closed_by_server(sock: socket.socket, deadline: float = DEADLINE) -> bool:
    """Whether the server closes ``sock`` before ``deadline`` (what arrives is drained)."""
    end = time.monotonic() + deadline
    while (remaining := end - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], remaining)
        if not ready:
            continue
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
    return False


@contextmanager
def _sockets(address: tuple[str, int], count: int) -> Iterator[list[socket.socket]]:
    opened = [socket.create_connection(address, timeout=DEADLINE) for _ in range(count)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_idle_and_half_sent_headers_are_closed_and_others_still_served() -> None:
    with ServerProcess("--header-timeout", "1") as server:
        address = _address(server)
        with _sockets(address, 20) as idle, _sockets(address, 20) as half:
            for sock in half:
                sock.sendall(b"POST /gitpod.v1.EnvironmentAutomationService/ListTasks HTTP/1.1\r\n")
            assert all(_closed_by_server(sock) for sock in idle + half)
        assert httpx.get(f"{server.url}/_mock/health").status_code == 200


def test_a_kept_alive_connection_idle_past_the_idle_timeout_is_closed() -> None:
    args = ("--idle-timeout", "1", "--header-timeout", "600")
    with ServerProcess(*args) as server, _sockets(_address(server), 1) as (sock,):
        sock.sendall(HEALTH)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        assert _closed_by_server(sock)


def test_a_connection_past_the_limit_gets_a_connect_error_then_room_comes_back() -> None:
    args = ("--max-connections", "5", "--idle-timeout", "600", "--header-timeout", "600")
    with ServerProcess(*args) as server:
        address = _address(server)
        with _sockets(address, 5) as held:
            for sock in held:  # answered: each is open on the server's side too
                sock.sendall(HEALTH)
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            response = httpx.get(f"{server.url}/_mock/health")
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/json"
            assert response.headers["connection"] == "close"
            body = response.json()
            assert body["code"] == "unavailable"
            assert "--max-connections" in body["message"]
        # The held connections are gone: room again (the server sees the closes soon).
        for _ in range(int(DEADLINE * 10)):
            if httpx.get(f"{server.url}/_mock/health").status_code == 200:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server never had room again after the connections closed")


def _big_tenant(server: ServerProcess, token: str, tasks: int) -> int:
    """Import ``tasks`` tasks of ~2 KB for ``token``; the bytes of its export."""
    subject = subject_id_for(token)
    creator = {"id": subject, "principal": "PRINCIPAL_USER"}
    document = {
        "version": 1,
        "tenants": {
            subject: {
                "tasks": [
                    {
                        "id": str(uuid.UUID(int=n + 1, version=4)),
                        "environmentId": ENV,
                        "metadata": {"createdAt": "2026-01-01T00:00:00Z", "creator": creator},
                        "spec": {"command": "x" * 2000},
                    }
                    for n in range(tasks)
                ]
            }
        },
    }
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.put(f"{server.url}/_mock/state", json=document, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    export = httpx.get(f"{server.url}/_mock/state", headers=headers, timeout=60)
    return len(export.content)


def _stalled_reader(server: ServerProcess, token: str) -> socket.socket:
    """A connection that asks for the tenant's export and then reads nothing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(_address(server))
    request = f"GET /_mock/state HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer {token}\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def _received(sock: socket.socket) -> int:
    total = 0
    sock.settimeout(DEADLINE)
    try:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    except ConnectionResetError:
        pass
    return total


def _wait_for_log(server: ServerProcess, text: str, count: int = 1) -> None:
    end = time.monotonic() + DEADLINE
    while server.output().count(text) < count:
        assert time.monotonic() < end, f"no {text!r} in the log:\n{server.output()}"
        time.sleep(0.1)


def test_a_client_that_stops_reading_is_disconnected_after_the_write_timeout() -> None:
    args = ("--write-timeout", "1", "--max-body-bytes", "30000000")
    with ServerProcess(*args) as server:
        size = _big_tenant(server, "slow", 8000)  # ~17 MB: more than socket buffers hold
        sock = _stalled_reader(server, "slow")
        try:
            _wait_for_log(server, "--write-timeout")
            assert _received(sock) < size  # the rest was dropped, not kept for it
        finally:
            sock.close()
        assert httpx.get(f"{server.url}/_mock/health").status_code == 200


def test_the_bytes_held_for_stalled_readers_are_bounded() -> None:
    args = ("--write-timeout", "600", "--max-buffered-bytes", "1000000")
    with ServerProcess(*args, "--max-body-bytes", "30000000") as server:
        size = _big_tenant(server, "slow", 8000)
        readers = [_stalled_reader(server, "slow") for _ in range(3)]
        try:
            _wait_for_log(server, "--max-buffered-bytes", 3)
            assert all(_received(sock) < size for sock in readers)
        finally:
            for sock in readers:
                sock.close()
        assert json.loads(httpx.get(f"{server.url}/_mock/health").content) == {"status": "ok"}
