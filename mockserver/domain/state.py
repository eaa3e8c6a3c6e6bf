"""Export and import of tenant state as plain JSON.

Format (version 1)::

    {"version": 1,
     "clock": "<RFC 3339 time of the export>",
     "tenants": {"<subject id>": {"tasks": [<Task as the API renders it>, ...],
                                  "executions": [<execution record>, ...],
                                  "scenario": <the tenant's own scenario, if it has one>,
                                  "clock": "<the tenant's time, if not the export's>"}}}

Tenants are keyed by the caller's subject id (a UUID derived from the token), so an export
never contains a token. An execution record keeps what the API cannot show: the resolved
behaviour of every step and the instant it was stopped::

    {"id", "taskId", "environmentId", "taskReference", "createdAt", "creator", "startedBy",
     "pendingDelay": <seconds>, "stoppedAt": <RFC 3339, only if stopped>,
     "plan": [{"steps": [{"id", "taskId", "label", "spec", "dependsOn", "outcome":
               "succeed"|"fail", "duration": <seconds>, "failureMessage", "output", "logs"}]}]}

Keys at their default value are omitted, as in the API. Import validates everything and
raises :class:`InvalidArgument` naming the path of the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from mockserver.domain import graph, protojson
from mockserver.domain.errors import InvalidArgument
from mockserver.domain.executions import ExecutionRecord, StepPlan
from mockserver.domain.protojson import AUTOMATION_TRIGGER, SUBJECT, TASK_SPEC
from mockserver.domain.scenario import Scenario, ScenarioError
from mockserver.domain.store import TenantStore
from mockserver.domain.tasks import TaskRecord, task_json
from mockserver.domain.timestamps import (
    format_timestamp,
    micros_to_seconds,
    parse_timestamp,
    seconds_to_micros,
)
from mockserver.domain.types import JsonObject, Micros

STATE_VERSION = 1


# -- export -----------------------------------------------------------------------------


def export_tenant(
    store: TenantStore,
    scenario: Scenario | None = None,
    clock_us: Micros | None = None,
    *,
    shared: bool = False,
) -> JsonObject:
    """One tenant's state, JSON-serializable, in creation order, with its own scenario and
    clock when it has them.

    An export belongs to its caller, a rendered task to the store, so tasks are copied;
    with ``shared`` they are not (a caller that only serializes the export saves the copy,
    half the time of an export at 100,000 tasks).
    """
    rendered = (task_json(store.tasks[key[1]]) for key in store.task_index.after(None))
    tasks = list(rendered) if shared else [protojson.clone(task) for task in rendered]
    executions = [
        export_execution(store.executions[key[1]]) for key in store.execution_index.after(None)
    ]
    out: JsonObject = {"tasks": tasks, "executions": executions}
    if scenario is not None:
        out["scenario"] = scenario.to_dict()
    if clock_us is not None:
        out["clock"] = format_timestamp(clock_us)
    return out


def export_execution(record: ExecutionRecord) -> JsonObject:
    """The stored form of one execution."""
    out: JsonObject = {
        "id": record.id,
        "taskId": record.task_id,
        "environmentId": record.environment_id,
    }
    if record.task_reference:
        out["taskReference"] = record.task_reference
    out["createdAt"] = format_timestamp(record.created_us)
    out["creator"] = dict(record.creator)
    if record.started_by:
        out["startedBy"] = record.started_by
    out["pendingDelay"] = micros_to_seconds(record.pending_us)
    if record.stopped_us is not None:
        out["stoppedAt"] = format_timestamp(record.stopped_us)
    out["plan"] = [{"steps": [_export_step(step) for step in group]} for group in record.groups]
    return out


def _export_step(step: StepPlan) -> JsonObject:
    out: JsonObject = {"id": step.id, "taskId": step.task_id}
    if step.label:
        out["label"] = step.label
    out["spec"] = protojson.clone(step.spec)
    if step.depends_on:
        out["dependsOn"] = list(step.depends_on)
    out["outcome"] = "succeed" if step.succeed else "fail"
    out["duration"] = micros_to_seconds(step.duration_us)
    if step.failure_message:
        out["failureMessage"] = step.failure_message
    if step.output:
        out["output"] = dict(step.output)
    if step.logs:
        out["logs"] = list(step.logs)
    return out


# -- import -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """A tenant's own scenario and clock from an export (``None``: the server's)."""

    scenario: Scenario | None = None
    clock_us: Micros | None = None


@dataclass(frozen=True, slots=True)
class ParsedState:
    """A validated export: its clock, and per tenant key a store and its settings."""

    clock_us: Micros | None
    stores: dict[str, TenantStore]
    settings: dict[str, TenantSettings]


def parse_document(
    data: object, environments: frozenset[str] | None = None, *, trusted: bool = False
) -> ParsedState:
    """Validate a whole export; with ``environments``, every task and execution must
    belong to one of them. ``trusted``: the tasks were written by the fake itself (a
    ``--state`` file), so a task of the right shape is taken without re-validating each
    field; anything else is still validated in full."""
    doc = _object(data, "state")
    version = doc.get("version")
    if version != STATE_VERSION:
        raise InvalidArgument(f"state.version: expected {STATE_VERSION}, got {version!r}")
    clock = doc.get("clock")
    clock_us = None if clock is None else _timestamp(clock, "state.clock")
    raw_tenants = doc.get("tenants")
    tenants = _object({} if raw_tenants is None else raw_tenants, "state.tenants")
    stores: dict[str, TenantStore] = {}
    settings: dict[str, TenantSettings] = {}
    for key, value in tenants.items():
        if not key:
            raise InvalidArgument("state.tenants: empty tenant key")
        path = f"state.tenants[{key!r}]"
        stores[key] = store = parse_tenant(value, path, trusted=trusted)
        settings[key] = parse_settings(value, path)
        if environments is not None:
            _check_environments(store, environments, path)
    return ParsedState(clock_us, stores, settings)


def parse_settings(data: object, path: str) -> TenantSettings:
    """The tenant's ``scenario`` and ``clock``, if the export carries them."""
    tenant = _object(data, path)
    raw_scenario = tenant.get("scenario")
    scenario = None
    if raw_scenario is not None:
        try:
            scenario = Scenario.from_dict(raw_scenario)
        except ScenarioError as error:
            raise InvalidArgument(f"{path}.scenario: {error}") from None
    clock = tenant.get("clock")
    clock_us = None if clock is None else _timestamp(clock, f"{path}.clock")
    return TenantSettings(scenario, clock_us)


