"""Defective variants of the fake for the callers suite: object-level authorization broken.

The fake partitions state by token, so a defect is a rewrite of the Authorization header:
some calls of a caller are served as if the owner (the first caller to create a task)
had made them. Each breaks exactly one promise, so that only one check catches it.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.contracts.mutants import Exchange, Mutant

__all__ = ["CALLER_MUTANTS", "SINGLE_DEFECT"]

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
