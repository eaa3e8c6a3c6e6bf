"""Task execution phases: the enum, the declarative transition table, the terminal set."""

from __future__ import annotations

from mockserver.domain.errors import InvalidArgument
from openapi.models import TaskExecutionPhase as Phase  # names: JSON; values: proto numbers

__all__ = [
    "EXECUTION_TRANSITIONS",
    "FAILED",
    "PENDING",
    "RUNNING",
    "STEP_TRANSITIONS",
    "STOPPED",
    "SUCCEEDED",
    "TERMINAL",
    "UNSPECIFIED",
    "Phase",
    "can_reach",
    "can_transition",
    "parse_phase",
    "parse_phase_filter",
]

UNSPECIFIED = Phase.TASK_EXECUTION_PHASE_UNSPECIFIED
PENDING = Phase.TASK_EXECUTION_PHASE_PENDING
RUNNING = Phase.TASK_EXECUTION_PHASE_RUNNING
SUCCEEDED = Phase.TASK_EXECUTION_PHASE_SUCCEEDED
FAILED = Phase.TASK_EXECUTION_PHASE_FAILED
STOPPED = Phase.TASK_EXECUTION_PHASE_STOPPED

TERMINAL: frozenset[Phase] = frozenset({SUCCEEDED, FAILED, STOPPED})
"""Phases that never change once reached."""

EXECUTION_TRANSITIONS: frozenset[tuple[Phase, Phase]] = frozenset(
    {
        (PENDING, RUNNING),  # the pending delay elapsed: the first group starts
        (PENDING, STOPPED),  # stopped, or its task deleted, before anything ran
        (RUNNING, SUCCEEDED),  # the last group's steps all succeeded
        (RUNNING, FAILED),  # a step failed; later groups never start
        (RUNNING, STOPPED),  # stopped, or its task deleted, while running
    }
)
"""Every (from, to) change an execution's phase may make; nothing leaves a terminal phase."""

STEP_TRANSITIONS: frozenset[tuple[Phase, Phase]] = frozenset(
    {
        (RUNNING, SUCCEEDED),
        (RUNNING, FAILED),
        (RUNNING, STOPPED),  # execution stopped, or a sibling step failed first
    }
)
"""A step appears in ``status.steps`` as RUNNING when it starts and may then end once."""


def can_transition(before: Phase, after: Phase, *, step: bool = False) -> bool:
    """Whether an observed change ``before -> after`` (or no change) is allowed."""
    if before == after:
        return True
    table = STEP_TRANSITIONS if step else EXECUTION_TRANSITIONS
    return (before, after) in table


def can_reach(before: Phase, after: Phase, *, step: bool = False) -> bool:
    """Whether ``after`` can be observed some time after ``before`` (zero or more changes).

    Two reads may be several transitions apart (PENDING, then SUCCEEDED).
    """
    table = STEP_TRANSITIONS if step else EXECUTION_TRANSITIONS
    frontier, seen = [before], {before}
    while frontier:
        current = frontier.pop()
        if current == after:
            return True
        for source, target in table:
            if source == current and target not in seen:
                seen.add(target)
                frontier.append(target)
    return False


def parse_phase(value: object, path: str) -> Phase:
    """A phase from its JSON name or enum number; :class:`InvalidArgument` if undefined."""
    try:
        if isinstance(value, str):
            return Phase[value]
        if isinstance(value, int) and not isinstance(value, bool):
            return Phase(value)
    except (KeyError, ValueError):
        pass
    raise InvalidArgument(f"{path}: {value!r} is not a defined TaskExecutionPhase")


def parse_phase_filter(value: object, path: str) -> Phase | int:
    """A phase a list filter asks for: a defined phase, or an undefined enum number.

    The descriptor gives ``ListTaskExecutionsRequest.filter.phases`` no ``defined_only``
    rule and proto3 JSON parsers keep an unknown enum number (written ``58`` or ``2.0``),
    so such a number is a valid filter item that no execution matches.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Phase(value)
        except ValueError:
            return value
    return parse_phase(value, path)
