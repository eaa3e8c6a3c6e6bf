"""Task executions and their clock-derived progress.

Nothing runs in the background. An execution records what was planned when it was created
(the steps, their resolved durations and outcomes, the pending delay) and, if it was
stopped, when. :func:`view` derives everything observable at a given instant, without
mutating anything:

- PENDING for the pending delay, then the plan's groups run one after another; the steps
  of a group start together and each runs for its own duration; the group ends when its
  last step ends.
- The execution is RUNNING from the first group's start. It is SUCCEEDED when the last
  group ends with every step succeeded, and FAILED as soon as the first step that fails
  ends (its ``failureMessage`` becomes the execution's); sibling steps still running at
  that instant are STOPPED, and later groups never start (their steps stay absent).
- A stop (StopTaskExecution, or deleting the task) at instant *s* cuts the timeline there:
  steps that had not ended are STOPPED, the execution is STOPPED.
- ``statusVersion`` = 1 + the number of status changes up to now: each step start, each
  step end, the change to RUNNING and the change to a terminal phase (the stop included).
  It is a pure function of the time and so never decreases.

An event at instant *t* is visible to a read at *t*; StartTask's own response shows the
execution as created (PENDING, ``statusVersion`` "1") even when the pending delay is zero.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from mockserver.domain.phases import FAILED, PENDING, RUNNING, STOPPED, SUCCEEDED, Phase
from mockserver.domain.timestamps import format_timestamp
from mockserver.domain.types import JsonObject, Micros, TaskKey

STARTED_BY_MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One planned step: the task snapshot and the behaviour resolved at creation.

    ``spec`` is the task's own spec dict, shared, not copied: a task's spec is never
    changed (an update makes a new record and a new spec), and a copy per step made each
    start of an 8,000-step chain keep ~12 MB. ``spec_bytes`` is its JSON size."""

    id: str
    task_id: str
    label: str
    spec: JsonObject
    depends_on: tuple[str, ...]
    succeed: bool
    duration_us: Micros
    failure_message: str
    output: Mapping[str, str]
    logs: tuple[str, ...]
    spec_bytes: int


# An estimate of an execution's JSON bytes, rendered by the API or stored (--state, the
# export), from what it holds; rendering it to measure would cost what the estimate
# saves. Per execution its ids, times and status; per step its keys, ids, phase and
# times; per dependsOn id a quoted UUID and a comma; per log line its quotes and comma.
EXECUTION_BYTES = 1000
_STEP_BYTES = 260
_ID_BYTES = 39
_LINE_BYTES = 3
# What the web view's overview adds per step: its id and start and end times.
OVERVIEW_STEP_BYTES = 130


def step_bytes(step: StepPlan, log_bytes: int) -> int:
    """The estimated bytes one step adds to its execution (``log_bytes``: its logs')."""
    output = sum(len(key) + len(value) + 6 for key, value in step.output.items())
    return (
        _STEP_BYTES
        + step.spec_bytes
        + len(step.label)
        + len(step.failure_message)
        + output
        + _ID_BYTES * len(step.depends_on)
        + log_bytes
    )


def plan_bytes(groups: tuple[tuple[StepPlan, ...], ...]) -> int:
    """The estimated bytes of an execution with this plan, every step started.

    The logs count too: the API never shows them, but ``--state`` and the export keep
    them per step (1,000 lines of a scenario rule on each of 8,000 steps were 400 MB)."""
    total = EXECUTION_BYTES
    # Steps matched by one scenario rule share its tuple of lines: measure it once.
    log_sizes: dict[int, int] = {}
    for group in groups:
        for step in group:
            logs = step.logs
            size = log_sizes.get(id(logs))
            if size is None:
                size = log_sizes[id(logs)] = sum(len(line) + _LINE_BYTES for line in logs)
            total += step_bytes(step, size)
    return total


@dataclass(frozen=True, slots=True)
class Timeline:
    """When each step would start and end if nobody stopped the execution."""

    running_us: Micros
    # step id -> (start, end); steps of groups that never start are missing
    steps: Mapping[str, tuple[Micros, Micros]]
    finish_us: Micros
    final_phase: Phase
    failure_message: str


def natural_timeline(
    created_us: Micros, pending_us: Micros, groups: tuple[tuple[StepPlan, ...], ...]
) -> Timeline:
    """The unstopped timeline of a plan (see the module docstring)."""
    running = created_us + pending_us
    clock = running
    times: dict[str, tuple[Micros, Micros]] = {}
    for group in groups:
        failing: tuple[Micros, str] | None = None
        group_end = clock
        for step in group:
            end = clock + step.duration_us
            times[step.id] = (clock, end)
            group_end = max(group_end, end)
            # The earliest failing end wins; on a tie, the first step in plan order.
            if not step.succeed and (failing is None or end < failing[0]):
                failing = (end, step.failure_message)
        if failing is not None:
            return Timeline(running, times, failing[0], FAILED, failing[1])
        clock = group_end
    return Timeline(running, times, clock, SUCCEEDED, "")


