"""What a run created, and putting it away afterwards (also after a failure or Ctrl-C).

The registry is an observer of the client: every task a CreateTask answered with, and
every execution a StartTask answered with, is recorded whatever suite sent the call, so
nothing the run made is forgotten. :meth:`Cleanup.run` stops the executions that were
last seen unfinished and deletes the tasks, newest first, so that dependents go before
the tasks they depend on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts.invariants import TERMINAL_PHASES

if TYPE_CHECKING:
    from contracts.exchange import Client, Exchange

__all__ = ["CLEANUP_SUITE", "Cleanup", "CleanupResult"]

CLEANUP_SUITE = "cleanup"
# Answers that mean "nothing left to do" for a delete or a stop.
_GONE = frozenset({"not_found"})
_MAX_PASSES = 5


@dataclass(frozen=True)
class CleanupResult:
    """What the run created and what it could not put away (id -> the last answer)."""

    tasks_created: int
    executions_started: int
    kept: bool
    left_tasks: dict[str, str] = field(default_factory=dict)
    left_executions: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[str]:
        created = (
            f"{self.tasks_created} task(s) created, {self.executions_started} execution(s) started"
        )
        if self.kept:
            return [f"{created}; left in place (--keep)."]
        if not self.left_tasks and not self.left_executions:
            return [f"{created}; all cleaned up."]
        lines = [f"{created}; NOT cleaned up:"]
        lines += [f"  task {key}: {why}" for key, why in self.left_tasks.items()]
        lines += [f"  execution {key}: {why}" for key, why in self.left_executions.items()]
        return lines


@dataclass
class Cleanup:
    """Observer recording created tasks and started executions; puts them away on request."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    tasks: dict[str, None] = field(default_factory=dict)  # ordered: creation order
    deleted: set[str] = field(default_factory=set)
    executions: dict[str, str] = field(default_factory=dict)  # id -> last phase seen

    def __call__(self, suite: str, exchange: Exchange) -> None:
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            return
        body = exchange.body
        with self._lock:
            if exchange.operation == "CreateTask":
                task = body.get("task")
                if isinstance(task, dict) and isinstance(task.get("id"), str):
                    self.tasks[task["id"]] = None
            elif exchange.operation == "DeleteTask":
                request = exchange.request_json
                if isinstance(request, dict) and isinstance(request.get("id"), str):
                    self.deleted.add(request["id"])
            started = exchange.operation == "StartTask"
            for execution in _executions(body):
                key = str(execution["id"])
                if started or key in self.executions:
                    status = execution.get("status")
                    phase = status.get("phase") if isinstance(status, dict) else None
                    self.executions[key] = str(phase or "")

    def run(self, client: Client, *, keep: bool) -> CleanupResult:
        """Stop the unfinished executions and delete the tasks (unless ``keep``)."""
        with self._lock:
            tasks = [key for key in self.tasks if key not in self.deleted]
            executions = {k: v for k, v in self.executions.items() if v not in TERMINAL_PHASES}
            created, started = len(self.tasks), len(self.executions)
        if keep:
            return CleanupResult(created, started, kept=True)
        # Cleaning up is no test: allow every method again, even after a read-only run.
        client.allowed = None
        left_executions: dict[str, str] = {}
        for execution_id in executions:
            why = _attempt(client, "StopTaskExecution", execution_id)
            if why is not None:
                left_executions[execution_id] = why
        left_tasks: dict[str, str] = {key: "" for key in reversed(tasks)}
        for _ in range(_MAX_PASSES):
            progress = False
            for task_id in list(left_tasks):
                why = _attempt(client, "DeleteTask", task_id)
                if why is None:
                    del left_tasks[task_id]
                    progress = True
                else:
                    left_tasks[task_id] = why
            if not left_tasks or not progress:
                break
        return CleanupResult(created, started, False, left_tasks, left_executions)


def _attempt(client: Client, operation: str, key: str) -> str | None:
    """None when ``operation`` on ``key`` succeeded (or found nothing); else why not."""
    try:
        exchange = client.send(CLEANUP_SUITE, operation, {"id": key})
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    if exchange.status == 200 or exchange.error_code in _GONE:
        return None
    if operation == "StopTaskExecution" and exchange.error_code == "failed_precondition":
        return None  # already finished: nothing to stop
    return exchange.describe(120)


def _executions(body: dict[str, object]) -> list[dict[str, object]]:
    found: list[object] = []
    if isinstance(body.get("taskExecution"), dict):
        found.append(body["taskExecution"])
    many = body.get("taskExecutions")
    if isinstance(many, list):
        found.extend(many)
    return [e for e in found if isinstance(e, dict) and isinstance(e.get("id"), str)]
