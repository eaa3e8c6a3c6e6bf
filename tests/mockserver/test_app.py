"""The app factory: document routes, state file, and the last-resort error handling."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette

import openapi
from mockserver.app import StateFileError, create_app
from mockserver.config import ServerConfig
from mockserver.domain import Backend, Caller, ManualClock, SequentialIds
from openapi.methods import METHODS
from tests.support.asgi import AsgiClient
from tests.support.factories import task_body


def _run_lifespan(app: Starlette) -> None:
    async def run() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(run())


def test_app_serves_the_document_as_yaml_and_json(client: AsgiClient) -> None:
    as_yaml = client.request("GET", "/openapi.yaml", token=None)
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert as_yaml.text == openapi.document_text()
    as_json = client.request("GET", "/openapi.json", token=None)
    assert as_json.json() == yaml.safe_load(openapi.document_text())


def test_app_routes_every_method_of_the_table(app: Starlette) -> None:
    paths = {getattr(route, "path", None) for route in app.routes}
    assert {method.path for method in METHODS} <= paths


def test_app_uses_a_given_backend_and_its_url(make_app: Any) -> None:
    backend = Backend(ManualClock(), SequentialIds())
    app = create_app(ServerConfig(public_url="http://fake.test:1234/"), backend=backend)
    client = AsgiClient(app)
    task = client.ok("CreateTask", task_body())["task"]
    execution = client.ok("StartTask", {"id": task["id"]})["taskExecution"]
    backend.clock.advance(60)  # type: ignore[attr-defined]
    status = client.ok("GetTaskExecution", {"id": execution["id"]})["taskExecution"]["status"]
    assert status["logUrl"] == f"http://fake.test:1234/_mock/logs/{execution['id']}"
    assert backend.export_state(Caller("test-token"))["tenants"]


def test_app_state_file_is_loaded_at_start_and_closed_at_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    config = ServerConfig(clock="manual", state_path=path)
    first = create_app(config)
    task = AsgiClient(first).ok("CreateTask", task_body())["task"]
    _run_lifespan(first)
    assert first.state.store.closed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]
    second = create_app(config)
    assert AsgiClient(second).ok("GetTask", {"id": task["id"]})["task"] == task


def test_app_missing_state_file_starts_empty(tmp_path: Path) -> None:
    app = create_app(ServerConfig(clock="manual", state_path=tmp_path / "absent.db"))
    assert AsgiClient(app).ok("ListTasks", {}).get("tasks", []) == []


@pytest.mark.parametrize("content", ["{not json", '{"tenants": 7}', "[]", "garbage"])
def test_app_bad_state_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(StateFileError, match=r"cannot load state from .*state\.json"):
        create_app(ServerConfig(state_path=path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


class _Exploding(Backend):
    def call(self, caller: Caller, method: str, request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("bug")


def test_app_an_unexpected_error_is_rendered_as_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(ServerConfig(), backend=_Exploding(ManualClock(), SequentialIds()))
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        response = AsgiClient(app).rpc("ListTasks", {})
    assert response.status_code == 500
    assert response.json() == {"code": "internal", "message": "internal error in ListTasks"}
    assert "RuntimeError: bug" in caplog.text


class _ServerRequest:
    """What uvicorn hands an app: a request object that holds the scope and whose bound
    method is ``send`` (so an app that keeps ``send`` in the scope makes a cycle)."""

    def __init__(self, path: str, body: bytes) -> None:
        self.body = body
        self.sent: list[MutableMapping[str, Any]] = []
        self.scope: dict[str, Any] = {
            "type": "http",
            "method": "POST",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"content-type", b"application/json"),
                (b"authorization", b"Bearer gc-test"),
                (b"content-length", str(len(body)).encode()),
            ],
        }

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)


def test_app_a_call_leaves_no_reference_cycle_for_the_collector(app: Starlette) -> None:
    """Every call's objects are freed when it returns: a cycle per request (the server's
    ``send`` kept in the scope did that) cost ~10 µs a call in collections."""
    path = "/gitpod.v1.EnvironmentAutomationService/CreateTask"
    gc.collect()
    gc.disable()
    try:
        for number in range(20):
            request = _ServerRequest(path, json.dumps(task_body(f"gc-{number}")).encode())
            call = app(request.scope, request.receive, request.send)
            with pytest.raises(StopIteration):  # nothing awaits: it runs in one step
                call.send(None)
            assert request.sent[0]["status"] == 200
            del request, call
        assert gc.collect() == 0
    finally:
        gc.enable()