@dataclass(slots=True, eq=False)
class ExecutionRecord:
    """A stored execution. Only ``stopped_us`` ever changes after creation."""

    id: str
    task_id: str
    environment_id: str
    task_reference: str
    created_us: Micros
    creator: JsonObject
    started_by: str
    pending_us: Micros
    groups: tuple[tuple[StepPlan, ...], ...]
    stopped_us: Micros | None = None
    timeline: Timeline = field(init=False)
    size: int = field(init=False)  # estimated JSON bytes (plan_bytes)
    step_count: int = field(init=False)

    def __post_init__(self) -> None:
        self.timeline = natural_timeline(self.created_us, self.pending_us, self.groups)
        self.size = plan_bytes(self.groups)
        self.step_count = sum(map(len, self.groups))

    @property
    def key(self) -> TaskKey:
        """Listing order key."""
        return (self.created_us, self.id)

    def steps(self) -> list[StepPlan]:
        """Every planned step, in plan order."""
        return [step for group in self.groups for step in group]


@dataclass(frozen=True, slots=True)
class StepStatus:
    """A started step as seen at some instant."""

    plan: StepPlan
    phase: Phase
    started_us: Micros
    ended_us: Micros | None


@dataclass(frozen=True, slots=True)
class ExecutionView:
    """Everything observable about an execution at one instant."""

    phase: Phase
    status_version: int
    started_us: Micros | None
    completed_us: Micros | None
    failure_message: str
    steps: tuple[StepStatus, ...]
    stopped: bool

    @property
    def terminal(self) -> bool:
        """Whether the phase is SUCCEEDED, FAILED or STOPPED."""
        return self.completed_us is not None


def initial_view(record: ExecutionRecord) -> ExecutionView:
    """The execution as created: PENDING, version 1, no steps."""
    return ExecutionView(PENDING, 1, None, None, "", (), False)


def view(record: ExecutionRecord, now: Micros) -> ExecutionView:
    """The execution as observed at ``now`` (see the module docstring)."""
    timeline = record.timeline
    stopped = record.stopped_us is not None
    end = record.stopped_us if record.stopped_us is not None else timeline.finish_us
    terminal = now >= end
    cut = end if terminal else now
    version = 1
    started_us: Micros | None = None
    if timeline.running_us <= cut:
        started_us = timeline.running_us
        version += 1
    statuses: list[StepStatus] = []
    for group in record.groups:
        for step in group:
            times = timeline.steps.get(step.id)
            if times is None or times[0] > cut:
                continue
            start, step_end = times
            version += 1
            if step_end <= cut:
                version += 1
                phase = SUCCEEDED if step.succeed else FAILED
                statuses.append(StepStatus(step, phase, start, step_end))
            elif terminal:
                statuses.append(StepStatus(step, STOPPED, start, end))
            else:
                statuses.append(StepStatus(step, RUNNING, start, None))
    if terminal:
        version += 1
        phase = STOPPED if stopped else timeline.final_phase
        message = timeline.failure_message if phase is FAILED else ""
        return ExecutionView(phase, version, started_us, end, message, tuple(statuses), stopped)
    phase = RUNNING if started_us is not None else PENDING
    return ExecutionView(phase, version, started_us, None, "", tuple(statuses), stopped)


def log_lines(record: ExecutionRecord, now: Micros) -> Iterator[str]:
    """The log lines emitted by ``now``, in time order, made as they are read: per
    started step a start line, its scenario lines spread evenly over its duration, and an
    end line (succeeded / failed / stopped). A reader that stops early (a size limit)
    costs only what it read: 1,000 lines on each of 8,000 steps made 717 MB at once.
    """
    current = view(record, now)
    cut = now if current.completed_us is None else min(now, current.completed_us)
    streams = [_step_lines(status, index, cut) for index, status in enumerate(current.steps)]
    # Each step's lines are in time order; ties go to the earlier step, then line.
    for _, text in heapq.merge(*streams):
        yield text


def _step_lines(
    status: StepStatus, index: int, cut: Micros
) -> Iterator[tuple[tuple[Micros, int, int], str]]:
    step = status.plan
    label = step.label or step.task_id
    started = status.started_us
    ended = status.ended_us
    limit = cut if ended is None else min(cut, ended)
    count = len(step.logs)
    timed: list[tuple[Micros, str]] = [(started, "step started")]
    lines = (
        (started + step.duration_us * (number + 1) // (count + 1), line)
        for number, line in enumerate(step.logs)
    )
    # A scenario's lines come in time order: those after the cut (or the stop) are not out.
    texts = itertools.chain(timed, itertools.takewhile(lambda item: item[0] <= limit, lines))
    if ended is not None and ended <= cut:
        if status.phase is SUCCEEDED:
            end_text = "step succeeded"
        elif status.phase is FAILED:
            end_text = f"step failed: {step.failure_message}"
        else:
            end_text = "step stopped"
        texts = itertools.chain(texts, [(ended, end_text)])
    for number, (when, text) in enumerate(texts):
        if when <= cut:
            yield (when, index, number), f"[{format_timestamp(when)}] [{label}] {text}"
