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
    "EXECUTION_TIMESTAMPS_ORDERED",
    "STATUS_VERSION_MONOTONIC",
    "TERMINAL_PHASES",
    "TERMINAL_PHASE_IS_FINAL",
    "ExecutionLedger",
    "parse_timestamp",
]

TERMINAL_PHASE_IS_FINAL = "terminal_phase_is_final"
STATUS_VERSION_MONOTONIC = "status_version_monotonic"
EXECUTION_TIMESTAMPS_ORDERED = "execution_timestamps_ordered"
COMPLETED_AT_IFF_TERMINAL = "completed_at_iff_terminal"

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

    def __init__(self, findings: Findings) -> None:
        self._findings = findings
        self._lock = threading.Lock()
        self._sightings: dict[str, list[_Sighting]] = {}

    def __call__(self, suite: str, exchange: Exchange) -> None:
        if exchange.status != 200:
            return
        for execution in _executions(exchange.body):
            for problem in self._observe(execution, exchange):
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
