"""Task records: building them from CreateTask, applying UpdateTask, rendering them.

UpdateTask field presence: a key present in the request replaces the stored value, an
absent key keeps it; this holds for ``metadata.name``, ``metadata.description``,
``spec.command``, ``spec.runsOn`` and ``spec.prebuildRequiresSuccess`` even when the new
value is ``""`` / ``false`` (they are proto3 ``optional``), and for ``metadata.triggeredBy``
(an optional message: present with no ``trigger`` items clears the list). The repeated
fields ``spec.env`` and ``dependsOn`` cannot signal presence in binary protobuf, so to
behave the same under both codecs they replace only when non-empty: an empty list keeps
the stored value.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any

import orjson

from mockserver.domain import protojson
from mockserver.domain.protojson import AUTOMATION_TRIGGER, RUNS_ON, TASK_SPEC
from mockserver.domain.timestamps import format_timestamp
from mockserver.domain.types import JsonObject, Micros, SharedJson, TaskKey


# Not frozen, though never changed once stored (an update makes a new record through
# dataclasses.replace): a frozen __init__ sets each field through object.__setattr__,
# ~15,000 of a CreateTask's ~320,000 instructions in a server (callgrind).
@dataclass(slots=True)
class TaskRecord:
    """A stored task. ``spec``, ``creator`` and triggers are canonical proto3 JSON.

    Read only: share it, never change it (an update makes a new record)."""

    id: str
    environment_id: str
    created_us: Micros
    creator: JsonObject
    reference: str
    name: str
    description: str
    triggered_by: tuple[JsonObject, ...]
    spec: JsonObject
    depends_on: tuple[str, ...]
    # The rendered proto3 JSON, made on first read: the one field set after creation. A
    # record never changes (an update makes a new one, without this field), so the cache
    # never goes stale.
    rendered: JsonObject | None = field(default=None, init=False, compare=False, repr=False)
    # The JSON bytes of the rendering and of the spec, measured on first need (-1: not
    # yet): what bounds a list page and an execution's plan (see Limits.max_page_bytes).
    rendered_bytes: int = field(default=-1, init=False, compare=False, repr=False)
    spec_bytes: int = field(default=-1, init=False, compare=False, repr=False)

    @property
    def key(self) -> TaskKey:
        """Listing order key."""
        return (self.created_us, self.id)

    @property
    def label(self) -> str:
        """A plan step's label: the name, else the reference."""
        return self.name or self.reference

    @property
    def command(self) -> str:
        """``spec.command`` ("" when unset)."""
        command = self.spec.get("command", "")
        return command if isinstance(command, str) else ""


@dataclass(slots=True)  # not frozen: made per CreateTask, and a frozen __init__ costs
class CreateTask:
    """A parsed CreateTask request (server-owned fields are not in it)."""

    environment_id: str
    reference: str
    name: str
    description: str
    triggered_by: tuple[JsonObject, ...]
    spec: JsonObject
    depends_on: tuple[str, ...]

    @classmethod
    def parse(cls, request: JsonObject) -> CreateTask:
        """Read and canonicalise a CreateTask request."""
        metadata = protojson.message(request, "metadata") or {}
        return cls(  # positional, in field order: keywords cost ~0.3 µs per CreateTask
            # Interned: many tasks share a few environments, so they share one string.
            sys.intern(protojson.required_id(request, "environmentId")),
            protojson.string(metadata, "reference", "metadata.reference"),
            protojson.string(metadata, "name", "metadata.name"),
            protojson.string(metadata, "description", "metadata.description"),
            _triggers(metadata.get("triggeredBy"), "metadata.triggeredBy"),
            protojson.canonical(TASK_SPEC, request.get("spec") or {}, "spec"),
            tuple(protojson.id_list(request, "dependsOn")),
        )

    def record(self, task_id: str, created_us: Micros, creator: JsonObject) -> TaskRecord:
        """The task this request creates."""
        return TaskRecord(  # positional, in field order, as in parse
            task_id,
            self.environment_id,
            created_us,
            creator,
            self.reference,
            self.name,
            self.description,
            self.triggered_by,
            self.spec,
            self.depends_on,
        )


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """A parsed UpdateTask request: ``changes`` to the record, new ``depends_on`` or None."""

    id: str
    changes: dict[str, Any]
    depends_on: tuple[str, ...] | None

    @classmethod
    def parse(cls, request: JsonObject) -> UpdateTask:
        """Read an UpdateTask request, keeping only the fields it sets."""
        task_id = protojson.required_id(request, "id")
        changes: dict[str, Any] = {}
        metadata = protojson.message(request, "metadata") or {}
        for key in ("name", "description"):
            value = protojson.optional_string(metadata, key, f"metadata.{key}")
            if value is not None:
                changes[key] = value
        triggered_by = protojson.message(metadata, "triggeredBy", "metadata.triggeredBy")
        if triggered_by is not None:
            changes["triggered_by"] = _triggers(
                triggered_by.get("trigger"), "metadata.triggeredBy.trigger"
            )
        spec = protojson.message(request, "spec") or {}
        spec_changes: JsonObject = {}
        command = protojson.optional_string(spec, "command", "spec.command")
        if command is not None:
            spec_changes["command"] = command
        runs_on = protojson.message(spec, "runsOn", "spec.runsOn")
        if runs_on is not None:
            spec_changes["runsOn"] = protojson.canonical(RUNS_ON, runs_on, "spec.runsOn")
        env = spec.get("env")
        if env:
            spec_changes["env"] = protojson.canonical_list(protojson.ENV_ITEM, env, "spec.env")
        flag = protojson.optional_bool(
            spec, "prebuildRequiresSuccess", "spec.prebuildRequiresSuccess"
        )
        if flag is not None:
            spec_changes["prebuildRequiresSuccess"] = flag
        if spec_changes:
            changes["spec"] = spec_changes
        depends_on = protojson.id_list(request, "dependsOn")
        return cls(task_id, changes, tuple(depends_on) if depends_on else None)

    def apply(self, task: TaskRecord) -> TaskRecord:
        """The task with this update applied (the input is not modified)."""
        changes = dict(self.changes)
        spec_changes = changes.pop("spec", None)
        if spec_changes:
            spec = dict(task.spec)
            spec.update(spec_changes)
            # Canonicalise again so "" / false drop out of the stored spec.
            changes["spec"] = protojson.canonical(TASK_SPEC, spec, "spec")
        if self.depends_on is not None:
            changes["depends_on"] = self.depends_on
        return dataclasses.replace(task, **changes)


