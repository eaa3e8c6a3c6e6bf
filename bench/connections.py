"""What idle, half-sent and non-reading clients cost the fake, as figures.

- ``--count`` connections, half of them silent, half stopped in the middle of their
  headers: how many the server still holds open after ``--wait`` seconds, and whether a
  new client is served meanwhile;
- ``--readers`` clients asking for a ~17 MB export and then reading nothing: the
  server's RSS before and after.

    python bench/connections.py
    python bench/connections.py --count 3000 --wait 70

Figures only (tests/e2e/test_connections.py holds the promises without a clock).
"""

from __future__ import annotations

import argparse
import http.client
import json
import select
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from stalls import ENV, TOKEN, Server  # noqa: E402

from mockserver.domain.caller import subject_id_for  # noqa: E402


def still_open(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has not closed (nothing is expected to arrive)."""
    count = 0
    for sock in sockets:
        ready, _, _ = select.select([sock], [], [], 0)
        if not ready:
            count += 1
            continue
        try:
            if sock.recv(65536):
                count += 1
        except OSError:
            pass
    return count


def cut_short(readers: list[socket.socket]) -> int:
    """How many readers the server disconnected: reading what it sent ends before the
    whole response (an answer read whole leaves the connection open and waiting)."""
    count = 0
    for sock in readers:
        sock.settimeout(2)
        try:
            while sock.recv(1 << 20):
                pass
            count += 1  # end of stream: disconnected mid-answer
        except ConnectionResetError:
            count += 1
        except TimeoutError:
            pass  # still being served
    return count


def served(server: Server) -> str:
    connection = http.client.HTTPConnection(server.address, timeout=5)
    try:
        connection.request("GET", "/_mock/health")
        return str(connection.getresponse().status)
    except OSError as error:
        return type(error).__name__
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=15.0)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=8000, help="tasks of ~2 KB exported")
    parser.add_argument("fake_args", nargs="*", help="flags for the fake (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        server = Server(["--max-body-bytes", "30000000", *args.fake_args], Path(directory))
        host, port = server.address.rsplit(":", 1)
        try:
            sockets = []
            for index in range(args.count):
                sock = socket.create_connection((host, int(port)))
                if index % 2:
                    sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: fake\r\n")
                sockets.append(sock)
            print(f"{args.count} connections opened; a new client gets: {served(server)}")
            time.sleep(args.wait)
            print(
                f"after {args.wait:.0f} s: {still_open(sockets)} still open;"
                f" a new client gets: {served(server)}"
            )
            for sock in sockets:
                sock.close()
            subject = subject_id_for(TOKEN)
            tasks = [
                {
                    "id": str(uuid.UUID(int=n + 1, version=4)),
                    "environmentId": ENV,
                    "metadata": {"createdAt": "2026-01-01T00:00:00Z"},
                    "spec": {"command": "x" * 2000},
                }
                for n in range(args.tasks)
            ]
            document = {"version": 1, "tenants": {subject: {"tasks": tasks}}}
            status, _ = server.call("PUT", "/_mock/state", raw=json.dumps(document).encode())
            assert status == 200
            before = server.rss_mb()
            readers = []
            for _ in range(args.readers):
                sock = socket.create_connection((host, int(port)))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                request = f"GET /_mock/state HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer {TOKEN}"
                sock.sendall(request.encode() + b"\r\n\r\n")
                readers.append(sock)
            time.sleep(3)
            megabytes = args.tasks * 2.1 / 1000
            print(f"{args.readers} clients not reading a {megabytes:.0f} MB export:", end="")
            print(f" rss {before:.0f}", end="")
            print(f" -> {server.rss_mb():.0f} MB; {cut_short(readers)} of them cut short")
            for sock in readers:
                sock.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