def _check_environments(store: TenantStore, environments: frozenset[str], path: str) -> None:
    for index, task in enumerate(store.tasks.values()):
        if task.environment_id not in environments:
            raise InvalidArgument(
                f"{path}.tasks[{index}].environmentId: environment {task.environment_id} "
                "is not one of the server's --environment ids"
            )
    for index, execution in enumerate(store.executions.values()):
        if execution.environment_id not in environments:
            raise InvalidArgument(
                f"{path}.executions[{index}].environmentId: environment "
                f"{execution.environment_id} is not one of the server's --environment ids"
            )


def parse_tenant(data: object, path: str, *, trusted: bool = False) -> TenantStore:
    """Validate one tenant's state and build its store (``trusted``: see
    :func:`parse_document`; references, dependencies and cycles are checked either way)."""
    tenant = _object(data, path)
    store = TenantStore()
    for index, raw in enumerate(_list(tenant.get("tasks"), f"{path}.tasks")):
        where = f"{path}.tasks[{index}]"
        task = _trusted_task(raw) if trusted else None
        if task is None:
            task = _parse_task(raw, where)
        if task.id in store.tasks:
            raise InvalidArgument(f"{where}.id: duplicate task id {task.id}")
        if task.reference and (task.environment_id, task.reference) in store.references:
            raise InvalidArgument(
                f"{where}.metadata.reference: {task.reference!r} is used twice in "
                f"environment {task.environment_id}"
            )
        store.add_task(task)
    for index, task in enumerate(store.tasks.values()):
        for dep in task.depends_on:
            other = store.tasks.get(dep)
            if other is None or other.environment_id != task.environment_id:
                raise InvalidArgument(
                    f"{path}.tasks[{index}].dependsOn: task {dep} is not a task of "
                    f"environment {task.environment_id}"
                )
    # One pass over the whole graph: a check per task was quadratic on a long chain.
    on_cycle = graph.cycle_member(store.tasks)
    if on_cycle is not None:
        index = list(store.tasks).index(on_cycle)
        raise InvalidArgument(f"{path}.tasks[{index}].dependsOn: dependency cycle")
    for index, raw in enumerate(_list(tenant.get("executions"), f"{path}.executions")):
        where = f"{path}.executions[{index}]"
        execution = _parse_execution(raw, where)
        if execution.id in store.executions:
            raise InvalidArgument(f"{where}.id: duplicate execution id {execution.id}")
        store.add_execution(execution)
    return store


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _trusted_task(raw: object) -> TaskRecord | None:
    """A task as the fake renders it, rebuilt with shape checks only (types, ids, the
    timestamp); ``None`` when the shape is off, and the caller validates in full (which
    names the problem). The spec, creator and triggers are taken as they are.

    At 100,000 tasks, full validation is about a third of a ``--state`` start-up."""
    if not isinstance(raw, dict):
        return None
    metadata = raw.get("metadata")
    spec = raw.get("spec", {})
    depends_on = raw.get("dependsOn", [])
    if not (isinstance(metadata, dict) and isinstance(spec, dict) and isinstance(depends_on, list)):
        return None
    task_id = raw.get("id")
    environment_id = raw.get("environmentId")
    created = metadata.get("createdAt")
    creator = metadata.get("creator", {})
    triggers = metadata.get("triggeredBy", [])
    reference = metadata.get("reference", "")
    name = metadata.get("name", "")
    description = metadata.get("description", "")
    if not (
        isinstance(task_id, str)
        and isinstance(environment_id, str)
        and _UUID.fullmatch(task_id) is not None
        and _UUID.fullmatch(environment_id) is not None
        and isinstance(created, str)
        and isinstance(creator, dict)
        and isinstance(triggers, list)
        and isinstance(reference, str)
        and isinstance(name, str)
        and isinstance(description, str)
        and all(isinstance(trigger, dict) for trigger in triggers)
        and all(isinstance(dep, str) and _UUID.fullmatch(dep) for dep in depends_on)
    ):
        return None
    try:
        created_us = parse_timestamp(created)
    except ValueError:
        return None
    return TaskRecord(
        id=task_id.lower(),
        environment_id=environment_id.lower(),
        created_us=created_us,
        creator=creator,
        reference=reference,
        name=name,
        description=description,
        triggered_by=tuple(triggers),
        spec=spec,
        depends_on=tuple(dep.lower() for dep in depends_on),
    )


