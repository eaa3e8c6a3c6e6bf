"""A recording of real traffic (``contracts proxy --record``) turned into the fake's state.

``python -m mockserver import-recording FILE [--caller ALIAS] > state.json`` prints an
export (``GET /_mock/state``'s format) holding one caller's tasks and executions as the
recorded server last showed them; ``PUT /_mock/state`` with a token loads it as that
token's tenant, so the same reads return the same resources. The recording format is
documented in ``docs/proxy.md`` and read by :mod:`openapi.recording`, below the fake and
the suite alike (the fake never imports the suite).

- A task is its last rendering in any answer (CreateTask, GetTask, ListTasks); an
  UpdateTask answered ``ok`` after it applies the fields it sent; a DeleteTask answered
  ``ok`` removes it.
- An execution is its last rendering (StartTask, GetTaskExecution, ListTaskExecutions),
  turned into a plan the fake replays: the pending delay and the groups' durations are
  worked out from ``createdAt``, ``startedAt`` and ``completedAt``, so that at the
  recording's last instant the fake shows the phase, the steps' phases, their outputs and
  failure messages, and the timestamps the recorded server answered. What was still
  running goes on for the fake's default durations (1 s pending, 2 s per step) from the
  moment it was last seen; a StopTaskExecution answered ``ok`` stops it there.
- The tenant's clock is set to the recording's last instant, or to the latest instant a
  recorded execution reports if that is later (on a ``--clock manual`` fake).
  ``statusVersion`` is the fake's own count, and ``logUrl`` points at the fake.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mockserver.domain.timestamps import format_timestamp, micros_to_seconds, parse_timestamp
from mockserver.domain.types import JsonObject, Micros
from openapi.recording import ANONYMOUS, Entry, RecordingError, read_recording

__all__ = ["convert", "main"]

_PENDING_US: Micros = 1_000_000  # the fake's default pending delay
_STEP_US: Micros = 2_000_000  # ... and step duration
_SUCCEEDED = "TASK_EXECUTION_PHASE_SUCCEEDED"
_FAILED = "TASK_EXECUTION_PHASE_FAILED"
_STOPPED = "TASK_EXECUTION_PHASE_STOPPED"
_TERMINAL = frozenset({_SUCCEEDED, _FAILED, _STOPPED})


@dataclass
class _Seen:
    """The last rendering of an execution, when it was seen, and a stop after it."""

    execution: JsonObject
    seen_us: Micros
    stopped_us: Micros | None = None


@dataclass
class _Tenant:
    tasks: dict[str, JsonObject] = field(default_factory=dict)
    executions: dict[str, _Seen] = field(default_factory=dict)
    last_us: Micros | None = None


def _objects(value: object) -> list[JsonObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _apply_update(task: JsonObject, request: JsonObject) -> JsonObject:
    """The task after an UpdateTask: each field the request sent replaces the stored one."""
    updated: JsonObject = json.loads(json.dumps(task))
    metadata = request.get("metadata")
    if isinstance(metadata, dict):
        target = updated.setdefault("metadata", {})
        for name in ("name", "description"):
            if name in metadata:
                target[name] = metadata[name]
        triggers = metadata.get("triggeredBy")
        if isinstance(triggers, dict):
            target["triggeredBy"] = triggers.get("trigger") or []
    spec = request.get("spec")
    if isinstance(spec, dict):
        target = updated.setdefault("spec", {})
        for name in ("command", "env", "runsOn"):
            if name in spec:
                target[name] = spec[name]
    if isinstance(request.get("dependsOn"), list):
        updated["dependsOn"] = request["dependsOn"]
    return updated


def _replay(entries: list[Entry]) -> _Tenant:
    tenant = _Tenant()
    for entry in entries:
        when = _when(entry)
        tenant.last_us = max(tenant.last_us or when, when)
        method, request, response = entry.method, entry.request, entry.response
        if entry.status != 200 or not isinstance(response, dict):
            continue
        request = request if isinstance(request, dict) else {}
        named = str(request.get("id", ""))
        for task in _objects([response.get("task")]) + _objects(response.get("tasks")):
            if isinstance(task.get("id"), str):
                tenant.tasks[task["id"]] = task
        executions = _objects([response.get("taskExecution")])
        for execution in executions + _objects(response.get("taskExecutions")):
            if isinstance(execution.get("id"), str):
                # The server's time is at least the latest instant it reports (a fake on
                # a manual clock may be ahead of the wall time the recording gives).
                seen_us = max(when, _latest(execution))
                tenant.executions[execution["id"]] = _Seen(execution, seen_us)
                tenant.last_us = max(tenant.last_us or seen_us, seen_us)
        if method == "UpdateTask" and named in tenant.tasks:
            tenant.tasks[named] = _apply_update(tenant.tasks[named], request)
        elif method == "DeleteTask":
            tenant.tasks.pop(named, None)
        elif method == "StopTaskExecution" and named in tenant.executions:
            seen = tenant.executions[named]
            status = seen.execution.get("status") or {}
            if status.get("phase") not in _TERMINAL and seen.stopped_us is None:
                seen.stopped_us = when
    return tenant


def _latest(execution: JsonObject) -> Micros:
    metadata = execution.get("metadata") if isinstance(execution.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    stamps = [_stamp(metadata, name) for name in ("createdAt", "startedAt", "completedAt")]
    return max((stamp for stamp in stamps if stamp is not None), default=0)


def _stamp(metadata: JsonObject, name: str) -> Micros | None:
    value = metadata.get(name)
    return parse_timestamp(value) if isinstance(value, str) and value else None


def _step(
    planned: JsonObject, duration_us: Micros, *, fail: bool, status: JsonObject
) -> JsonObject:
    task = planned.get("task") if isinstance(planned.get("task"), dict) else {}
    assert isinstance(task, dict)
    out: JsonObject = {"id": planned.get("id"), "taskId": task.get("id")}
    if planned.get("label"):
        out["label"] = planned["label"]
    out["spec"] = task.get("spec") or {}
    if planned.get("dependsOn"):
        out["dependsOn"] = planned["dependsOn"]
    out["outcome"] = "fail" if fail else "succeed"
    out["duration"] = micros_to_seconds(max(duration_us, 0))
    if status.get("failureMessage"):
        out["failureMessage"] = status["failureMessage"]
    if status.get("output"):
        out["output"] = status["output"]
    return out


def _execution(seen: _Seen, references: dict[str, str]) -> JsonObject:
    """An execution record whose timeline shows, at its last sighting, what was recorded."""
    execution = seen.execution
    metadata = execution.get("metadata") if isinstance(execution.get("metadata"), dict) else {}
    status = execution.get("status") if isinstance(execution.get("status"), dict) else {}
    spec = execution.get("spec") if isinstance(execution.get("spec"), dict) else {}
    assert isinstance(metadata, dict) and isinstance(status, dict) and isinstance(spec, dict)
    created = _stamp(metadata, "createdAt")
    if created is None:
        raise RecordingError(f"execution {execution.get('id')}: no createdAt")
    started = _stamp(metadata, "startedAt")
    completed = _stamp(metadata, "completedAt")
    phase = status.get("phase")
    if completed is None and seen.stopped_us is not None:
        completed, phase = seen.stopped_us, _STOPPED
    cut = completed if completed is not None else seen.seen_us
    steps_now = {str(s.get("id")): s for s in _objects(status.get("steps"))}
    groups = [_objects(group.get("steps")) for group in _objects(spec.get("plan"))]
    groups = [group for group in groups if group]
    if not groups:
        raise RecordingError(f"execution {execution.get('id')}: no steps in its plan")

    def ended(step: JsonObject) -> bool:
        return steps_now.get(str(step.get("id")), {}).get("phase") == _SUCCEEDED

    finished = 0
    while finished < len(groups) and all(ended(step) for step in groups[finished]):
        finished += 1
    current = finished < len(groups) and any(
        str(step.get("id")) in steps_now for step in groups[finished]
    )
    slots = finished + (1 if current else 0)
    plan: list[JsonObject] = []
    if started is None:
        pending = max(cut - created, 0) + _PENDING_US
        plan = [
            {"steps": [_step(s, _STEP_US, fail=False, status={}) for s in group]}
            for group in groups
        ]
    else:
        pending = started - created
        span = max(cut - started, 0)
        slot = span // slots if slots else 0
        for index, group in enumerate(groups):
            rendered: list[JsonObject] = []
            for planned in group:
                now = steps_now.get(str(planned.get("id")), {})
                if index < finished:
                    last = index == slots - 1
                    duration = span - slot * (slots - 1) if last else slot
                    rendered.append(_step(planned, duration, fail=False, status=now))
                elif index == finished and current:
                    took = span - slot * (slots - 1)
                    fails = now.get("phase") == _FAILED
                    runs_on = now.get("phase") not in (_SUCCEEDED, _FAILED)
                    duration = took + (_STEP_US if runs_on else 0)
                    rendered.append(_step(planned, duration, fail=fails, status=now))
                else:
                    rendered.append(_step(planned, _STEP_US, fail=False, status={}))
            plan.append({"steps": rendered})
    if phase == _STOPPED and completed is not None:
        _stop_before_the_end(plan, created + pending, completed)
    task_id = str(metadata.get("taskId", ""))
    out: JsonObject = {
        "id": execution.get("id"),
        "taskId": task_id,
        "environmentId": metadata.get("environmentId"),
    }
    if references.get(task_id):
        out["taskReference"] = references[task_id]
    out["createdAt"] = format_timestamp(created)
    out["creator"] = metadata.get("creator") or {}
    if metadata.get("startedBy"):
        out["startedBy"] = metadata["startedBy"]
    out["pendingDelay"] = micros_to_seconds(pending)
    if phase == _STOPPED and completed is not None:
        out["stoppedAt"] = format_timestamp(completed)
    out["plan"] = plan
    return out


def _stop_before_the_end(plan: list[JsonObject], running_us: Micros, stopped_us: Micros) -> None:
    """A stop must cut the timeline: if the plan would have ended by then (a stop seen
    just as the last group ended), its last group runs a microsecond longer."""
    end = running_us + sum(
        max(round(step["duration"] * 1_000_000) for step in group["steps"]) for group in plan
    )
    if end <= stopped_us:
        extra = micros_to_seconds(stopped_us - end + 1)
        for step in plan[-1]["steps"]:
            step["duration"] = step["duration"] + extra


def _when(entry: Entry) -> Micros:
    try:
        return parse_timestamp(entry.time)
    except ValueError as error:
        raise RecordingError(f"entry #{entry.seq}: time {entry.time!r}: {error}") from None


def convert(entries: Sequence[Entry], caller: str | None = None) -> JsonObject:
    """The export (``PUT /_mock/state``) of one caller's resources in ``entries``.

    ``caller`` may be left out when the recording has one caller (besides ``anonymous``).
    """
    callers = list(dict.fromkeys(e.caller for e in entries if e.caller != ANONYMOUS))
    if caller is None:
        if len(callers) > 1:
            raise RecordingError(
                f"the recording has {len(callers)} callers ({', '.join(callers)}); "
                "choose one with --caller"
            )
        caller = callers[0] if callers else ANONYMOUS
    elif caller not in callers:
        raise RecordingError(f"no caller {caller!r} in the recording ({', '.join(callers)})")
    tenant = _replay([entry for entry in entries if entry.caller == caller])
    references = {
        task_id: str((task.get("metadata") or {}).get("reference", ""))
        for task_id, task in tenant.tasks.items()
    }
    tasks = []
    for task in tenant.tasks.values():
        kept = [dep for dep in task.get("dependsOn") or [] if dep in tenant.tasks]
        tasks.append({**task, "dependsOn": kept} if kept else _without(task, "dependsOn"))
    executions = [_execution(seen, references) for seen in tenant.executions.values()]
    out: JsonObject = {"tasks": tasks, "executions": executions}
    if tenant.last_us is not None:
        out["clock"] = format_timestamp(tenant.last_us)
    document: JsonObject = {"version": 1, "tenants": {caller: out}}
    if tenant.last_us is not None:
        document["clock"] = format_timestamp(tenant.last_us)
    return document


def _without(task: JsonObject, key: str) -> JsonObject:
    return {name: value for name, value in task.items() if name != key}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mockserver import-recording",
        description="Print the fake's state (an export for PUT /_mock/state) made of what a "
        "recording (contracts proxy --record) shows of one caller's tasks and executions.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the recording (JSON Lines)")
    parser.add_argument(
        "--caller", metavar="ALIAS", help="whose resources (caller-1, ...): needed when several"
    )
    args = parser.parse_args(argv)
    try:
        document = convert(list(read_recording(args.file)), args.caller)
    except (RecordingError, ValueError) as error:
        print(f"mockserver import-recording: error: {error}", file=sys.stderr)
        return 1
    json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0
