"""CPU time per request through the ASGI app, without sockets or an HTTP server.

Each request goes through the whole app exactly as uvicorn would hand it over (headers,
body, validation, the domain, encoding), and the figure is process CPU time per request,
best of several batches. On a shared machine, where wrk's req/s swing with other load,
this is the steady measure of what the fake itself costs; the bare Starlette app of
``bench/bare_app.py`` is measured the same way. ``--cold`` evicts the CPU caches before
each request, as a server's other work does, and reports the median time of one request:
closer to what a request costs in a server. See ``bench/README.md``.

    python bench/inprocess.py
    python bench/inprocess.py --cold
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bare_app  # noqa: E402
from gitpod.v1 import environment_automation_pb2 as messages  # noqa: E402

from mockserver.app import create_app  # noqa: E402
from mockserver.cli import tune_gc  # noqa: E402
from mockserver.config import ServerConfig  # noqa: E402

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
ENVIRONMENT_ID = "07e03a28-65a5-4d98-b532-8ea67b188048"
JSON = b"application/json"
PROTO = b"application/proto"
App = Callable[..., Any]


def scope(path: str, content_type: bytes, token: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", content_type),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }


async def request(app: App, request_scope: dict[str, Any], body: bytes) -> list[Any]:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(request_scope, receive, send)
    return sent


def create_body(reference: str, proto: bool) -> bytes:
    data = {
        "environmentId": ENVIRONMENT_ID,
        "metadata": {"name": "bench task", "reference": reference},
        "spec": {"command": "make build"},
    }
    if not proto:
        return json.dumps(data).encode()
    message = messages.CreateTaskRequest(
        environment_id=ENVIRONMENT_ID,
        metadata={"name": "bench task", "reference": reference},
        spec={"command": "make build"},
    )
    body: bytes = message.SerializeToString()
    return body


def _unique_create(counter: int, *, proto: bool) -> bytes:
    return create_body(f"c-{proto}-{counter}", proto)


# --cold: what a server's requests meet. Between two requests uvicorn and the kernel run
# and evict much of what the last request touched, so a tight loop of requests (warm
# caches) shows about half of what a request costs in a server. Writing over a 1 MiB
# buffer between requests evicts the caches like that; only the request is timed.
_EVICTION = bytearray(1 << 20)
_ZEROS = bytes(len(_EVICTION[::64]))


def _evict_caches() -> None:
    _EVICTION[::64] = _ZEROS


async def measure_cold(
    target: App, scopes: Sequence[dict[str, Any]], bodies: Sequence[bytes]
) -> tuple[float, list[Any]]:
    """The median wall time of one request, with the caches evicted before each."""
    times = []
    sent: list[Any] = []
    for request_scope, body in zip(scopes, bodies, strict=True):
        _evict_caches()
        begin = time.perf_counter_ns()
        sent = await request(target, request_scope, body)
        times.append(time.perf_counter_ns() - begin)
    times.sort()
    return times[len(times) // 2] / 1e9, sent


async def measure(
    count: int, batches: int, seed: int, cold: bool = False
) -> list[tuple[str, float]]:
    app = create_app(ServerConfig(clock="manual"))
    task_id = ""
    for index in range(seed):
        body = create_body(f"seed-{index}", proto=False)
        sent = await request(app, scope(f"{SERVICE}/CreateTask", JSON, "read", body), body)
        task_id = task_id or json.loads(sent[1]["body"])["task"]["id"]
    tune_gc()  # as the server process does after start-up
    get = {"id": task_id}
    page = {"pagination": {"pageSize": 25}}
    cases: list[tuple[str, App, str, bytes, str, Callable[[int], bytes]]] = [
        ("bare POST /bench", bare_app.app, "/bench", JSON, "read", lambda _: b'{"id": "x"}'),
    ]
    for proto in (False, True):
        kind, label = (PROTO, " (proto)") if proto else (JSON, "")
        get_body = (
            messages.GetTaskRequest(id=task_id).SerializeToString()
            if proto
            else json.dumps(get).encode()
        )
        list_body = (
            messages.ListTasksRequest(pagination={"page_size": 25}).SerializeToString()
            if proto
            else json.dumps(page).encode()
        )

        def same(body: bytes) -> Callable[[int], bytes]:
            return lambda _: body

        cases += [
            (f"GetTask{label}", app, f"{SERVICE}/GetTask", kind, "read", same(get_body)),
            (
                f"CreateTask{label}",
                app,
                f"{SERVICE}/CreateTask",
                kind,
                "write",
                functools.partial(_unique_create, proto=proto),
            ),
            (
                f"ListTasks{label}",
                app,
                f"{SERVICE}/ListTasks",
                kind,
                "read",
                same(list_body),
            ),
        ]
    results = []
    counter = 0
    for name, target, path, kind, token, make_body in cases:
        best = float("inf")
        for _ in range(batches):
            bodies = []
            for _ in range(count):
                counter += 1
                bodies.append(make_body(counter))
            scopes = [scope(path, kind, token, body) for body in bodies]
            if cold:
                per_request, sent = await measure_cold(target, scopes, bodies)
            else:
                begin = time.process_time()
                for request_scope, body in zip(scopes, bodies, strict=True):
                    sent = await request(target, request_scope, body)
                per_request = (time.process_time() - begin) / count
            if sent[0]["status"] != 200:
                raise RuntimeError(f"{name}: HTTP {sent[0]['status']}: {sent[1]['body']!r}")
            best = min(best, per_request)
        results.append((name, best * 1e6))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/inprocess.py", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per batch (default: 3000)")
    parser.add_argument("--batches", type=int, default=5, help="best of (default: 5)")
    parser.add_argument("--tasks", type=int, default=2000, help="seeded tasks (default: 2000)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the CPU caches before each request and report the median wall time"
        " of one (closer to a server's cost per request)",
    )
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.requests, args.batches, args.tasks, args.cold))
    bare = results[0][1]
    if args.cold:
        print(f"µs per request with cold caches, median, best of {args.batches} batches\n")
    else:
        print(f"CPU µs per request, best of {args.batches} batches of {args.requests}\n")
    print("| request | µs | bare/this |\n| --- | ---: | ---: |")
    for name, micros in results:
        print(f"| {name} | {micros:.1f} | {bare / micros:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
