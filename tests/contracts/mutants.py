"""Defective variants of the fake: its ASGI app wrapped by a rewriting middleware.

Each mutant breaks exactly one promise of the contract. The tests run the relevant suite
against each and assert that it fails, and which check caught it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from mockserver.app import build_backend, create_app
from mockserver.cli import bind_socket
from mockserver.config import ServerConfig, base_url

__all__ = ["MUTANTS", "Mutant", "serve"]

Json = Any
Headers = list[tuple[bytes, bytes]]
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TERMINAL = {
    "TASK_EXECUTION_PHASE_SUCCEEDED",
    "TASK_EXECUTION_PHASE_FAILED",
    "TASK_EXECUTION_PHASE_STOPPED",
}


@dataclass
class Exchange:
    """What the middleware lets a mutant see and change."""

    operation: str
    request: Json  # None when the body is not JSON
    headers: dict[str, str]
    status: int = 200
    response: Json = None
    short_circuit: bool = False  # True: answer with status/response, skip the fake


@dataclass
class Mutant:
    """One defect: a request rewrite (before the fake) and a response rewrite (after)."""

    name: str
    suite: str  # the suite that must catch it
    check: str  # the check that must fail
    before: Callable[[Exchange], None] = lambda exchange: None
    after: Callable[[Exchange], None] = lambda exchange: None
    state: dict[str, Any] = field(default_factory=dict)


class Rewrite:
    """ASGI middleware: decode the JSON request and response, let the mutant edit them."""

    def __init__(self, app: Any, mutant: Mutant) -> None:
        self.app = app
        self.mutant = mutant
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
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
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        exchange = Exchange(str(scope["path"]).rsplit("/", 1)[-1], request, headers)
        self.mutant.before(exchange)
        if exchange.short_circuit:
            await _respond(send, exchange.status, exchange.response)
            return
        if exchange.request is not request:
            raw = json.dumps(exchange.request).encode()
        scope = dict(scope)
        # No accept-encoding: the mutant edits the response as JSON, so it must not be gzipped.
        scope["headers"] = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in exchange.headers.items()
            if k not in ("content-length", "accept-encoding")
        ] + [(b"content-length", str(len(raw)).encode())]
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        status = 500
        body_parts: list[bytes] = []
        start_headers: Headers = []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status, start_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                start_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body_parts.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        content = b"".join(body_parts)
        try:
            exchange.response = json.loads(content)
        except ValueError:
            await _send(send, status, start_headers, content)
            return
        exchange.status = status
        with self.lock:
            self.mutant.after(exchange)
        await _respond(send, exchange.status, exchange.response, start_headers)


async def _send(send: Any, status: int, headers: Headers, content: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _respond(send: Any, status: int, body: Json, headers: Headers | None = None) -> None:
    if headers is None:
        headers = [(b"content-type", b"application/json")]
    await _send(send, status, headers, json.dumps(body).encode())


@contextmanager
def serve(mutant: Mutant | None, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The fake (real clock, short delays), wrapped by ``mutant`` (or ``wrap``), on a free port."""
    sock = bind_socket("127.0.0.1", 0)
    url = base_url("127.0.0.1", sock.getsockname()[1])
    config = ServerConfig(
        clock="real",
        pending_delay=0.1,
        step_duration=0.2,
        port=sock.getsockname()[1],
        public_url=url,
        log_level="warning",
    )
    app: Any = create_app(config, backend=build_backend(config))
    if mutant is not None:
        app = Rewrite(app, mutant)
    if wrap is not None:
        app = wrap(app)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the mutant server did not start")
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- the defects ------------------------------------------------------------------------------


def _executions(body: Json) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    found = [body["taskExecution"]] if isinstance(body.get("taskExecution"), dict) else []
    found += [e for e in body.get("taskExecutions", []) if isinstance(e, dict)]
    return found


def _rename_enum(exchange: Exchange) -> None:
    for execution in _executions(exchange.response):
        status = execution.get("status", {})
        if status.get("phase") == "TASK_EXECUTION_PHASE_PENDING":
            status["phase"] = "TASK_EXECUTION_PHASE_QUEUED"


def _drop_task_id(exchange: Exchange) -> None:
    if exchange.operation in {"CreateTask", "GetTask"} and isinstance(exchange.response, dict):
        task = exchange.response.get("task")
        if isinstance(task, dict):
            task.pop("id", None)


