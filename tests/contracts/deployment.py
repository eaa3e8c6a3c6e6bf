"""The fake playing a real deployment, for the contract suite's real-deployment mode.

Until the fake itself can (``--environment``, scenario ``faults``), an ASGI wrapper over
its app adds what a deployment does and the fake does not: it knows only some
environments (CreateTask elsewhere gets ``not_found``), and it fails calls on purpose
(429 ``resource_exhausted`` or 503 ``unavailable``, with ``Retry-After``), either the
first N calls of a method or every call past a per-second rate. The fake also runs with
a token allow-list (``ServerConfig.tokens``), as a deployment does. The wrapper records
every call it sees, so tests can read what the suite sent.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from contracts.document import Document, load_document
from mockserver.app import build_backend, create_app
from mockserver.cli import bind_socket
from mockserver.config import ServerConfig, base_url

__all__ = ["Deployment", "Fault", "serve_deployment"]


@functools.cache
def _document() -> Document:
    return load_document()


@dataclass
class Fault:
    """The first ``times`` calls of ``method`` ("*": any) fail with ``status``."""

    method: str
    status: int  # 429 or 503
    times: int
    retry_after: str | None = "0"
    seen: int = 0


@dataclass
class Deployment:
    environments: frozenset[str] = frozenset()  # empty: any environment is known
    faults: list[Fault] = field(default_factory=list)
    rate_per_second: float | None = None  # beyond it: 429 with Retry-After
    calls: list[tuple[str, int]] = field(default_factory=list)  # (method, status)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _window: list[float] = field(default_factory=list)

    def verdict(self, method: str, request: Any) -> tuple[int, dict[str, Any], str | None] | None:
        """The answer that replaces the fake's, or None to let the fake answer."""
        with self.lock:
            for fault in self.faults:
                if fault.method in ("*", method) and fault.seen < fault.times:
                    fault.seen += 1
                    code = "resource_exhausted" if fault.status == 429 else "unavailable"
                    return fault.status, {"code": code, "message": "fault"}, fault.retry_after
            if self.rate_per_second is not None:
                now = time.monotonic()
                self._window = [t for t in self._window if now - t < 1.0]
                if len(self._window) >= self.rate_per_second:
                    return 429, {"code": "resource_exhausted", "message": "rate limit"}, "1"
                self._window.append(now)
        if method == "CreateTask" and self.environments and isinstance(request, dict):
            env = str(request.get("environmentId", "")).lower()
            # Like a real server: an invalid request is invalid_argument before anything else.
            if env not in self.environments and _document().accepts_on_the_wire(method, request):
                return 404, {"code": "not_found", "message": f"environment {env} not found"}, None
        return None


class _Wrapper:
    def __init__(self, app: Any, deployment: Deployment) -> None:
        self.app = app
        self.deployment = deployment

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "/_mock/" in scope["path"]:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        method = str(scope["path"]).rsplit("/", 1)[-1]
        answer = self.deployment.verdict(method, request)
        if answer is not None:
            status, body, retry_after = answer
            with self.deployment.lock:
                self.deployment.calls.append((method, status))
            content = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json")]
            headers.append((b"content-length", str(len(content)).encode()))
            if retry_after is not None:
                headers.append((b"retry-after", retry_after.encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        async def record(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                with self.deployment.lock:
                    self.deployment.calls.append((method, int(message["status"])))
            await send(message)

        await self.app(scope, replay, record)


@contextmanager
def serve_deployment(
    deployment: Deployment, *, tokens: frozenset[str] = frozenset(), clock: str = "real"
) -> Iterator[tuple[str, Any]]:
    """The wrapped fake on a free port: its URL and its backend (to inspect the state)."""
    sock = bind_socket("127.0.0.1", 0)
    url = base_url("127.0.0.1", sock.getsockname()[1])
    config = ServerConfig(
        clock=clock,  # type: ignore[arg-type]
        pending_delay=0.1,
        step_duration=0.2,
        port=sock.getsockname()[1],
        public_url=url,
        tokens=tokens,
        log_level="warning",
    )
    backend = build_backend(config)
    app = _Wrapper(create_app(config, backend=backend), deployment)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the deployment stand-in did not start")
        time.sleep(0.01)
    try:
        yield url, backend
    finally:
        server.should_exit = True
        thread.join(timeout=10)
