"""Universal invariants of task executions, checked on every execution any response shows.

The ledger is an observer of the client: it sees every exchange of every suite, records
each ``taskExecution`` it finds by id, and compares each sighting with the earlier ones.
Two sightings are only compared when the second request was sent after the first
response had arrived, so concurrent workers never produce a false alarm.
"""

from __future__ import annotations

import itertools
import json
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
    "EXECUTION_FACTS_FIXED",
    "EXECUTION_TIMESTAMPS_ORDERED",
    "PLAN_GROUPS_IN_ORDER",
    "STATUS_STEPS_IN_PLAN",
    "STATUS_VERSION_IDENTIFIES_STATUS",
    "STATUS_VERSION_MONOTONIC",
    "TASK_FACTS_FIXED",
    "TERMINAL_PHASES",
    "TERMINAL_PHASE_IS_FINAL",
    "DeletedTaskLedger",
    "ExecutionLedger",
    "TaskLedger",
    "parse_timestamp",
]

TERMINAL_PHASE_IS_FINAL = "terminal_phase_is_final"
STATUS_VERSION_MONOTONIC = "status_version_monotonic"
EXECUTION_TIMESTAMPS_ORDERED = "execution_timestamps_ordered"
COMPLETED_AT_IFF_TERMINAL = "completed_at_iff_terminal"
DELETED_TASK_NOT_FOUND = "deleted_task_not_found"
# The reference: "If a.status_version < b.status_version then a was the status before b",
# so one version names one status: two different statuses never share it. (That a later
# status never has a smaller one is status_version_monotonic.)
STATUS_VERSION_IDENTIFIES_STATUS = "status_version_identifies_status"
# createdAt, creator, taskId, environmentId: facts of an execution's start; startedAt and
# completedAt: facts once they happened. No read, of any method, may show another value.
EXECUTION_FACTS_FIXED = "execution_facts_fixed"
# A task's environmentId, reference (UpdateTask has no field for either), createdAt and
# creator ("the time the task was created", "the principal who created the task").
TASK_FACTS_FIXED = "task_facts_fixed"
# status.steps "provides the status for each individual step of the task execution": each
# is a step of spec.plan, named by its id.
STATUS_STEPS_IN_PLAN = "status_steps_in_plan"
# "The steps in a group are executed concurrently, while the groups are executed
# sequentially", and "if a step is missing it has not yet started": a step of a group has
# started only when every step of the groups before it has started and finished.
PLAN_GROUPS_IN_ORDER = "plan_groups_in_order"
# A step shown in these phases may be listed ahead of its start ("missing" implies "not
# started", not the other way round), so it says nothing about the order of the groups.
_NOT_STARTED = frozenset({"", "TASK_EXECUTION_PHASE_UNSPECIFIED", "TASK_EXECUTION_PHASE_PENDING"})

_EXECUTION_FACTS = ("createdAt", "creator", "taskId", "environmentId", "startedAt", "completedAt")
# Facts that are set once, later than the first sighting: a later read may not lose them.
_EXECUTION_FACTS_SET_LATER = ("startedAt", "completedAt")
_TASK_FACTS = ("environmentId", "reference", "createdAt", "creator")

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
    status: str = ""  # the status as compared between sightings (see _status_key)
    facts: tuple[tuple[str, object], ...] = ()  # the execution's fixed facts, where shown


def _fact(name: str, value: object) -> object:
    """A fact as compared: timestamps by the instant they name, not by their spelling."""
    if name.endswith("At"):
        return parse_timestamp(value) or value
    return value


