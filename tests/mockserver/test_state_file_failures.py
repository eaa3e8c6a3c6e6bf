"""A ``--state`` write that cannot be committed is refused and never exists.

The disk is made to fail by a connection whose ``execute`` or ``commit`` raises, as
SQLite does on a full disk, a file size limit or an I/O error. After any sequence of
acknowledged and refused writes, what the file holds loads, and equals what the server
shows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import StateFileError, attach_state_file, create_app
from mockserver.config import ServerConfig
from mockserver.domain import (
    Backend,
    Caller,
    DomainError,
    ManualClock,
    Scenario,
    SequentialIds,
    Unavailable,
)
from mockserver.domain.backend import MAX_TIME_US
from mockserver.state_file import SqliteState, open_state, read_state
from tests.support.asgi import AsgiClient
from tests.support.factories import task_body

ALICE = Caller("alice")
BOB = Caller("bob")
SCENARIO = Scenario.from_dict({"rules": [{"match": {"reference": "x"}, "outcome": "fail"}]})


class FailingConnection(sqlite3.Connection):
    """A connection whose ``execute``/``executemany`` or ``commit`` fails like a failing
    disk, when told to: ``fail_at`` says which, and ``statements_first`` how many
    statements succeed before an ``execute`` fails (a write of several statements then
    fails halfway)."""

    fail_at: str | None = None  # "execute" or "commit"
    statements_first = 0

    def _maybe_fail(self, where: str) -> None:
        if self.fail_at != where:
            return
        if where == "execute" and self.statements_first > 0:
            self.statements_first -= 1
            return
        raise sqlite3.OperationalError("disk I/O error")

    def execute(self, *args: Any) -> sqlite3.Cursor:
        self._maybe_fail("execute")
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        self._maybe_fail("execute")
        return super().executemany(*args)

    def commit(self) -> None:
        self._maybe_fail("commit")
        super().commit()


def _failing_store(path: Path) -> tuple[SqliteState, FailingConnection]:
    open_state(path).close()  # the tables, the format, WAL mode
    connection = sqlite3.connect(path, factory=FailingConnection, check_same_thread=False)
    assert isinstance(connection, FailingConnection)
    return SqliteState(path, connection), connection


def _backend(path: Path) -> tuple[Backend, FailingConnection]:
    store, connection = _failing_store(path)
    backend = Backend(ManualClock(), SequentialIds(), persistence=store)
    return backend, connection


def _loaded(path: Path) -> dict[str, Any]:
    """What a server starting on ``path`` would show."""
    fresh = Backend(ManualClock(), SequentialIds())
    fresh.import_state(read_state(path))
    exported: dict[str, Any] = fresh.export_state()
    return exported


def _task(backend: Backend, caller: Caller, **fields: Any) -> str:
    task_id: str = backend.create_task(caller, task_body(**fields))["task"]["id"]
    return task_id


# -- each write path -----------------------------------------------------------------------


def _writes(backend: Backend) -> dict[str, Callable[[], object]]:
    """Every acknowledged-write path of the backend, on a tenant with a task and an
    execution (created by the caller first)."""
    task = _task(backend, ALICE, reference="base")
    earlier = backend.export_state()  # without the execution: an import changes something
    execution = backend.start_task(ALICE, {"id": task})["taskExecution"]["id"]
    export = backend.export_state(ALICE)
    return {
        "CreateTask": lambda: backend.create_task(ALICE, task_body(dependsOn=[task])),
        "UpdateTask": lambda: backend.update_task(ALICE, {"id": task, "metadata": {"name": "n"}}),
        "DeleteTask": lambda: backend.delete_task(ALICE, {"id": task}),
        "StartTask": lambda: backend.start_task(ALICE, {"id": task}),
        "StopTaskExecution": lambda: backend.stop_task_execution(ALICE, {"id": execution}),
        "tenant scenario": lambda: backend.set_scenario(SCENARIO, ALICE),
        "tenant clock": lambda: backend.advance_clock(5, ALICE),
        "server clock": lambda: backend.advance_clock(5),
        "tenant reset": lambda: backend.reset(ALICE),
        "reset of all": lambda: backend.reset(),
        "tenant import": lambda: backend.import_state(export, BOB),
        "whole import": lambda: backend.import_state(earlier),
    }


WRITES = list(_writes(Backend(ManualClock(), SequentialIds())))


@pytest.mark.parametrize("fail_at", ["execute", "commit"])
@pytest.mark.parametrize("write", WRITES)
def test_a_write_whose_commit_fails_is_unavailable_and_has_no_effect(
    tmp_path: Path, write: str, fail_at: str
) -> None:
    path = tmp_path / "state.db"
    backend, connection = _backend(path)
    call = _writes(backend)[write]
    before = backend.export_state()
    connection.fail_at = fail_at
    with pytest.raises(Unavailable, match="cannot write its --state file"):
        call()
    connection.fail_at = None
    assert backend.export_state() == before
    assert _loaded(path) == before
    # The disk is back: the same write now succeeds, and is in the file.
    call()
    assert _loaded(path) == backend.export_state() != before


def test_a_refused_write_answers_503_unavailable_over_http(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store, connection = _failing_store(path)
    app = create_app(ServerConfig(clock="manual"))
    app.state.backend.persistence = store
    client = AsgiClient(app)
    connection.fail_at = "commit"
    response = client.rpc("CreateTask", task_body())
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "unavailable"
    for method, route, body in [
        ("POST", "/_mock/reset", b""),
        ("POST", "/_mock/clock/advance", b'{"seconds": 5}'),
        ("PUT", "/_mock/scenario", b"rules: [{outcome: fail}]"),
        ("PUT", "/_mock/state", b'{"version": 1, "tenants": {}}'),
    ]:
        answer = client.request(method, route, content=body)
        assert answer.status_code == 503, (route, answer.text)
        assert answer.json()["code"] == "unavailable"
    connection.fail_at = None
    assert client.ok("ListTasks", {}).get("tasks") is None
    assert client.request("GET", "/_mock/scenario").json()["rules"] == []
    assert client.request("GET", "/_mock/clock").json()["now"] == "2026-01-01T00:00:00Z"


# -- any sequence --------------------------------------------------------------------------

_STEP = st.tuples(
    st.sampled_from(
        [
            "create",
            "create-dependent",
            "update-deps",
            "delete",
            "start",
            "stop",
            "scenario",
            "advance-tenant",
            "advance-server",
            "reset-tenant",
            "reset-all",
            "import-tenant",
            "import-all",
        ]
    ),
    st.sampled_from([ALICE, BOB]),
    st.sampled_from([None, None, "execute", "commit"]),
    st.integers(0, 50),
    st.integers(0, 3),
)


def _step(backend: Backend, op: str, caller: Caller, pick: int) -> None:
    export = backend.export_state(caller)
    tasks = [task["id"] for task in export["tenants"].get(caller.subject_id, {}).get("tasks", [])]
    executions = [
        e["id"] for e in export["tenants"].get(caller.subject_id, {}).get("executions", [])
    ]
    task = tasks[pick % len(tasks)] if tasks else None
    other = BOB if caller is ALICE else ALICE
    if op == "create":
        backend.create_task(caller, task_body())
    elif op == "create-dependent" and task:
        backend.create_task(caller, task_body(dependsOn=[task]))
    elif op == "update-deps" and task:
        backend.update_task(caller, {"id": task, "dependsOn": tasks[: pick % len(tasks)]})
    elif op == "delete" and task:
        backend.delete_task(caller, {"id": task})
    elif op == "start" and task:
        backend.start_task(caller, {"id": task})
    elif op == "stop" and executions:
        backend.stop_task_execution(caller, {"id": executions[pick % len(executions)]})
    elif op == "scenario":
        backend.set_scenario(SCENARIO, caller)
    elif op == "advance-tenant":
        backend.advance_clock(pick, caller)
    elif op == "advance-server":
        backend.advance_clock(pick / 7)
    elif op == "reset-tenant":
        backend.reset(caller)
    elif op == "reset-all" and pick % 5 == 0:
        backend.reset()
    elif op == "import-tenant":
        backend.import_state(backend.export_state(other), caller)
    elif op == "import-all":
        backend.import_state(backend.export_state())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_STEP, max_size=25))
def test_after_any_sequence_of_acknowledged_and_refused_writes_the_file_loads(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[str, Caller, str | None, int, int]],
) -> None:
    path = tmp_path_factory.mktemp("state") / "state.db"
    backend, connection = _backend(path)
    for op, caller, fail_at, pick, statements_first in steps:
        before = backend.export_state()
        connection.fail_at = fail_at
        connection.statements_first = statements_first
        try:
            _step(backend, op, caller, pick)
        except Unavailable:
            assert fail_at is not None
            assert backend.export_state() == before
            assert _loaded(path) == before
        except DomainError as error:  # a refusal of the request itself (a cycle, ...)
            assert error.code != "unavailable"
            assert backend.export_state() == before
        finally:
            connection.fail_at = None
    assert _loaded(path) == backend.export_state()


def test_a_tenant_stopped_at_the_end_of_9999_by_a_server_advance_loads_so(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    backend, connection = _backend(path)
    backend.advance_clock((MAX_TIME_US - backend.now(ALICE)) / 1e6 - 0.4, ALICE)
    connection.fail_at = "commit"
    before = backend.export_state()
    with pytest.raises(Unavailable):
        backend.advance_clock(10)
    assert backend.export_state() == before
    connection.fail_at = None
    backend.advance_clock(10)
    assert backend.now(ALICE) == MAX_TIME_US
    assert _loaded(path) == backend.export_state()


def test_an_error_no_check_foresaw_at_start_is_still_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unforeseen(*args: object, **kwargs: object) -> None:
        raise TypeError("something\nunforeseen")

    monkeypatch.setattr(Backend, "import_state", unforeseen)
    path = tmp_path / "state.db"
    with pytest.raises(StateFileError) as raised:
        attach_state_file(Backend(ManualClock(), SequentialIds()), path)
    assert str(raised.value) == (
        f"cannot load state from {path}: unexpected content (TypeError: something unforeseen)"
    )
    open_state(path).close()  # the file was let go
