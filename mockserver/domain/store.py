"""One tenant's objects with the indexes that keep reads O(1) / O(page)."""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.domain.executions import ExecutionRecord
from mockserver.domain.paging import OrderedIndex
from mockserver.domain.tasks import TaskRecord


class TenantStore:
    """Tasks and executions of one caller. Not thread-safe: the backend's lock guards it."""

    __slots__ = (
        "dependents",
        "execution_index",
        "executions",
        "executions_by_task",
        "references",
        "task_index",
        "tasks",
    )

    def __init__(self) -> None:
        self.tasks: dict[str, TaskRecord] = {}
        self.task_index = OrderedIndex()
        self.references: dict[tuple[str, str], str] = {}
        self.dependents: dict[str, set[str]] = {}
        self.executions: dict[str, ExecutionRecord] = {}
        self.execution_index = OrderedIndex()
        self.executions_by_task: dict[str, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.tasks or self.executions)

    def add_task(self, task: TaskRecord) -> None:
        """Store a new task."""
        self.tasks[task.id] = task
        self.task_index.add(task.key)
        if task.reference:
            self.references[(task.environment_id, task.reference)] = task.id
        self._link(task.id, task.depends_on)

    def replace_task(self, task: TaskRecord) -> None:
        """Store an updated version of an existing task (same id, key and reference)."""
        old = self.tasks[task.id]
        self._unlink(old.id, old.depends_on)
        self.tasks[task.id] = task
        self._link(task.id, task.depends_on)

    def remove_task(self, task_id: str) -> TaskRecord:
        """Drop a task (its executions stay)."""
        task = self.tasks.pop(task_id)
        self.task_index.remove(task.key)
        if task.reference:
            self.references.pop((task.environment_id, task.reference), None)
        self._unlink(task.id, task.depends_on)
        self.dependents.pop(task_id, None)
        return task

    def add_execution(self, execution: ExecutionRecord) -> None:
        """Store a new execution."""
        self.executions[execution.id] = execution
        self.execution_index.add(execution.key)
        self.executions_by_task.setdefault(execution.task_id, []).append(execution.id)

    def executions_of(self, task_id: str) -> list[ExecutionRecord]:
        """The executions started for a task (even a deleted one)."""
        return [self.executions[eid] for eid in self.executions_by_task.get(task_id, ())]

    def all_ids(self) -> Iterable[str]:
        """Every task, execution and step id in this tenant."""
        yield from self.tasks
        for execution in self.executions.values():
            yield execution.id
            for step in execution.steps():
                yield step.id

    def _link(self, task_id: str, depends_on: Iterable[str]) -> None:
        for dep in depends_on:
            self.dependents.setdefault(dep, set()).add(task_id)

    def _unlink(self, task_id: str, depends_on: Iterable[str]) -> None:
        for dep in depends_on:
            users = self.dependents.get(dep)
            if users is not None:
                users.discard(task_id)
                if not users:
                    del self.dependents[dep]