def _triggers(value: object, path: str) -> tuple[JsonObject, ...]:
    if value is None:
        return ()
    return tuple(protojson.canonical_list(AUTOMATION_TRIGGER, value, path))


def task_json(task: TaskRecord) -> JsonObject:
    """The proto3-JSON ``Task``, shared with the store: read it, never change it.

    A list page renders 25 tasks, so this sits on the hot path; rendering once per record
    and handing out the same dict, instead of a fresh copy per read, makes ListTasks about
    twice as fast. :func:`protojson.clone` gives a copy that may be changed.
    """
    rendered = task.rendered
    if rendered is None:
        rendered = fresh_task_json(task)
        task.rendered = rendered
    return rendered


def task_bytes(task: TaskRecord) -> int:
    """The bytes of the task's JSON rendering, measured once (a list page sums these)."""
    size = task.rendered_bytes
    if size < 0:
        size = task.rendered_bytes = len(orjson.dumps(task_json(task)))
    return size


def tasks_within(records: list[TaskRecord], budget: int) -> int:
    """How many of the first ``records`` fit ``budget`` bytes of JSON, at least one
    (see :func:`mockserver.domain.paging.count_within`); one pass, as a list page reads
    sizes measured before (this runs on every ListTasks)."""
    total = 1  # the list's brackets, less the last item's comma
    for count, task in enumerate(records):
        size = task.rendered_bytes
        total += (size if size >= 0 else task_bytes(task)) + 1  # and its comma in the list
        if total > budget and count:
            return count
    return len(records)


def spec_bytes(task: TaskRecord) -> int:
    """The bytes of the task's spec in JSON, measured once (each plan step carries it)."""
    size = task.spec_bytes
    if size < 0:
        size = task.spec_bytes = len(orjson.dumps(task.spec))
    return size


def fresh_task_json(task: TaskRecord) -> SharedJson:
    """The proto3-JSON ``Task``, made now and not kept: for a task that has just been
    created, which may never be read (a benchmark, a test that only starts it). Kept, its
    rendering would be two more dicts per task for the garbage collector to walk on
    every full collection; the first read makes and keeps its own."""
    # The record's creator, triggers and spec are shared, not copied: a record is never
    # changed (an update makes a new one), and the rendering is read-only too.
    metadata: JsonObject = {"createdAt": format_timestamp(task.created_us)}
    metadata["creator"] = task.creator
    if task.description:
        metadata["description"] = task.description
    if task.name:
        metadata["name"] = task.name
    if task.reference:
        metadata["reference"] = task.reference
    if task.triggered_by:
        metadata["triggeredBy"] = list(task.triggered_by)
    out = SharedJson(id=task.id, environmentId=task.environment_id, metadata=metadata)
    out["spec"] = task.spec
    if task.depends_on:
        out["dependsOn"] = list(task.depends_on)
    return out
