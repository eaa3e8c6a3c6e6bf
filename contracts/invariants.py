"""Universal invariants of task executions, checked on every execution any response shows.

The ledger is an observer of the client: it sees every exchange of every suite, records
each ``taskExecution`` it finds by id, and compares each sighting with the earlier ones.
Two sightings are only compared when the second request was sent after the first
response had arrived, so concurrent workers never produce a false alarm.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.exchange import Exchange
from contracts.failures import CheckFailed, Failure, Findings

__all__ = [
    "COMPLETED_AT_IFF_TERMINAL",
    "DELETED_TASK_NOT_FOUND",
    "EXECUTION_TIMESTAMPS_ORDERED",
    "STATUS_VERSION_MONOTONIC",
    "TERMINAL_PHASES",
    "TERMINAL_PHASE_IS_FINAL",
    "DeletedTaskLedger",
    "ExecutionLedger",
    "parse_timestamp",
]

TERMINAL_PHASE_IS_FINAL = "terminal_phase_is_final"
STATUS_VERSION_MONOTONIC = "status_version_monotonic"
EXECUTION_TIMESTAMPS_ORDERED = "execution_timestamps_ordered"
COMPLETED_AT_IFF_TERMINAL = "completed_at_iff_terminal"
DELETED_TASK_NOT_FOUND = "deleted_task_not_found"

TERMINAL_PHASES = frozenset(
    {
        "TASK_EXECUTION_PHASE_SUCCEEDED",
        "TASK_EXECUTION_PHASE_FAILED",
        "TASK_EXECUTION_PHASE_STOPPED",
    }
)
_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp (any number of fractional digits), or None."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Sighting:
    phase: str
    version: int | None
    sent_at: float
    received_at: float
    curl: str


def _executions(body: object) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    found: list[dict[str, Any]] = []
    single = body.get("taskExecution")
    if isinstance(single, dict):
        found.append(single)
    many = body.get("taskExecutions")
    if isinstance(many, list):
        found.extend(item for item in many if isinstance(item, dict))
    return [item for item in found if isinstance(item.get("id"), str)]


def _version(status: dict[str, Any]) -> int | None:
    raw = status.get("statusVersion")
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    if isinstance(raw, int):
        return raw
    return None


class ExecutionLedger:
    """Every sighting of every execution, and the invariant checks run on each new one."""

    def __init__(self, findings: Findings | None = None) -> None:
        self._findings = findings if findings is not None else Findings()
        self._lock = threading.Lock()
        self._sightings: dict[str, list[_Sighting]] = {}

    def __call__(self, suite: str, exchange: Exchange) -> None:
        for problem in self.observe(exchange):
            self._findings.add(
                Failure(
                    suite,
                    exchange.operation,
                    problem.check,
                    problem.received,
                    problem.expected,
                    exchange.curl,
                    dialect=exchange.dialect.name,
                )
            )

    def observe(self, exchange: Exchange) -> list[CheckFailed]:
        """Record the executions ``exchange`` shows; the invariants it breaks, if any."""
        if exchange.status != 200:
            return []
        problems: list[CheckFailed] = []
        for execution in _executions(exchange.body):
            problems += self._observe(execution, exchange)
        return problems

    def sightings(self, execution_id: str) -> int:
        with self._lock:
            return len(self._sightings.get(execution_id, []))

    def _observe(self, execution: dict[str, Any], exchange: Exchange) -> list[CheckFailed]:
        execution_id = str(execution["id"])
        status = execution.get("status") if isinstance(execution.get("status"), dict) else {}
        metadata = execution.get("metadata") if isinstance(execution.get("metadata"), dict) else {}
        assert isinstance(status, dict) and isinstance(metadata, dict)
        phase = str(status.get("phase", "TASK_EXECUTION_PHASE_UNSPECIFIED"))
        problems = _single_sighting_problems(execution_id, phase, metadata)
        current = _Sighting(
            phase, _version(status), exchange.sent_at, exchange.received_at, exchange.curl
        )
        with self._lock:
            earlier = [
                s for s in self._sightings.get(execution_id, []) if s.received_at <= current.sent_at
            ]
            self._sightings.setdefault(execution_id, []).append(current)
        for before in earlier:
            if before.phase in TERMINAL_PHASES and current.phase != before.phase:
                problems.append(
                    CheckFailed(
                        TERMINAL_PHASE_IS_FINAL,
                        f"execution {execution_id} in phase {current.phase}",
                        f"phase {before.phase}, as an earlier read reported: "
                        "a terminal phase never changes",
                    )
                )
                break
        for before in earlier:
            if (
                before.version is not None
                and current.version is not None
                and current.version < before.version
            ):
                problems.append(
                    CheckFailed(
                        STATUS_VERSION_MONOTONIC,
                        f"execution {execution_id} with statusVersion {current.version}",
                        f"statusVersion >= {before.version}, which an earlier read reported",
                    )
                )
                break
        return problems


def _single_sighting_problems(
    execution_id: str, phase: str, metadata: dict[str, Any]
) -> list[CheckFailed]:
    problems: list[CheckFailed] = []
    completed = metadata.get("completedAt")
    terminal = phase in TERMINAL_PHASES
    if terminal != bool(completed):
        problems.append(
            CheckFailed(
                COMPLETED_AT_IFF_TERMINAL,
                f"execution {execution_id} in phase {phase} with completedAt {completed!r}",
                "completedAt set if and only if the phase is terminal (SUCCEEDED, FAILED, STOPPED)",
            )
        )
    names = ("createdAt", "startedAt", "completedAt")
    stamps = [(name, parse_timestamp(metadata.get(name))) for name in names]
    present = [(name, stamp) for name, stamp in stamps if stamp is not None]
    for (first, a), (second, b) in itertools.pairwise(present):
        if a > b:
            problems.append(
                CheckFailed(
                    EXECUTION_TIMESTAMPS_ORDERED,
                    f"execution {execution_id} with {first} {metadata.get(first)} "
                    f"after {second} {metadata.get(second)}",
                    "createdAt <= startedAt <= completedAt",
                )
            )
            break
    return problems


# The methods that name a task by ``id`` in their request; on a deleted task each must fail.
_TASK_ID_METHODS = frozenset({"GetTask", "UpdateTask", "DeleteTask", "StartTask"})


def _tasks(body: object) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    found = [body["task"]] if isinstance(body.get("task"), dict) else []
    many = body.get("tasks")
    if isinstance(many, list):
        found.extend(item for item in many if isinstance(item, dict))
    return found


class DeletedTaskLedger:
    """A deleted task is gone: what a caller sees after a DeleteTask was answered.

    Passive, for traffic the suite did not write (the validating proxy): once a DeleteTask
    of an id succeeded, a request sent after that answer may not read, update, delete or
    start the task (each must fail), nor may a response show it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deleted: dict[str, float] = {}  # task id (lower case) -> when the delete answered

    def observe(self, exchange: Exchange) -> list[CheckFailed]:
        """Record a successful delete; what ``exchange`` shows of a deleted task."""
        if exchange.status != 200:
            return []
        request = exchange.request_json
        named = request.get("id") if isinstance(request, dict) else None
        named = named.lower() if isinstance(named, str) else None
        tasks = _tasks(exchange.body)
        with self._lock:
            # Deleted before this request was sent: only then must it be gone.
            gone = {
                task_id
                for task_id in [named, *(str(task.get("id", "")).lower() for task in tasks)]
                if task_id is not None
                and self._deleted.get(task_id, exchange.sent_at + 1) <= exchange.sent_at
            }
            if exchange.operation == "DeleteTask" and named is not None:
                self._deleted.setdefault(named, exchange.received_at)
        problems: list[CheckFailed] = []
        if exchange.operation in _TASK_ID_METHODS and named in gone:
            problems.append(
                CheckFailed(
                    DELETED_TASK_NOT_FOUND,
                    f"HTTP 200 from {exchange.operation} on task {named}, deleted before",
                    'HTTP 404 {"code": "not_found"}: a deleted task is gone',
                )
            )
        shown = [task for task in tasks if str(task.get("id", "")).lower() in gone]
        if shown and not problems:
            problems.append(
                CheckFailed(
                    DELETED_TASK_NOT_FOUND,
                    f"{exchange.operation} shows task {shown[0].get('id')}, deleted before",
                    "no response shows a deleted task",
                )
            )
        return problems