def _facts(record: dict[str, Any], names: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    """The facts ``names`` that ``record`` shows (absent or empty ones are not shown)."""
    return tuple(
        (name, _fact(name, record[name]))
        for name in names
        if record.get(name) not in (None, "", {}, [])
    )


def _changed(
    earlier: tuple[tuple[str, object], ...], later: tuple[tuple[str, object], ...]
) -> list[str]:
    """The names of the facts both show with different values."""
    known = dict(earlier)
    return [name for name, value in later if name in known and known[name] != value]


def _status_key(status: dict[str, Any]) -> str:
    """The status less its version and ``logUrl`` (a deployment may sign that anew on each
    read), with absent and default values alike, as one comparable string."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v not in (None, "", [], {}, 0)}
        if isinstance(value, list):
            items = [plain(item) for item in value]
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return value

    kept = {k: v for k, v in status.items() if k not in ("statusVersion", "logUrl")}
    return json.dumps(plain(kept), sort_keys=True)


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


class _Ledger:
    """An observer of the client that records what it sees and reports, as failures of
    the suite that sent it, the promises an answer breaks; :meth:`observe` says which
    (the validating proxy calls it directly, for traffic the suite did not write)."""

    def __init__(self, findings: Findings | None = None) -> None:
        self._findings = findings if findings is not None else Findings()
        self._lock = threading.Lock()

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
        """Record what ``exchange`` shows; the promises it breaks, if any."""
        raise NotImplementedError


class ExecutionLedger(_Ledger):
    """Every sighting of every execution, and the invariant checks run on each new one."""

    def __init__(self, findings: Findings | None = None) -> None:
        super().__init__(findings)
        self._sightings: dict[str, list[_Sighting]] = {}

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
        problems += _steps_problems(execution_id, execution, status)
        current = _Sighting(
            phase,
            _version(status),
            exchange.sent_at,
            exchange.received_at,
            exchange.curl,
            _status_key(status),
            _facts(metadata, _EXECUTION_FACTS),
        )
        with self._lock:
            every = list(self._sightings.get(execution_id, []))
            self._sightings.setdefault(execution_id, []).append(current)
        earlier = [s for s in every if s.received_at <= current.sent_at]
        # Versions and fixed facts need no order between the reads: concurrent ones too.
        problems += _same_version_problems(execution_id, current, every)
        problems += _fact_problems(execution_id, current, every, earlier)
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


def _steps_problems(
    execution_id: str, execution: dict[str, Any], status: dict[str, Any]
) -> list[CheckFailed]:
    spec = execution.get("spec")
    plan = spec.get("plan") if isinstance(spec, dict) else None
    if not isinstance(plan, list) or not plan:
        return []  # no plan shown: nothing to hold the steps to
    groups = [
        [step.get("id") for step in group["steps"] if isinstance(step, dict)]
        for group in plan
        if isinstance(group, dict) and isinstance(group.get("steps"), list)
    ]
    planned = {step for group in groups for step in group}
    steps = status.get("steps")
    phases = {
        step.get("id"): str(step.get("phase", ""))
        for step in (steps if isinstance(steps, list) else [])
        if isinstance(step, dict)
    }
    unknown = sorted(str(step) for step in phases if step not in planned)
    if unknown:
        return [
            CheckFailed(
                STATUS_STEPS_IN_PLAN,
                f"execution {execution_id} with status of step(s) {', '.join(unknown[:3])}, "
                "which its plan does not have",
                f"status.steps only of the plan's steps "
                f"({', '.join(sorted(map(str, planned))[:3])})",
            )
        ]
    return _group_order_problems(execution_id, groups, phases)


def _group_order_problems(
    execution_id: str, groups: list[list[Any]], phases: dict[Any, str]
) -> list[CheckFailed]:
    """A started step of group n while a step of an earlier group is missing or unfinished."""
    unfinished: list[str] = []  # steps of the groups so far that had not finished
    for number, group in enumerate(groups, 1):
        started = [step for step in group if phases.get(step, "") not in _NOT_STARTED]
        if started and unfinished:
            return [
                CheckFailed(
                    PLAN_GROUPS_IN_ORDER,
                    f"execution {execution_id} with step {started[0]} of group {number} "
                    f"started while {'; '.join(unfinished[:3])}",
                    "the plan's groups run one after another: a group's steps start only "
                    "when every step of the groups before it has finished",
                )
            ]
        unfinished += [
            f"step {step} of group {number} is "
            + (phases[step].removeprefix("TASK_EXECUTION_PHASE_") if step in phases else "absent")
            for step in group
            if phases.get(step) not in TERMINAL_PHASES
        ]
    return []


def _same_version_problems(
    execution_id: str, current: _Sighting, every: list[_Sighting]
) -> list[CheckFailed]:
    if current.version is None:
        return []
    for other in every:
        if other.version == current.version and other.status != current.status:
            return [
                CheckFailed(
                    STATUS_VERSION_IDENTIFIES_STATUS,
                    f"execution {execution_id} at statusVersion {current.version} with status "
                    f"{current.status[:200]}, another read at the same version with "
                    f"{other.status[:200]}",
                    "one status per statusVersion: a changed status has a greater version "
                    '(the reference: "if a.status_version < b.status_version then a was the '
                    'status before b")',
                )
            ]
    return []


def _fact_problems(
    execution_id: str, current: _Sighting, every: list[_Sighting], earlier: list[_Sighting]
) -> list[CheckFailed]:
    for other in every:
        changed = _changed(other.facts, current.facts)
        if changed:
            before, now = dict(other.facts), dict(current.facts)
            shown = "; ".join(f"{name} {now[name]} (was {before[name]})" for name in changed)
            return [
                CheckFailed(
                    EXECUTION_FACTS_FIXED,
                    f"execution {execution_id} with {shown}",
                    "createdAt, creator, taskId and environmentId, and startedAt and "
                    "completedAt once set, the same in every read",
                )
            ]
    shown_now = {name for name, _ in current.facts}
    for other in earlier:
        lost = [
            name
            for name, _ in other.facts
            if name in _EXECUTION_FACTS_SET_LATER and name not in shown_now
        ]
        if lost:
            return [
                CheckFailed(
                    EXECUTION_FACTS_FIXED,
                    f"execution {execution_id} without {', '.join(lost)}",
                    f"{', '.join(lost)} kept, as an earlier read showed: what happened stays",
                )
            ]
    return []


class TaskLedger(_Ledger):
    """Every sighting of every task's fixed facts (see :data:`TASK_FACTS_FIXED`).

    An observer of the client like :class:`ExecutionLedger`: CreateTask, GetTask and
    ListTasks answers of any suite (and of any caller) feed it.
    """

    def __init__(self, findings: Findings | None = None) -> None:
        super().__init__(findings)
        self._facts: dict[str, tuple[tuple[str, object], ...]] = {}

    def observe(self, exchange: Exchange) -> list[CheckFailed]:
        """Record the tasks ``exchange`` shows; the facts it changes, if any."""
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            return []
        body = exchange.body
        tasks = [body["task"]] if isinstance(body.get("task"), dict) else []
        if isinstance(body.get("tasks"), list):
            tasks += [task for task in body["tasks"] if isinstance(task, dict)]
        problems: list[CheckFailed] = []
        for task in tasks:
            if isinstance(task.get("id"), str):
                problems += self._observe(task)
        return problems

    def _observe(self, task: dict[str, Any]) -> list[CheckFailed]:
        metadata = task.get("metadata") if isinstance(task.get("metadata"), dict) else {}
        assert isinstance(metadata, dict)
        facts = _facts({**metadata, "environmentId": task.get("environmentId")}, _TASK_FACTS)
        with self._lock:
            known = self._facts.setdefault(task["id"], facts)
            if known is not facts:
                # Facts a read showed for the first time join the known ones.
                self._facts[task["id"]] = known + tuple(
                    fact for fact in facts if fact[0] not in dict(known)
                )
        changed = _changed(known, facts)
        if not changed:
            return []
        before, now = dict(known), dict(facts)
        shown = "; ".join(f"{name} {now[name]} (was {before[name]})" for name in changed)
        return [
            CheckFailed(
                TASK_FACTS_FIXED,
                f"task {task['id']} with {shown}",
                "environmentId, reference, createdAt and creator as first read: no method "
                "changes them",
            )
        ]


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


class DeletedTaskLedger(_Ledger):
    """A deleted task is gone: what a caller sees after a DeleteTask was answered.

    Passive, for traffic the suite did not write (the validating proxy): once a DeleteTask
    of an id succeeded, a request sent after that answer may not read, update, delete or
    start the task (each must fail), nor may a response show it.
    """

    def __init__(self, findings: Findings | None = None) -> None:
        super().__init__(findings)
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