def _parse_task(data: object, path: str) -> TaskRecord:
    task = _object(data, path)
    metadata = _object(task.get("metadata"), f"{path}.metadata")
    depends_on = protojson.id_list(task, "dependsOn", f"{path}.dependsOn")
    return TaskRecord(
        id=protojson.required_id(task, "id", f"{path}.id"),
        environment_id=protojson.required_id(task, "environmentId", f"{path}.environmentId"),
        created_us=_timestamp(metadata.get("createdAt"), f"{path}.metadata.createdAt"),
        creator=protojson.canonical(SUBJECT, metadata.get("creator") or {}, f"{path}.creator"),
        reference=protojson.string(metadata, "reference", f"{path}.metadata.reference"),
        name=protojson.string(metadata, "name", f"{path}.metadata.name"),
        description=protojson.string(metadata, "description", f"{path}.metadata.description"),
        triggered_by=tuple(
            protojson.canonical_list(
                AUTOMATION_TRIGGER,
                metadata.get("triggeredBy") or [],
                f"{path}.metadata.triggeredBy",
            )
        ),
        spec=protojson.canonical(TASK_SPEC, task.get("spec") or {}, f"{path}.spec"),
        depends_on=tuple(depends_on),
    )


def _parse_execution(data: object, path: str) -> ExecutionRecord:
    raw = _object(data, path)
    created_us = _timestamp(raw.get("createdAt"), f"{path}.createdAt")
    groups: list[tuple[StepPlan, ...]] = []
    step_ids: set[str] = set()
    raw_plan = _list(raw.get("plan"), f"{path}.plan")
    if not raw_plan:
        raise InvalidArgument(f"{path}.plan: an execution needs at least one group")
    for group_index, raw_group in enumerate(raw_plan):
        group_path = f"{path}.plan[{group_index}]"
        group_obj = _object(raw_group, group_path)
        steps: list[StepPlan] = []
        raw_steps = _list(group_obj.get("steps"), f"{group_path}.steps")
        if not raw_steps:
            raise InvalidArgument(f"{group_path}.steps: a group needs at least one step")
        for step_index, raw_step in enumerate(raw_steps):
            step = _parse_step(raw_step, f"{group_path}.steps[{step_index}]")
            if step.id in step_ids:
                raise InvalidArgument(f"{group_path}.steps[{step_index}].id: duplicate step id")
            step_ids.add(step.id)
            steps.append(step)
        groups.append(tuple(steps))
    stopped = raw.get("stoppedAt")
    record = ExecutionRecord(
        id=protojson.required_id(raw, "id", f"{path}.id"),
        task_id=protojson.required_id(raw, "taskId", f"{path}.taskId"),
        environment_id=protojson.required_id(raw, "environmentId", f"{path}.environmentId"),
        task_reference=protojson.string(raw, "taskReference", f"{path}.taskReference"),
        created_us=created_us,
        creator=protojson.canonical(SUBJECT, raw.get("creator") or {}, f"{path}.creator"),
        started_by=protojson.string(raw, "startedBy", f"{path}.startedBy"),
        pending_us=_duration(raw.get("pendingDelay"), f"{path}.pendingDelay"),
        groups=tuple(groups),
        stopped_us=None if stopped is None else _timestamp(stopped, f"{path}.stoppedAt"),
    )
    if record.stopped_us is not None and not (
        created_us <= record.stopped_us < record.timeline.finish_us
    ):
        raise InvalidArgument(
            f"{path}.stoppedAt: must lie between createdAt and the natural end of the "
            f"execution ({format_timestamp(record.timeline.finish_us)})"
        )
    return record


