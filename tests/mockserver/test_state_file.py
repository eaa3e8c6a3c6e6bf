"""The ``--state`` store: every write is committed before its response, in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import StateFileError, create_app
from mockserver.config import ServerConfig
from mockserver.domain import Backend, Caller, ManualClock, SequentialIds
from mockserver.state_file import open_state, read_state
from tests.support.asgi import AsgiClient
from tests.support.factories import task_body


def _app(path: Path) -> Any:
    return create_app(ServerConfig(clock="manual", state_path=path))


def _export(path: Path) -> dict[str, Any]:
    """What a server starting on ``path`` would load, as if the running one had been
    killed just now (read beside it: the running one holds the file)."""
    backend = Backend(ManualClock(), SequentialIds())
    backend.import_state(read_state(path))
    exported: dict[str, Any] = backend.export_state()
    return exported


def test_every_kind_of_write_is_in_the_file_before_its_response(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = _app(path)
    client = AsgiClient(app)
    other = AsgiClient(app, token="other")
    base = client.ok("CreateTask", task_body(reference="base"))["task"]
    top = client.ok("CreateTask", task_body(reference="top", dependsOn=[base["id"]]))["task"]
    client.ok("UpdateTask", {"id": base["id"], "metadata": {"name": "renamed"}})
    running = client.ok("StartTask", {"id": top["id"]})["taskExecution"]
    stopped = client.ok("StartTask", {"id": base["id"]})["taskExecution"]
    client.ok("StopTaskExecution", {"id": stopped["id"]})
    client.ok("DeleteTask", {"id": top["id"]})  # stops `running` too
    other.ok("CreateTask", task_body(reference="theirs"))
    other.request("POST", "/_mock/reset")
    app.state.backend.clock.advance(7)
    client.ok("GetTask", {"id": base["id"]})  # a read: the clock is saved with writes only

    assert _export(path)["tenants"] == app.state.backend.export_state()["tenants"]
    saved = _export(path)["tenants"]
    assert len(saved) == 1
    (tenant,) = saved.values()
    assert [task["metadata"]["name"] for task in tenant["tasks"]] == ["renamed"]
    assert {execution["id"] for execution in tenant["executions"]} == {
        running["id"],
        stopped["id"],
    }
    assert all("stoppedAt" in execution for execution in tenant["executions"])


def test_imports_and_resets_are_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = _app(path)
    client = AsgiClient(app)
    client.ok("CreateTask", task_body())
    exported = client.request("GET", "/_mock/state").json()
    other = AsgiClient(app, token="other")
    assert other.request("PUT", "/_mock/state", json=exported).status_code == 200
    assert len(_export(path)["tenants"]) == 2
    client.request("POST", "/_mock/reset", token=None)
    assert _export(path)["tenants"] == {}


def test_clock_is_saved_when_the_app_stops(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = _app(path)
    AsgiClient(app).ok("CreateTask", task_body())
    app.state.backend.clock.advance(30)
    app.state.backend.flush()
    assert _export(path)["clock"] == "2026-01-01T00:00:30Z"


def test_a_tenants_own_scenario_and_clock_are_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = _app(path)
    client = AsgiClient(app)
    scenario = {"rules": [{"match": {"name": "^B"}, "outcome": "fail"}], "latency": {}}
    assert client.request("PUT", "/_mock/scenario", json=scenario).status_code == 200
    advanced = client.request("POST", "/_mock/clock/advance", json={"seconds": 90})
    assert advanced.status_code == 200, advanced.text
    AsgiClient(app, token="plain").ok("CreateTask", task_body())
    subject = Caller("test-token").subject_id

    saved = read_state(path)["tenants"][subject]
    assert saved["scenario"]["rules"] == scenario["rules"]
    assert saved["clock"] == "2026-01-01T00:01:30Z"
    assert _export(path)["tenants"][subject]["clock"] == "2026-01-01T00:01:30Z"

    client.request("POST", "/_mock/reset")
    assert subject not in read_state(path)["tenants"]
    app.state.store.close()

    again = AsgiClient(_app(path))
    assert again.request("GET", "/_mock/clock").json()["now"] == "2026-01-01T00:00:00Z"


def test_a_file_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = _app(path)
    with pytest.raises(StateFileError, match="another mockserver is using it"):
        _app(path)
    first.state.store.close()
    _app(path).state.store.close()  # free again


def test_the_stores_tables_hold_the_export_json(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    store.tenant_settings_changed("t1", {"clockOffsetUs": 5_000_000})
    store.commit(0)
    store.close()
    again = open_state(tmp_path / "state.db")
    assert again.load()["tenants"]["t1"]["clock"] == "1970-01-01T00:00:05Z"
    again.tenant_settings_changed("t1", None)
    again.commit(0)
    assert "t1" not in again.load()["tenants"]
    again.close()


def test_a_closed_store_leaves_one_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = _app(path)
    AsgiClient(app).ok("CreateTask", task_body())
    assert (tmp_path / "state.db-wal").exists()
    app.state.store.close()
    app.state.store.close()  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["state.db"]


def test_a_json_export_is_migrated_and_kept_as_a_backup(tmp_path: Path) -> None:
    backend = Backend(ManualClock(), SequentialIds())
    caller = Caller("test-token")
    task = backend.create_task(caller, task_body())["task"]
    backend.clock.advance(12)  # type: ignore[attr-defined]
    path = tmp_path / "state.json"
    text = json.dumps(backend.export_state())
    path.write_text(text)
    (tmp_path / "state.json.migrating").write_text("left by a killed migration")

    app = _app(path)
    assert AsgiClient(app).ok("GetTask", {"id": task["id"]})["task"] == task
    assert app.state.backend.export_state()["clock"] == "2026-01-01T00:00:12Z"
    app.state.store.close()
    assert path.read_bytes().startswith(b"SQLite format 3")
    assert (tmp_path / "state.json.json-backup").read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.json-backup"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing/state.db", "does not exist"),
        (".", "cannot use state file"),
    ],
)
def test_a_path_that_cannot_hold_the_state_is_refused(
    tmp_path: Path, name: str, reason: str
) -> None:
    with pytest.raises(StateFileError, match=reason) as caught:
        _app(tmp_path / name)
    assert "\n" not in str(caught.value)


def test_a_database_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('format', '99')")
    db.close()
    with pytest.raises(StateFileError, match="unknown format '99'"):
        _app(path)
