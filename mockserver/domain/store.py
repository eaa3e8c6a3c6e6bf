"""One tenant's objects with the indexes that keep reads O(1) / O(page).

Every list filter has an index, so a filtered page costs a seek and the page, not a scan
of the tenant: tasks by environment and by reference, executions by task, environment and
task reference, each an :class:`OrderedIndex` of ``(created_us, id)`` keys. The one
exception is the execution phase filter: a phase is a function of the clock, so it is
checked item by item on whatever the other filters (or the whole list) yield.
"""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.domain.executions import ExecutionRecord
from mockserver.domain.paging import OrderedIndex, sort_string
from mockserver.domain.tasks import TaskRecord
from mockserver.domain.types import TaskKey

# A value's keys: the one key itself while there is one (most references name one task;
# an index object, its lists and its chunk would cost ~7 µs and four objects per task),
# an OrderedIndex from the second on. Read them through index_of.
#
# By environment, the first environment of a tenant uses the tenant's own index for as
# long as it is the only one, and so holds every task (or execution) of the tenant: most
# tenants work in one environment, and each new task then costs one index insert, not two
# (a few µs of a CreateTask in a server at 100,000 tasks). A second environment gives the
# first its own copy (O(n), once); when deletions leave one environment again, its next
# key makes it share again.
Indexes = dict[str, OrderedIndex | TaskKey]


class TenantStore:
    """Tasks and executions of one caller. Not thread-safe: the backend's lock guards it."""

    __slots__ = (
        "dependents",
        "execution_index",
        "executions",
        "executions_by_environment",
        "executions_by_reference",
        "executions_by_task",
        "references",
        "task_index",
        "tasks",
        "tasks_by_environment",
        "tasks_by_reference",
    )

    def __init__(self) -> None:
        self.tasks: dict[str, TaskRecord] = {}
        self.task_index = OrderedIndex()
        self.tasks_by_environment: Indexes = {}
        self.tasks_by_reference: Indexes = {}  # "" too: a filter may ask for no reference
        self.references: dict[tuple[str, str], str] = {}  # (environment, reference) -> id
        self.dependents: dict[str, set[str]] = {}
        self.executions: dict[str, ExecutionRecord] = {}
        self.execution_index = OrderedIndex()
        self.executions_by_task: Indexes = {}
        self.executions_by_environment: Indexes = {}
        self.executions_by_reference: Indexes = {}

    def __bool__(self) -> bool:
        return bool(self.tasks or self.executions)

    def add_task(self, task: TaskRecord) -> None:
        """Store a new task."""
        key = task.key
        text = sort_string(key)  # computed once for every index the task joins
        self.tasks[task.id] = task
        _environment_add(self.tasks_by_environment, task.environment_id, key, text, self.task_index)
        self.task_index.add(key, text)
        _index_add(self.tasks_by_reference, task.reference, key, text)
        if task.reference:
            self.references[(task.environment_id, task.reference)] = task.id
        self._link(task.id, task.depends_on)

    def replace_task(self, task: TaskRecord) -> None:
        """Store an updated version of an existing task (same id, key, environment and
        reference, so only the dependency links change)."""
        old = self.tasks[task.id]
        self._unlink(old.id, old.depends_on)
        self.tasks[task.id] = task
        self._link(task.id, task.depends_on)

    def remove_task(self, task_id: str) -> TaskRecord:
        """Drop a task (its executions stay)."""
        task = self.tasks.pop(task_id)
        key = task.key
        self.task_index.remove(key)
        _index_remove(self.tasks_by_environment, task.environment_id, key)
        _index_remove(self.tasks_by_reference, task.reference, key)
        if task.reference:
            self.references.pop((task.environment_id, task.reference), None)
        self._unlink(task.id, task.depends_on)
        self.dependents.pop(task_id, None)
        return task

    def add_execution(self, execution: ExecutionRecord) -> None:
        """Store a new execution."""
        key = execution.key
        text = sort_string(key)
        self.executions[execution.id] = execution
        _environment_add(
            self.executions_by_environment,
            execution.environment_id,
            key,
            text,
            self.execution_index,
        )
        self.execution_index.add(key, text)
        _index_add(self.executions_by_task, execution.task_id, key, text)
        _index_add(self.executions_by_reference, execution.task_reference, key, text)

    def executions_of(self, task_id: str) -> list[ExecutionRecord]:
        """The executions started for a task (even a deleted one)."""
        index = index_of(self.executions_by_task, task_id)
        if index is None:
            return []
        return [self.executions[key[1]] for key in index.after(None)]

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


def index_of(indexes: Indexes, value: str) -> OrderedIndex | None:
    """The keys of ``value`` as an index (``None`` when it has none)."""
    found = indexes.get(value)
    if found is None or isinstance(found, OrderedIndex):
        return found
    return OrderedIndex((found,))


def _index_add(indexes: Indexes, value: str, key: TaskKey, text: str | None = None) -> None:
    found = indexes.get(value)
    if found is None:
        indexes[value] = key
    elif isinstance(found, OrderedIndex):
        found.add(key, text)
    else:
        indexes[value] = OrderedIndex((found, key))


def _environment_add(
    indexes: Indexes, environment: str, key: TaskKey, text: str, whole: OrderedIndex
) -> None:
    """Add ``key`` to ``environment``'s keys, before it is added to the tenant's index
    ``whole`` (which the first environment shares; see :data:`Indexes`)."""
    found = indexes.get(environment)
    if found is whole:
        return  # still the only environment: adding to ``whole`` is enough
    if not indexes or (found is not None and len(indexes) == 1):
        indexes[environment] = whole  # the only environment (again): it holds every key
        return
    if len(indexes) == 1:
        ((first, keys),) = indexes.items()
        if keys is whole:
            indexes[first] = whole.copy()  # before ``whole`` takes the new key
    _index_add(indexes, environment, key, text)


def _index_remove(indexes: Indexes, value: str, key: TaskKey) -> None:
    found = indexes.get(value)
    if found is None:
        return
    if not isinstance(found, OrderedIndex):
        if found == key:
            del indexes[value]
        return
    found.remove(key)
    if len(found) == 1:
        (indexes[value],) = found.after(None)  # back to the one key
    elif not found:
        del indexes[value]  # an index per deleted environment would only grow