def _parse_step(data: object, path: str) -> StepPlan:
    raw = _object(data, path)
    outcome = raw.get("outcome", "succeed")
    if outcome not in ("succeed", "fail"):
        raise InvalidArgument(f"{path}.outcome: expected 'succeed' or 'fail', got {outcome!r}")
    output = _object(raw.get("output") or {}, f"{path}.output")
    for key, value in output.items():
        if not isinstance(value, str) or not key:
            raise InvalidArgument(f"{path}.output[{key!r}]: expected a non-empty key and a string")
    spec = protojson.canonical(TASK_SPEC, raw.get("spec") or {}, f"{path}.spec")
    return StepPlan(
        id=protojson.required_id(raw, "id", f"{path}.id"),
        task_id=protojson.required_id(raw, "taskId", f"{path}.taskId"),
        label=protojson.string(raw, "label", f"{path}.label"),
        spec=spec,
        depends_on=tuple(protojson.id_list(raw, "dependsOn", f"{path}.dependsOn")),
        succeed=outcome == "succeed",
        duration_us=_duration(raw.get("duration"), f"{path}.duration"),
        failure_message=protojson.string(raw, "failureMessage", f"{path}.failureMessage"),
        output=MappingProxyType(dict(output)),
        logs=tuple(protojson.string_list(raw, "logs", f"{path}.logs")),
        spec_bytes=len(orjson.dumps(spec)),
    )


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{path}: expected an object, got {_kind(value)}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgument(f"{path}: expected a list, got {_kind(value)}")
    return value


def _timestamp(value: object, path: str) -> Micros:
    if not isinstance(value, str):
        raise InvalidArgument(f"{path}: expected an RFC 3339 timestamp, got {_kind(value)}")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InvalidArgument(f"{path}: {exc}") from None


def _duration(value: object, path: str) -> Micros:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidArgument(f"{path}: expected a number of seconds >= 0, got {value!r}")
    if value > 10**9:
        raise InvalidArgument(f"{path}: {value!r} seconds is too long")
    return seconds_to_micros(value)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