def _crash_on_filter(exchange: Exchange) -> None:
    request = exchange.request
    if exchange.operation == "ListTasks" and isinstance(request, dict) and request.get("filter"):
        exchange.status = 500
        exchange.response = {"code": "internal", "message": "boom"}
        exchange.short_circuit = True


def _accept_invalid_id(exchange: Exchange) -> None:
    body = exchange.request
    if exchange.operation == "GetTask" and not (
        isinstance(body, dict) and isinstance(body.get("id"), str) and _UUID.match(body["id"])
    ):
        exchange.status = 404
        exchange.response = {"code": "not_found", "message": "no such task"}
        exchange.short_circuit = True


def _wrong_status(exchange: Exchange) -> None:
    if isinstance(exchange.response, dict) and exchange.response.get("code") == "not_found":
        exchange.status = 400


def _skip_delete(exchange: Exchange) -> None:
    if exchange.operation == "DeleteTask":
        exchange.response = {}
        exchange.short_circuit = True


def _running_again(mutant: Mutant) -> Callable[[Exchange], None]:
    finished: set[str] = mutant.state.setdefault("finished", set())

    def after(exchange: Exchange) -> None:
        for execution in _executions(exchange.response):
            status = execution.setdefault("status", {})
            if execution.get("id") in finished:
                status["phase"] = "TASK_EXECUTION_PHASE_RUNNING"
                execution.get("metadata", {}).pop("completedAt", None)
            elif status.get("phase") in _TERMINAL:
                finished.add(str(execution.get("id")))

    return after


def _version_goes_down(exchange: Exchange) -> None:
    for execution in _executions(exchange.response):
        status = execution.get("status", {})
        if isinstance(status.get("statusVersion"), str):
            status["statusVersion"] = str(max(1, 1000 - 10 * int(status["statusVersion"])))


def _repeat_on_next_page(mutant: Mutant) -> Callable[[Exchange], None]:
    def after(exchange: Exchange) -> None:
        if exchange.operation != "ListTasks" or not isinstance(exchange.response, dict):
            return
        tasks = exchange.response.get("tasks", [])
        request = exchange.request if isinstance(exchange.request, dict) else {}
        token = (request.get("pagination") or {}).get("token")
        previous = mutant.state.get("last")
        if token and previous and tasks:
            exchange.response["tasks"] = [previous, *tasks[:-1]]
        if tasks:
            mutant.state["last"] = tasks[-1]

    return after


def _ignore_references(exchange: Exchange) -> None:
    if exchange.operation == "ListTasks" and isinstance(exchange.request, dict):
        flt = exchange.request.get("filter")
        if isinstance(flt, dict) and flt.pop("references", None) is not None:
            exchange.request = dict(exchange.request)


def _noop_update(exchange: Exchange) -> None:
    if exchange.operation == "UpdateTask" and isinstance(exchange.request, dict):
        exchange.request = {"id": exchange.request.get("id")}


def _no_auth_needed(exchange: Exchange) -> None:
    exchange.headers.setdefault("authorization", "Bearer mutant")


def _clip(exchange: Exchange, limits: dict[str, int]) -> None:
    """Quietly bring values one past a limit back to it, as a lax server would take them."""
    request = exchange.request
    if not isinstance(request, dict):
        return
    request = json.loads(json.dumps(request))
    pagination = request.get("pagination")
    size = pagination.get("pageSize") if isinstance(pagination, dict) else None
    if "pageSize" in limits and isinstance(size, int) and size == limits["pageSize"]:
        pagination["pageSize"] = size - 1
    flt = request.get("filter")
    if isinstance(flt, dict) and "items" in limits:
        for name, value in list(flt.items()):
            if isinstance(value, list) and len(value) == limits["items"]:
                flt[name] = value[:-1]
    metadata = request.get("metadata")
    reference = metadata.get("reference") if isinstance(metadata, dict) else None
    if isinstance(reference, str) and len(reference) == limits.get("reference"):
        metadata["reference"] = reference[:-1]
    exchange.request = request


def _unknown_stop_succeeds(exchange: Exchange) -> None:
    if exchange.operation == "StopTaskExecution" and exchange.status == 404:
        exchange.status, exchange.response = 200, {}


