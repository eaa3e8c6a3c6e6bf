"""Test helpers: a client for one tenant of a running fake, and an in-process server.

``MockClient(url, token)`` drives any running fake (a process, a container, the pytest
plugin's shared server) as one tenant: RPCs, its clock, scenario, faults, journal,
state and logs. ``with MockServer() as server: ...`` starts a fake on a free port of
127.0.0.1 in a background thread and is a ``MockClient`` for its ``token``.

Every helper talks HTTP, exactly as an out-of-process client would; a failed call raises
:class:`RpcError` carrying the Connect ``code`` and ``message``.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
import uvicorn
import yaml

from mockserver.app import build_backend, create_app
from mockserver.cli import bind_socket
from mockserver.config import ClockKind, ServerConfig, base_url
from mockserver.domain import Backend, JsonObject, Scenario
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES
from mockserver.journal_text import describe_query, entry_line, near_misses_text

if TYPE_CHECKING:
    from gitpod.v1.environment_automation_connect import EnvironmentAutomationServiceClientSync

__all__ = ["SERVICE_PATH", "MockClient", "MockServer", "RpcError"]

SERVICE_PATH = "/gitpod.v1.EnvironmentAutomationService"
_START_TIMEOUT = 10.0


class RpcError(httpx.HTTPStatusError):
    """A Connect error answer: ``code`` (``"not_found"``, ...), ``message``, ``http_status``.

    A subclass of ``httpx.HTTPStatusError``, so code that caught that keeps working.
    """

    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        self.code: str = str(body.get("code", "unknown"))
        self.message: str = str(body.get("message", ""))
        self.details: list[Any] = list(body.get("details", []) or [])
        self.http_status = response.status_code
        super().__init__(
            f"{self.code}: {self.message} (HTTP {self.http_status} from "
            f"{response.request.method} {response.request.url.path})",
            request=response.request,
            response=response,
        )


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RpcError(response)
    return response


def _scenario_text(scenario: str | Mapping[str, Any]) -> str:
    return scenario if isinstance(scenario, str) else json.dumps(dict(scenario))


class MockClient:
    """One tenant (``token``) of the fake at ``url``."""

    def __init__(self, url: str = "", token: str = "test-token", *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._client: httpx.Client | None = None

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` for :attr:`token`."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def client(self) -> httpx.Client:
        """An ``httpx.Client`` for :attr:`url` that sends :attr:`token`."""
        if self._client is None:
            if not self.url:
                raise RuntimeError("the mock server is not running")
            self._client = httpx.Client(
                base_url=self.url, headers=self.headers, timeout=self.timeout
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def sdk(self) -> EnvironmentAutomationServiceClientSync:
        """A ready official-SDK client (``gitpod-sdk``, binary protobuf) for this tenant.

        Close it (``.close()``) when done.
        """
        import ona_sdk

        client: EnvironmentAutomationServiceClientSync = ona_sdk.create_client(
            api_key=self.token, base_url=self.url
        ).services.environment_automation
        return client

    # -- the API ------------------------------------------------------------------------

    def call(self, method: str, request: JsonObject | None = None) -> JsonObject:
        """Call an RPC with the JSON codec; :class:`RpcError` on a Connect error."""
        response = self.client.post(f"{SERVICE_PATH}/{method}", json=request or {})
        result: JsonObject = _checked(response).json()
        return result

    # -- the control API ----------------------------------------------------------------

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _checked(self.client.request(method, path, **kwargs)).json()

    def advance(self, seconds: float) -> str:
        """Move this tenant's manual clock forward; the new time (RFC 3339)."""
        now: str = self._control("POST", "/_mock/clock/advance", json={"seconds": seconds})["now"]
        return now

    def now(self) -> str:
        """This tenant's time (RFC 3339)."""
        now: str = self._control("GET", "/_mock/clock")["now"]
        return now

    def reset(self) -> None:
        """Forget this tenant's state, journal, scenario and clock."""
        self._control("POST", "/_mock/reset")

    def journal(self) -> list[JsonObject]:
        """The requests this token made, oldest first."""
        entries: list[JsonObject] = self._control("GET", "/_mock/requests")["requests"]
        return entries

    def clear_journal(self) -> None:
        self._control("DELETE", "/_mock/requests")

    # -- verification -------------------------------------------------------------------

    def find(
        self,
        method: str | None = None,
        *,
        match: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> JsonObject:
        """``POST /_mock/requests/find``: ``{"requests", "unknown", "nearMisses"?}``.

        ``match`` maps dotted request fields (lowerCamel) to RE2 patterns, as fault rules do.
        """
        found: JsonObject = self._control(
            "POST", "/_mock/requests/find", json=_query(method, match, code)
        )
        return found

    def count(
        self,
        method: str | None = None,
        *,
        match: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> int:
        """How many of this tenant's calls fit; ``AssertionError`` if some could not be
        judged (a request too large for the journal to keep): use :meth:`find` then."""
        answer = self._control("POST", "/_mock/requests/count", json=_query(method, match, code))
        if answer.get("unknown"):
            raise AssertionError(
                f"{answer['unknown']} call(s) of {describe_query(method, code, match)} had a "
                "request too large for the journal to keep, so the count is not known"
            )
        count: int = answer["count"]
        return count

    def verify(
        self,
        method: str | None = None,
        *,
        match: Mapping[str, str] | None = None,
        code: str | None = None,
        times: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> list[JsonObject]:
        """Assert this tenant made such calls: exactly ``times``, or between ``at_least``
        and ``at_most`` (neither given: at least once). The matching entries, oldest first.

        The ``AssertionError`` says what was expected and found, and lists the near misses
        (the closest calls, with the part of the pattern each failed) when none matched.
        """
        __tracebackhide__ = True  # pytest shows the message, not this function's source
        if times is not None and (at_least is not None or at_most is not None):
            raise TypeError("verify: give times, or at_least and/or at_most, not both")
        low, high = (times, times) if times is not None else (at_least, at_most)
        if low is None and high is None:
            low = 1
        found = self.find(method, match=match, code=code)
        matched: list[JsonObject] = found["requests"]
        unknown: list[JsonObject] = found.get("unknown", [])
        fewest, most = len(matched), len(matched) + len(unknown)

        def fits(count: int) -> bool:
            return (low is None or count >= low) and (high is None or count <= high)

        if fits(fewest) and fits(most):
            return matched
        got = f"{fewest}" if not unknown else f"{fewest} to {most}"
        lines = [
            f"expected {_expected(low, high)} of {describe_query(method, code, match)}, got {got}"
        ]
        if unknown:
            lines.append(
                f"{len(unknown)} call(s) had a request too large for the journal to keep,"
                " so whether they match is not known:"
            )
            lines += [f"  {entry_line(entry)}" for entry in unknown]
        if matched:
            lines.append("Matching calls:")
            lines += [f"  {entry_line(entry)}" for entry in matched[:20]]
        near = found.get("nearMisses")
        if near:
            lines.append("Near misses (closest first):")
            lines.append(near_misses_text(near))
        elif not matched and near is not None:
            lines.append("No near misses: this tenant's journal holds no other calls.")
        raise AssertionError("\n".join(lines))

    def scenario(self) -> JsonObject:
        """This tenant's scenario as the server sees it."""
        scenario: JsonObject = self._control("GET", "/_mock/scenario")
        return scenario

    def set_scenario(self, scenario: str | Mapping[str, Any]) -> JsonObject:
        """Load this tenant's scenario (YAML text or dict); the parsed scenario."""
        parsed: JsonObject = self._control(
            "PUT",
            "/_mock/scenario",
            content=_scenario_text(scenario).encode(),
            headers={"Content-Type": "application/yaml"},
        )
        return parsed

    def clear_scenario(self) -> JsonObject:
        """Give this tenant the empty scenario (no rules, latency or faults)."""
        cleared: JsonObject = self._control("DELETE", "/_mock/scenario")
        return cleared

    def faults(self, *rules: Mapping[str, Any]) -> JsonObject:
        """Replace only the ``faults`` of this tenant's scenario; no rules clears them."""
        scenario = self.scenario()
        scenario["faults"] = [dict(rule) for rule in rules]
        return self.set_scenario(scenario)

    def export_state(self) -> JsonObject:
        state: JsonObject = self._control("GET", "/_mock/state")
        return state

    def import_state(self, data: Mapping[str, Any]) -> None:
        self._control("PUT", "/_mock/state", json=dict(data))

    def logs(self, execution_id: str) -> str:
        return _checked(self.client.get(f"/_mock/logs/{execution_id}")).text


class MockServer(MockClient):
    """A fake server for the duration of a ``with`` block, and a client of it.

    ``token`` is the bearer token the helpers (and :attr:`headers`) use; ``tokens`` is the
    server's allow-list (empty: any token); ``admin_token`` (random by default) is the
    operator's, used by ``reset(all_tenants=True)``. ``scenario`` (YAML text or its dict)
    is the server's default scenario.
    """

    def __init__(
        self,
        *,
        clock: ClockKind = "manual",
        pending_delay: float = 1.0,
        step_duration: float = 2.0,
        token: str = "test-token",
        tokens: frozenset[str] | set[str] = frozenset(),
        admin_token: str | None = None,
        scenario: str | Mapping[str, Any] | None = None,
        strict: bool = False,
        max_body_bytes: int | None = None,
        log_level: str = "warning",
        seed: int | None = None,
        environments: Sequence[str] | None = None,
    ) -> None:
        super().__init__("", token)
        self.admin_token = admin_token or f"admin-{secrets.token_hex(8)}"
        self.config = ServerConfig(
            clock=clock,
            pending_delay=pending_delay,
            step_duration=step_duration,
            tokens=frozenset(tokens),
            admin_tokens=frozenset({self.admin_token}),
            environments=None if environments is None else frozenset(environments),
            strict=strict,
            log_level=log_level,
            seed=seed,
            port=0,
            max_body_bytes=DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes,
        )
        self._scenario = scenario
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._backend: Backend | None = None

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
        return self

    def stop(self) -> None:
        self.close()
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
    def backend(self) -> Backend:
        """The backend (live while running, kept after the stop for post-mortem checks)."""
        if self._backend is None:
            raise RuntimeError("the mock server is not running")
        return self._backend

    @property
    def client(self) -> httpx.Client:
        if self._server is None:
            raise RuntimeError("the mock server is not running")
        return super().client

    def tenant(self, token: str) -> MockClient:
        """A client of this server for another tenant (close it when done)."""
        return MockClient(self.url, token)

    def reset(self, *, all_tenants: bool = False) -> None:
        """Forget this token's state, journal, scenario and clock, or everyone's."""
        if all_tenants:
            admin = {"Authorization": f"Bearer {self.admin_token}"}
            _checked(self.client.post("/_mock/reset", headers=admin))
        else:
            super().reset()


def _query(method: str | None, match: Mapping[str, str] | None, code: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if method is not None:
        query["method"] = method
    if code is not None:
        query["code"] = code
    if match:
        query["match"] = dict(match)
    return query


def _expected(low: int | None, high: int | None) -> str:
    def calls(n: int) -> str:
        return f"{n} call" + ("" if n == 1 else "s")

    if low is not None and low == high:
        return f"exactly {calls(low)}"
    if high is None:
        return f"at least {calls(low or 0)}"
    if low is None or low == 0:
        return f"at most {calls(high)}"
    return f"between {low} and {calls(high)}"


def _scenario(value: str | Mapping[str, Any]) -> Scenario:
    if isinstance(value, str):
        return Scenario.from_yaml(value)
    return Scenario.from_dict(yaml.safe_load(json.dumps(dict(value))))
