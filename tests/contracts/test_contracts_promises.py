"""Promises of the reference that span reads: one status per statusVersion, an
execution's and a task's fixed facts. Unit tests on the ledgers here; the broken servers
that only these checks catch are in :mod:`tests.contracts.mutants_callers`."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import SuiteConfig, run
from contracts.checks import next_page_token
from contracts.exchange import Exchange
from contracts.failures import CheckFailed, Findings
from contracts.invariants import ExecutionLedger, TaskLedger
from tests.contracts.mutants import Mutant, serve
from tests.contracts.mutants_callers import PROMISE_MUTANTS
from tests.support.exchanges import json_exchange

_ID = "5f0a3c43-7a53-4b0f-9a55-1c1a0c6f1f01"
_CREATOR = {"id": "0f9c2a10-3c1d-4c52-8a43-9d6f2b1e7a55", "principal": "PRINCIPAL_USER"}


def _exchange(operation: str, body: dict[str, Any], at: float) -> Exchange:
    return json_exchange(operation, body, at=at, took=0.01)


def _execution(
    phase: str, version: str, at: float, operation: str = "GetTaskExecution", **status: Any
) -> Exchange:
    execution = {
        "id": _ID,
        "metadata": status.pop("metadata", {"createdAt": "2024-01-01T00:00:00Z"}),
        "status": {"phase": f"TASK_EXECUTION_PHASE_{phase}", "statusVersion": version, **status},
    }
    if operation == "ListTaskExecutions":
        return _exchange(operation, {"taskExecutions": [execution]}, at)
    return _exchange(operation, {"taskExecution": execution}, at)


def _failed(ledger_type: type[ExecutionLedger] | type[TaskLedger], *seen: Exchange) -> set[str]:
    findings = Findings()
    ledger = ledger_type(findings)
    for exchange in seen:
        ledger("lifecycle", exchange)
    return findings.failed_checks()


def test_promises_a_status_change_with_a_new_version_passes() -> None:
    assert not _failed(
        ExecutionLedger,
        _execution("PENDING", "1", 0.0),
        _execution("PENDING", "1", 1.0, "ListTaskExecutions", logUrl="https://signed/1"),
        _execution("RUNNING", "2", 2.0, logUrl="https://signed/2"),
        _execution(
            "RUNNING", "3", 3.0, steps=[{"id": "a", "phase": "TASK_EXECUTION_PHASE_RUNNING"}]
        ),
    )


@pytest.mark.parametrize(
    "later",
    [
        {"phase": "RUNNING"},  # a new phase at the old version
        {"phase": "PENDING", "failureMessage": "boom"},
        {"phase": "PENDING", "steps": [{"id": "a", "phase": "TASK_EXECUTION_PHASE_RUNNING"}]},
    ],
)
def test_promises_two_statuses_never_share_a_version(later: dict[str, Any]) -> None:
    phase = later.pop("phase")
    # Even from concurrent reads (the second sent before the first answered).
    failed = _failed(
        ExecutionLedger, _execution("PENDING", "4", 0.0), _execution(phase, "4", 0.005, **later)
    )
    assert failed == {"status_version_identifies_status"}


def test_promises_execution_facts_stay_fixed() -> None:
    base = {"createdAt": "2024-01-01T00:00:00Z", "creator": _CREATOR, "taskId": _ID}
    same_instant = {**base, "createdAt": "2024-01-01T00:00:00.000Z"}
    assert not _failed(
        ExecutionLedger,
        _execution("PENDING", "1", 0.0, metadata=base),
        _execution("PENDING", "1", 1.0, "ListTaskExecutions", metadata=same_instant),
    )
    moved = {**base, "createdAt": "2023-12-31T23:00:00Z"}
    assert _failed(
        ExecutionLedger,
        _execution("PENDING", "1", 0.0, metadata=base),
        _execution("PENDING", "1", 1.0, "ListTaskExecutions", metadata=moved),
    ) == {"execution_facts_fixed"}
    started = {**base, "startedAt": "2024-01-01T00:00:01Z"}
    assert _failed(
        ExecutionLedger,
        _execution("RUNNING", "2", 0.0, metadata=started),
        _execution("RUNNING", "2", 1.0, metadata=base),  # startedAt lost
    ) == {"execution_facts_fixed"}


def _task(at: float, operation: str = "GetTask", **metadata: Any) -> Exchange:
    task = {
        "id": _ID,
        "environmentId": _ID,
        "metadata": {"createdAt": "2024-01-01T00:00:00Z", "creator": _CREATOR, **metadata},
    }
    if operation == "ListTasks":
        return _exchange(operation, {"tasks": [task]}, at)
    return _exchange(operation, {"task": task}, at)


def test_promises_task_facts_stay_fixed() -> None:
    assert not _failed(
        TaskLedger, _task(0.0, "CreateTask", name="a"), _task(1.0, "ListTasks", name="b")
    )
    assert _failed(TaskLedger, _task(0.0), _task(1.0, createdAt="2024-01-02T00:00:00Z")) == {
        "task_facts_fixed"
    }
    other = {"id": _ID, "principal": "PRINCIPAL_SERVICE_ACCOUNT"}
    assert _failed(TaskLedger, _task(0.0), _task(1.0, "ListTasks", creator=other)) == {
        "task_facts_fixed"
    }


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("mutant", PROMISE_MUTANTS, ids=[m.name for m in PROMISE_MUTANTS])
def test_promises_broken_server_is_caught_by_that_check_only(mutant: Mutant) -> None:
    with serve(mutant) as url:
        report = run(
            SuiteConfig(
                base_url=url,
                seed=7,
                only=(mutant.suite,),
                lifecycle_timeout=5,
                # The broken servers rewrite JSON: in another dialect they break other checks too.
                dialects=("json",),
            ),
            progress=None,
        )
    assert report.failed_checks == {mutant.check}, report.summary()


def test_promises_status_steps_belong_to_the_plan() -> None:
    plan = {"plan": [{"steps": [{"id": "a"}]}, {"steps": [{"id": "b"}]}]}

    def with_steps(*ids: str) -> Exchange:
        execution = {
            "id": _ID,
            "spec": plan,
            "status": {"phase": "TASK_EXECUTION_PHASE_RUNNING", "steps": [{"id": i} for i in ids]},
        }
        return _exchange("GetTaskExecution", {"taskExecution": execution}, 0.0)

    assert not _failed(ExecutionLedger, with_steps("a"))
    assert _failed(ExecutionLedger, with_steps("a", "c")) == {"status_steps_in_plan"}


def test_promises_paging_that_goes_round_in_circles_fails() -> None:
    def page(token: str) -> Exchange:
        return _exchange("ListTasks", {"tasks": [], "pagination": {"nextToken": token}}, 0.0)

    used: set[str] = set()
    assert next_page_token(page("t1"), used) == "t1"
    assert next_page_token(page("t2"), used) == "t2"
    assert next_page_token(_exchange("ListTasks", {"tasks": []}, 0.0), used) == ""
    with pytest.raises(CheckFailed) as failed:
        next_page_token(page("t1"), used)
    assert failed.value.check == "list_paging_ends"


def test_promises_plan_groups_run_one_after_another() -> None:
    plan = {"plan": [{"steps": [{"id": "a"}, {"id": "b"}]}, {"steps": [{"id": "c"}]}]}

    def with_steps(**phases: str) -> Exchange:
        steps = [{"id": k, "phase": f"TASK_EXECUTION_PHASE_{v}"} for k, v in phases.items()]
        execution = {
            "id": _ID,
            "spec": plan,
            "status": {"phase": "TASK_EXECUTION_PHASE_RUNNING", "steps": steps},
        }
        return _exchange("GetTaskExecution", {"taskExecution": execution}, 0.0)

    assert not _failed(ExecutionLedger, with_steps(a="RUNNING"))
    assert not _failed(ExecutionLedger, with_steps(a="SUCCEEDED", b="SUCCEEDED", c="RUNNING"))
    assert not _failed(ExecutionLedger, with_steps(a="FAILED", b="STOPPED"))
    # A later step listed ahead of its start, as PENDING, has not started.
    assert not _failed(ExecutionLedger, with_steps(a="RUNNING", b="RUNNING", c="PENDING"))
    in_order = "plan_groups_in_order"
    assert _failed(ExecutionLedger, with_steps(a="SUCCEEDED", b="RUNNING", c="RUNNING")) == {
        in_order
    }
    assert _failed(ExecutionLedger, with_steps(a="SUCCEEDED", c="RUNNING")) == {in_order}
