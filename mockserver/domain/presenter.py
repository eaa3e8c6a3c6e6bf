"""Proto3-JSON rendering of executions (tasks render in :mod:`tasks`).

Output is canonical: camelCase, ``statusVersion`` as a decimal string, RFC 3339 ``Z``
timestamps, enum names, default values omitted.
"""

from __future__ import annotations

from mockserver.domain.executions import ExecutionRecord, ExecutionView
from mockserver.domain.phases import FAILED, RUNNING, STOPPED, SUCCEEDED
from mockserver.domain.timestamps import format_timestamp
from mockserver.domain.types import JsonObject


def log_url(base: str, execution_id: str) -> str:
    """Where the fake serves an execution's log text."""
    return f"{base.rstrip('/')}/_mock/logs/{execution_id}"


def execution_json(
    record: ExecutionRecord, current: ExecutionView, log_url_base: str
) -> JsonObject:
    """The proto3-JSON ``TaskExecution`` as seen in ``current``: fresh objects but for
    the steps' specs, which are the store's (read them, never change them)."""
    metadata: JsonObject = {
        "taskId": record.task_id,
        "environmentId": record.environment_id,
        "createdAt": format_timestamp(record.created_us),
        "creator": dict(record.creator),
    }
    if record.started_by:
        metadata["startedBy"] = record.started_by
    if current.started_us is not None:
        metadata["startedAt"] = format_timestamp(current.started_us)
    if current.completed_us is not None:
        metadata["completedAt"] = format_timestamp(current.completed_us)

    plan: list[JsonObject] = []
    for group in record.groups:
        steps: list[JsonObject] = []
        for step in group:
            planned: JsonObject = {"id": step.id}
            if step.depends_on:
                planned["dependsOn"] = list(step.depends_on)
            if step.label:
                planned["label"] = step.label
            # The spec is shared, as a task's rendering is (see Backend.call): a copy
            # per step was most of the time of rendering a long plan.
            planned["task"] = {"id": step.task_id, "spec": step.spec}
            steps.append(planned)
        plan.append({"steps": steps} if steps else {})
    spec: JsonObject = {
        "desiredPhase": (STOPPED if current.stopped else RUNNING).name,
        "plan": plan,
    }

    status: JsonObject = {
        "phase": current.phase.name,
        "statusVersion": str(current.status_version),
    }
    if current.failure_message:
        status["failureMessage"] = current.failure_message
    if current.started_us is not None:
        status["logUrl"] = log_url(log_url_base, record.id)
    if current.steps:
        rendered: list[JsonObject] = []
        for step_status in current.steps:
            item: JsonObject = {"id": step_status.plan.id, "phase": step_status.phase.name}
            if step_status.phase is FAILED and step_status.plan.failure_message:
                item["failureMessage"] = step_status.plan.failure_message
            if step_status.phase in (SUCCEEDED, FAILED) and step_status.plan.output:
                item["output"] = dict(step_status.plan.output)
            rendered.append(item)
        status["steps"] = rendered
    return {"id": record.id, "metadata": metadata, "spec": spec, "status": status}
