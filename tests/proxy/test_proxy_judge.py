"""The judge picks the suite's checks for a proxied exchange and keeps promises per caller;
replay compares shapes. No HTTP: exchanges are built as the proxy builds them."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from contracts.document import Document, load_document
from contracts.exchange import Exchange
from contracts.invariants import DeletedTaskLedger
from contracts.proxy import violations
from contracts.proxy.judge import CLIENT, SERVER, Judge, Violation, caller_key
from contracts.replay import main as replay_main
from contracts.replay import shape_differences
from tests.support.exchanges import json_exchange
from tests.support.factories import ENV

TASK = "5f0a3c43-7a53-4b0f-9a55-1c1a0c6f1f01"
EXECUTION = "0b0e6a8e-2f55-4c87-9e57-1f4b7b0c2a11"
_CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def document() -> Document:
    return load_document()


def exchange(
    operation: str,
    request: object,
    response: object,
    *,
    status: int = 200,
    at: float = 0.0,
    token: str | None = "t",
) -> Exchange:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return json_exchange(
        operation,
        response,
        status=status,
        request=request,
        at=at,
        took=0.1,
        url=f"http://upstream/{operation}",
        request_headers=headers,
    )


def task() -> dict[str, Any]:
    return {
        "id": TASK,
        "environmentId": ENV,
        "metadata": {"createdAt": _CREATED, "name": "Build", "reference": "build"},
        "spec": {"command": "make"},
    }


def execution(phase: str, version: str) -> dict[str, Any]:
    metadata = {"taskId": TASK, "environmentId": ENV, "createdAt": _CREATED}
    if phase == "SUCCEEDED":
        metadata["completedAt"] = "2026-01-01T00:00:05Z"
    return {
        "id": EXECUTION,
        "metadata": metadata,
        "status": {"phase": f"TASK_EXECUTION_PHASE_{phase}", "statusVersion": version},
    }


def checks(judge: Judge, item: Exchange, caller: str | None = "a") -> set[tuple[str, str]]:
    return {(v.side, v.check) for v in judge.judge(item, caller)}


def test_judge_passes_a_conforming_exchange(document: Document) -> None:
    judge = Judge(document)
    assert checks(judge, exchange("GetTask", {"id": TASK}, {"task": task()})) == set()


def test_judge_reports_an_invalid_request_as_the_clients(document: Document) -> None:
    judge = Judge(document)
    rejected = exchange(
        "GetTask", {"id": "x"}, {"code": "invalid_argument", "message": "id"}, status=400
    )
    assert checks(judge, rejected) == {(CLIENT, "request_schema_conformance")}
    # Accepting it is the server's violation too.
    accepted = exchange("GetTask", {"id": "x"}, {"task": task()})
    assert checks(judge, accepted) == {
        (CLIENT, "request_schema_conformance"),
        (SERVER, "invalid_request_rejected"),
    }


def test_judge_checks_the_token_only_when_there_is_none(document: Document) -> None:
    judge = Judge(document)
    served = exchange("GetTask", {"id": TASK}, {"task": task()}, token=None)
    assert checks(judge, served, caller=None) == {(SERVER, "missing_token_rejected")}
    refused = exchange(
        "GetTask", {"id": TASK}, {"code": "unauthenticated", "message": "no"}, status=401
    )
    assert checks(judge, refused) == set()  # a token the server does not take: not its fault


def test_judge_keeps_the_promises_of_each_caller_apart(document: Document) -> None:
    judge = Judge(document)
    finished = exchange(
        "GetTaskExecution", {"id": EXECUTION}, {"taskExecution": execution("SUCCEEDED", "5")}
    )
    again = exchange(
        "GetTaskExecution", {"id": EXECUTION}, {"taskExecution": execution("RUNNING", "3")}, at=1.0
    )
    assert checks(judge, finished, "a") == set()
    assert checks(judge, again, "b") == set()  # b never saw it finish
    assert checks(judge, again, "a") == {
        (SERVER, "terminal_phase_is_final"),
        (SERVER, "status_version_monotonic"),
        (SERVER, "execution_facts_fixed"),  # completedAt lost
    }


def test_deleted_task_is_gone_for_reads_sent_after_the_delete_answered() -> None:
    ledger = DeletedTaskLedger()
    assert ledger.observe(exchange("DeleteTask", {"id": TASK}, {}, at=1.0)) == []
    # Sent before the delete was answered (1.1): a concurrent read, not a violation.
    assert ledger.observe(exchange("GetTask", {"id": TASK}, {"task": task()}, at=1.05)) == []
    read = ledger.observe(exchange("GetTask", {"id": TASK}, {"task": task()}, at=2.0))
    assert [p.check for p in read] == ["deleted_task_not_found"]
    listed = ledger.observe(exchange("ListTasks", {}, {"tasks": [task()]}, at=3.0))
    assert "shows task" in listed[0].received
    gone = exchange("GetTask", {"id": TASK}, {"code": "not_found", "message": "no"}, status=404)
    assert ledger.observe(gone) == []


def test_caller_key_hides_the_token() -> None:
    key = caller_key("Bearer secret")
    assert key is not None and "secret" not in key and key == caller_key(" Bearer secret ")
    assert caller_key(None) is None and caller_key("  ") is None


def test_shape_differences_ignore_values_but_not_enums_or_keys() -> None:
    recorded = {
        "task": {"id": "a", "metadata": {"name": "x"}},
        "phase": "TASK_EXECUTION_PHASE_RUNNING",
    }
    same_shape = {
        "task": {"id": "b", "metadata": {"name": "y"}},
        "phase": "TASK_EXECUTION_PHASE_RUNNING",
    }
    assert shape_differences(recorded, same_shape) == []
    other = {"task": {"metadata": {"name": 1}}, "phase": "TASK_EXECUTION_PHASE_FAILED"}
    assert shape_differences(recorded, other) == [
        "/phase: recorded TASK_EXECUTION_PHASE_RUNNING, got TASK_EXECUTION_PHASE_FAILED",
        "/task/id: recorded, missing now",
        "/task/metadata/name: recorded a string, got a number",
    ]


def test_shape_differences_pair_list_items_by_mapped_id() -> None:
    recorded = {"tasks": [{"id": "r1", "dependsOn": ["r2"]}, {"id": "r2"}]}
    got = {"tasks": [{"id": "n2"}, {"id": "n1", "dependsOn": ["n2"]}]}
    assert shape_differences(recorded, got, ids={"r1": "n1", "r2": "n2"}) == []
    assert shape_differences(recorded, got) != []


def test_violation_log_keeps_the_first_and_counts_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(violations, "MAX_KEPT", 2)
    log = violations.ViolationLog()
    found = Violation(SERVER, "not_a_server_error", "GetTask", "json", "Received: 500", "curl")
    log.add([found, found])
    log.add([found])
    assert len(log.violations) == 2 and log.counts[SERVER] == 3
    summary = log.summary()
    assert "3 server violation(s)" in summary and "(the first 2 are kept and shown)" in summary
    assert violations.header_value([found]) == "1; not_a_server_error"


def test_replay_exits_2_on_an_unreadable_recording_or_an_unreachable_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": 7}\n')
    assert replay_main([str(bad), "--base-url", "http://127.0.0.1:9"]) == 2
    assert "bad.jsonl:1: format 7 (this version reads format 1)" in capsys.readouterr().err
    good = tmp_path / "good.jsonl"
    line = {
        "format": 1, "seq": 1, "time": _CREATED, "caller": "caller-1", "path": "/x",
        "httpMethod": "POST", "method": "GetTask", "dialect": "json", "request": {"id": TASK},
        "status": 200, "code": "ok", "response": {"task": task()}, "ms": 1.0,
    }  # fmt: skip
    good.write_text(json.dumps(line) + "\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert replay_main([str(good), "--base-url", f"http://127.0.0.1:{closed}"]) == 2
    assert "cannot reach" in capsys.readouterr().err