def _depends_on_deleted(mutant: Mutant) -> Callable[[Exchange], None]:
    deleted: set[str] = mutant.state.setdefault("deleted", set())

    def before(exchange: Exchange) -> None:
        request = exchange.request
        if not isinstance(request, dict):
            return
        if exchange.operation == "DeleteTask" and isinstance(request.get("id"), str):
            deleted.add(request["id"])
        depends = request.get("dependsOn")
        if exchange.operation == "CreateTask" and isinstance(depends, list):
            kept = [item for item in depends if item not in deleted]
            if len(kept) != len(depends):
                exchange.request = {**request, "dependsOn": kept}

    return before


def _stop_touches_finished(mutant: Mutant) -> tuple[Callable[..., None], Callable[..., None]]:
    stopped: set[str] = mutant.state.setdefault("stopped", set())

    def before(exchange: Exchange) -> None:
        request = exchange.request
        if exchange.operation == "StopTaskExecution" and isinstance(request, dict):
            stopped.add(str(request.get("id")))

    def after(exchange: Exchange) -> None:
        # A stop of a finished execution leaves a trace: a failure message on a success.
        for execution in _executions(exchange.response):
            status = execution.get("status", {})
            if execution.get("id") in stopped and status.get("phase") in _TERMINAL - {
                "TASK_EXECUTION_PHASE_STOPPED"
            }:
                status["failureMessage"] = "stopped after it finished"

    return before, after


def _build() -> list[Mutant]:
    mutants = [
        Mutant(
            "renamed_enum_value", "lifecycle", "response_schema_conformance", after=_rename_enum
        ),
        Mutant(
            "missing_required_field",
            "lifecycle",
            "response_schema_conformance",
            after=_drop_task_id,
        ),
        Mutant(
            "server_error_on_valid_input", "positive", "not_a_server_error", before=_crash_on_filter
        ),
        Mutant(
            "invalid_id_accepted", "negative", "invalid_request_rejected", before=_accept_invalid_id
        ),
        Mutant(
            "wrong_status_for_code", "positive", "connect_error_consistency", after=_wrong_status
        ),
        Mutant("deleted_task_readable", "lifecycle", "deleted_task_not_found", before=_skip_delete),
        Mutant("finished_running_again", "lifecycle", "terminal_phase_is_final"),
        Mutant(
            "status_version_decreases",
            "lifecycle",
            "status_version_monotonic",
            after=_version_goes_down,
        ),
        Mutant("page_repeats_item", "lifecycle", "list_pages_unique"),
        Mutant("filter_ignored", "lifecycle", "list_filter_honoured", before=_ignore_references),
        Mutant("update_changes_nothing", "lifecycle", "update_reflected", before=_noop_update),
        Mutant("token_not_required", "auth", "missing_token_rejected", before=_no_auth_needed),
        # Boundaries: one past a limit accepted (the server takes it as if at the limit).
        Mutant(
            "reference_one_past_the_limit",
            "negative",
            "invalid_request_rejected",
            before=lambda exchange: _clip(exchange, {"reference": 129}),
        ),
        Mutant(
            "page_size_one_past_the_limit",
            "negative",
            "invalid_request_rejected",
            before=lambda exchange: _clip(exchange, {"pageSize": 101}),
        ),
        Mutant(
            "filter_list_one_past_the_limit",
            "negative",
            "invalid_request_rejected",
            before=lambda exchange: _clip(exchange, {"items": 26}),
        ),
        # Lifecycle semantics of unknown, deleted and finished resources.
        Mutant(
            "unknown_execution_stop_succeeds",
            "lifecycle",
            "unknown_id_not_found",
            after=_unknown_stop_succeeds,
        ),
        Mutant("deleted_task_as_dependency", "lifecycle", "deleted_task_not_usable"),
        Mutant("stop_changes_a_finished_execution", "lifecycle", "finished_execution_unchanged"),
    ]
    by_name = {mutant.name: mutant for mutant in mutants}
    by_name["finished_running_again"].after = _running_again(by_name["finished_running_again"])
    by_name["page_repeats_item"].after = _repeat_on_next_page(by_name["page_repeats_item"])
    by_name["deleted_task_as_dependency"].before = _depends_on_deleted(
        by_name["deleted_task_as_dependency"]
    )
    touched = by_name["stop_changes_a_finished_execution"]
    touched.before, touched.after = _stop_touches_finished(touched)
    return mutants


MUTANTS: list[Mutant] = _build()
