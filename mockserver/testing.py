"""An in-process server for tests: ``with MockServer() as server: ...``.

The server runs uvicorn on a free port of 127.0.0.1 in a background thread; the control
helpers talk to it over HTTP, exactly as an out-of-process client would.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn
import yaml

from mockserver.app import build_backend, create_app
from mockserver.cli import bind_socket
from mockserver.config import ClockKind, ServerConfig, base_url
from mockserver.domain import Backend, JsonObject, Scenario
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES

__all__ = ["MockServer"]

_START_TIMEOUT = 10.0


class MockServer:
    """A fake server for the duration of a ``with`` block.

    ``token`` is the bearer token the helpers (and :attr:`headers`) use; ``tokens`` is the
    server's allow-list (empty: any token). ``scenario`` is YAML text or its dict.
    """

    def __init__(
        self,
        *,
        clock: ClockKind = "manual",
        pending_delay: float = 1.0,
        step_duration: float = 2.0,
        token: str = "test-token",
        tokens: frozenset[str] | set[str] = frozenset(),
        scenario: str | Mapping[str, Any] | None = None,
        strict: bool = False,
        max_body_bytes: int | None = None,
        log_level: str = "warning",
    ) -> None:
        self.config = ServerConfig(
            clock=clock,
            pending_delay=pending_delay,
            step_duration=step_duration,
            tokens=frozenset(tokens),
            strict=strict,
            log_level=log_level,
            port=0,
            max_body_bytes=DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes,
        )
        self.token = token
        self._scenario = scenario
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._backend: Backend | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        sock = bind_socket(self.config.host, 0)
        port = sock.getsockname()[1]
        self.url = base_url(self.config.host, port)
        config = dataclasses.replace(self.config, port=port, public_url=self.url)
        backend = build_backend(config)
        if self._scenario is not None:
            backend.set_scenario(_scenario(self._scenario))
        self._backend = backend
        app = create_app(config, backend=backend)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level=config.log_level, access_log=False, lifespan="on")
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="mockserver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the mock server did not start")
            time.sleep(0.005)
        self._client = httpx.Client(base_url=self.url, headers=self.headers, timeout=10.0)
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=_START_TIMEOUT)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access -------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` for :attr:`token`."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def backend(self) -> Backend:
        """The backend (live while running, kept after the stop for post-mortem checks)."""
        if self._backend is None:
            raise RuntimeError("the mock server is not running")
        return self._backend

    @property
    def client(self) -> httpx.Client:
        """An ``httpx.Client`` for :attr:`url` that sends :attr:`token`."""
        if self._client is None:
            raise RuntimeError("the mock server is not running")
        return self._client

    def call(self, method: str, request: JsonObject | None = None) -> JsonObject:
        """Call an RPC with the JSON codec; ``httpx.HTTPStatusError`` on a Connect error."""
        response = self.client.post(
            f"/gitpod.v1.EnvironmentAutomationService/{method}", json=request or {}
        )
        response.raise_for_status()
        result: JsonObject = response.json()
        return result

    # -- control API --------------------------------------------------------------------

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> str:
        """Move the manual clock forward; the new time (RFC 3339)."""
        now: str = self._control("POST", "/_mock/clock/advance", json={"seconds": seconds})["now"]
        return now

    def reset(self, *, all_tenants: bool = False) -> None:
        """Forget this token's state and journal, or everyone's."""
        if all_tenants:
            response = httpx.post(f"{self.url}/_mock/reset", timeout=10.0)
            response.raise_for_status()
        else:
            self._control("POST", "/_mock/reset")

    def journal(self) -> list[JsonObject]:
        """The requests this token made, oldest first."""
        entries: list[JsonObject] = self._control("GET", "/_mock/requests")["requests"]
        return entries

    def clear_journal(self) -> None:
        self._control("DELETE", "/_mock/requests")

    def set_scenario(self, scenario: str | Mapping[str, Any]) -> JsonObject:
        """Load a scenario (YAML text or dict); the parsed scenario as the server sees it."""
        text = scenario if isinstance(scenario, str) else json.dumps(dict(scenario))
        parsed: JsonObject = self._control(
            "PUT",
            "/_mock/scenario",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        return parsed

    def export_state(self) -> JsonObject:
        state: JsonObject = self._control("GET", "/_mock/state")
        return state

    def import_state(self, data: Mapping[str, Any]) -> None:
        self._control("PUT", "/_mock/state", json=dict(data))

    def logs(self, execution_id: str) -> str:
        response = self.client.get(f"/_mock/logs/{execution_id}")
        response.raise_for_status()
        return response.text


def _scenario(value: str | Mapping[str, Any]) -> Scenario:
    if isinstance(value, str):
        return Scenario.from_yaml(value)
    return Scenario.from_dict(yaml.safe_load(json.dumps(dict(value))))
