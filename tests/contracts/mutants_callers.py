"""Defective variants of the fake for the callers suite and the promises across reads.

Object-level authorization: the fake partitions state by token, so a defect is a rewrite
of the Authorization header: some calls of a caller are served as if the owner (the
first caller to create a task) had made them. Promises: a response rewrite that breaks
one promise of the reference that spans several reads. Each mutant breaks one promise,
and (but for ``one_tenant_for_all``) only one check catches it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.contracts.mutants import Exchange, Mutant

__all__ = ["CALLER_MUTANTS", "PROMISE_MUTANTS", "SINGLE_DEFECT"]

_SERVED_AS_OWNER = "x-mutant-served-as-owner"


def _as_owner(mutant: Mutant, operations: frozenset[str]) -> Callable[[Exchange], None]:
    """A ``before`` that serves ``operations`` of any caller as the owner's."""

    def before(exchange: Exchange) -> None:
        token = exchange.headers.get("authorization")
        if exchange.operation == "CreateTask":
            mutant.state.setdefault("owner", token)
        owner = mutant.state.get("owner")
        if owner is not None and token != owner and exchange.operation in operations:
            exchange.headers[_SERVED_AS_OWNER] = "1"  # seen again by ``after``; the fake ignores it
            exchange.headers["authorization"] = owner

    return before


def _refuse_after(mutant: Mutant) -> Callable[[Exchange], None]:
    """An ``after`` that answers not_found to what ``_as_owner`` served: done, yet denied."""

    def after(exchange: Exchange) -> None:
        if _SERVED_AS_OWNER in exchange.headers:
            exchange.status = 404
            exchange.response = {"code": "not_found", "message": "task not found"}

    return after


def _build() -> list[Mutant]:
    everything = frozenset(
        {
            "GetTask",
            "UpdateTask",
            "DeleteTask",
            "StartTask",
            "ListTasks",
            "GetTaskExecution",
            "StopTaskExecution",
            "ListTaskExecutions",
        }
    )
    mutants = [
        # Every caller sees and changes every task: no object-level authorization at all.
        (Mutant("one_tenant_for_all", "callers", "other_caller_denied"), everything, False),
        # GetTask forgets to check the owner; the rest is right.
        (
            Mutant("get_task_of_another_caller", "callers", "other_caller_denied"),
            {"GetTask"},
            False,
        ),
        # The lists are not scoped to the caller; reads by id are.
        (
            Mutant("lists_show_other_callers", "callers", "other_caller_lists_exclude"),
            {"ListTasks", "ListTaskExecutions"},
            False,
        ),
        # UpdateTask applies the change, then answers not_found: refused, yet done.
        (
            Mutant("update_applied_then_refused", "callers", "other_caller_changes_nothing"),
            {"UpdateTask"},
            True,
        ),
    ]
    for mutant, operations, refuse in mutants:
        mutant.before = _as_owner(mutant, frozenset(operations))
        if refuse:
            mutant.after = _refuse_after(mutant)
    return [mutant for mutant, _, _ in mutants]


CALLER_MUTANTS: list[Mutant] = _build()
# The mutants that break one promise only: no other check may fail against them.
SINGLE_DEFECT = frozenset(
    {"get_task_of_another_caller", "lists_show_other_callers", "update_applied_then_refused"}
)


# -- promises across reads --------------------------------------------------------------------


def _executions(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    found = [body["taskExecution"]] if isinstance(body.get("taskExecution"), dict) else []
    return found + [e for e in body.get("taskExecutions", []) if isinstance(e, dict)]


def _version_frozen(exchange: Exchange) -> None:
    """statusVersion never moves: it never decreases, yet names every status the same."""
    for execution in _executions(exchange.response):
        status = execution.get("status")
        if isinstance(status, dict) and "statusVersion" in status:
            status["statusVersion"] = "1"


def _listed_an_hour_early(exchange: Exchange) -> None:
    """ListTaskExecutions renders createdAt in local time labelled UTC (an hour off)."""
    if exchange.operation != "ListTaskExecutions":
        return
    for execution in _executions(exchange.response):
        metadata = execution.get("metadata", {})
        created = metadata.get("createdAt")
        if isinstance(created, str):
            instant = datetime.fromisoformat(created.replace("Z", "+00:00")) - timedelta(hours=1)
            metadata["createdAt"] = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _created_at_rewritten_on_update(mutant: Mutant) -> tuple[Callable[..., None], ...]:
    """UpdateTask stores the time of the update as the task's createdAt."""
    updated: dict[str, str] = mutant.state.setdefault("updated", {})

    def before(exchange: Exchange) -> None:
        request = exchange.request
        if exchange.operation == "UpdateTask" and isinstance(request, dict):
            now = datetime.now(UTC) + timedelta(seconds=1)
            updated[str(request.get("id"))] = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def after(exchange: Exchange) -> None:
        body = exchange.response
        if not isinstance(body, dict):
            return
        tasks = [body["task"]] if isinstance(body.get("task"), dict) else []
        for task in tasks + [t for t in body.get("tasks", []) if isinstance(t, dict)]:
            if task.get("id") in updated:
                task.setdefault("metadata", {})["createdAt"] = updated[task["id"]]

    return before, after


def _steps_renamed(exchange: Exchange) -> None:
    """status.steps names each step by an id of its own, not the plan's (stable, though)."""
    for execution in _executions(exchange.response):
        for step in execution.get("status", {}).get("steps", []):
            if isinstance(step, dict) and isinstance(step.get("id"), str):
                step["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, step["id"]))


def _groups_at_once(exchange: Exchange) -> None:
    """Until the last group really starts, its steps are reported running already (the
    StartTask answer included, so no timing decides whether a read sees it)."""
    for execution in _executions(exchange.response):
        plan = execution.get("spec", {}).get("plan", [])
        status = execution.get("status", {})
        if len(plan) < 2 or status.get("phase") in _TERMINAL:
            continue
        steps = status.get("steps", [])
        shown = {step.get("id") for step in steps}
        last = [step["id"] for step in plan[-1].get("steps", [])]
        if not shown & set(last):
            running = [{"id": step, "phase": "TASK_EXECUTION_PHASE_RUNNING"} for step in last]
            status["steps"] = steps + running


_TERMINAL = {
    "TASK_EXECUTION_PHASE_SUCCEEDED",
    "TASK_EXECUTION_PHASE_FAILED",
    "TASK_EXECUTION_PHASE_STOPPED",
}
_ENDLESS = "c2FtZS1hZ2Fpbg"  # the token of a last page that never ends


def _paging_never_ends(exchange: Exchange) -> None:
    """ListTasks hands out a token on the last page too, and the same one again after it."""
    if exchange.operation != "ListTasks" or not isinstance(exchange.response, dict):
        return
    if exchange.status == 200 and not exchange.response.get("pagination", {}).get("nextToken"):
        exchange.response["pagination"] = {"nextToken": _ENDLESS}


def _answer_the_endless_token(exchange: Exchange) -> None:
    """The fake would refuse the made-up token: answer it before the fake sees it."""
    request = exchange.request
    pagination = request.get("pagination") if isinstance(request, dict) else None
    if isinstance(pagination, dict) and pagination.get("token") == _ENDLESS:
        exchange.short_circuit = True
        exchange.status, exchange.response = 200, {"pagination": {"nextToken": _ENDLESS}}


def _lists_only_finished(exchange: Exchange) -> None:
    """ListTaskExecutions shows an execution only once it has finished."""
    if exchange.operation == "ListTaskExecutions" and isinstance(exchange.response, dict):
        executions = exchange.response.get("taskExecutions", [])
        exchange.response["taskExecutions"] = [
            e for e in executions if e.get("status", {}).get("phase") in _TERMINAL
        ]


def _promises() -> list[Mutant]:
    frozen = Mutant(
        "status_version_frozen",
        "lifecycle",
        "status_version_identifies_status",
        after=_version_frozen,
    )
    early = Mutant(
        "execution_listed_with_another_created_at",
        "lifecycle",
        "execution_facts_fixed",
        after=_listed_an_hour_early,
    )
    rewritten = Mutant("task_created_at_rewritten_on_update", "lifecycle", "task_facts_fixed")
    rewritten.before, rewritten.after = _created_at_rewritten_on_update(rewritten)
    renamed = Mutant(
        "status_steps_not_in_plan", "lifecycle", "status_steps_in_plan", after=_steps_renamed
    )
    endless = Mutant(
        "paging_never_ends",
        "lifecycle",
        "list_paging_ends",
        before=_answer_the_endless_token,
        after=_paging_never_ends,
    )
    at_once = Mutant(
        "plan_groups_run_at_once", "lifecycle", "plan_groups_in_order", after=_groups_at_once
    )
    late = Mutant(
        "execution_listed_only_when_finished",
        "lifecycle",
        "list_filter_honoured",
        after=_lists_only_finished,
    )
    return [frozen, early, rewritten, renamed, endless, at_once, late]


PROMISE_MUTANTS: list[Mutant] = _promises()
