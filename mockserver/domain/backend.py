"""The backend: nine RPCs over per-tenant in-memory state, JSON in and JSON out.

Every public method takes the :class:`Caller` and a schema-validated proto3-JSON request
and returns a proto3-JSON response, or raises a :class:`DomainError`. One lock guards all
state, so export/import may run on other threads than the event loop.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from types import MappingProxyType

from mockserver.domain import graph, paging, protojson, state
from mockserver.domain.caller import Caller
from mockserver.domain.clock import Clock, ManualClock
from mockserver.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unimplemented,
)
from mockserver.domain.executions import (
    OVERVIEW_STEP_BYTES,
    STARTED_BY_MANUAL,
    ExecutionRecord,
    StepPlan,
    StepStatus,
    initial_view,
    log_lines,
    view,
)
from mockserver.domain.faults import Fault, FaultState
from mockserver.domain.ids import IdGenerator, RandomIds, SeededIds
from mockserver.domain.limits import DEFAULT_LIMITS, Limits
from mockserver.domain.paging import OrderedIndex
from mockserver.domain.persistence import NO_PERSISTENCE, Persistence
from mockserver.domain.phases import parse_phase_filter
from mockserver.domain.presenter import execution_json
from mockserver.domain.scenario import Scenario
from mockserver.domain.store import Indexes, TenantStore, index_of
from mockserver.domain.tasks import (
    CreateTask,
    TaskRecord,
    UpdateTask,
    fresh_task_json,
    spec_bytes,
    task_bytes,
    task_json,
    tasks_within,
)
from mockserver.domain.tenancy import TenantControl
from mockserver.domain.timestamps import format_timestamp, from_micros, seconds_to_micros, to_micros
from mockserver.domain.timing import Timing
from mockserver.domain.types import JsonObject, Micros, TaskKey

Handler = Callable[[Caller, JsonObject], JsonObject]

_TASKS = "tasks"
_EXECUTIONS = "executions"
_EMPTY = TenantStore()  # what a caller with no state reads; never written to
_DEFAULTS = TenantControl()  # what a tenant that set nothing has; never written to
DEFAULT_TIMING = Timing()
OVERVIEW_LIMIT = 100  # newest tasks and executions the web view shows (~3 ms for 100 of each)
# RFC 3339 ends at year 9999: no clock may move past it.
MAX_TIME_US: Micros = to_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


class Backend:
    """In-memory EnvironmentAutomationService state (see ``docs`` for the behaviour)."""

    def __init__(
        self,
        clock: Clock,
        ids: IdGenerator,
        timing: Timing = DEFAULT_TIMING,
        scenario: Scenario | None = None,
        log_url_base: str = "http://127.0.0.1:8080",
        environments: Iterable[str] | None = None,
        persistence: Persistence = NO_PERSISTENCE,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.timing = timing
        # The default scenario: what every tenant uses until it loads its own.
        self.scenario = scenario if scenario is not None else Scenario()
        self.log_url_base = log_url_base
        # None: any environment id is accepted; else only these exist (a real deployment).
        self.environments = (
            None if environments is None else frozenset(e.lower() for e in environments)
        )
        # Told of every change inside the lock, and committed before a write returns.
        self.persistence = persistence
        self.limits = limits
        self._page_bytes = limits.max_page_bytes
        self._objects = 0  # tasks and executions of all tenants, against limits.max_objects
        # The clock's last reading and its microseconds (one tuple, swapped whole, so a
        # reader on another thread never pairs a reading with another's microseconds): a
        # manual clock returns the same datetime until it moves, and a request reads the
        # time several times.
        self._last_reading: tuple[datetime | None, Micros] = (None, 0)
        self._lock = threading.Lock()
        self._tenants: dict[str, TenantStore] = {}
        self._controls: dict[str, TenantControl] = {}
        self._used_ids: set[str] = set()
        self._handlers: dict[str, Handler] = {
            "CreateTask": self.create_task,
            "GetTask": self.get_task,
            "ListTasks": self.list_tasks,
            "UpdateTask": self.update_task,
            "DeleteTask": self.delete_task,
            "StartTask": self.start_task,
            "ListTaskExecutions": self.list_task_executions,
            "GetTaskExecution": self.get_task_execution,
            "StopTaskExecution": self.stop_task_execution,
        }

    # -- dispatch -------------------------------------------------------------------------

    def call(self, caller: Caller, method: str, request: JsonObject) -> JsonObject:
        """Run the RPC named ``method`` (``"CreateTask"``, ...).

        The answer may share objects with the store (rendered tasks are cached): encode
        or read it, and :func:`~mockserver.domain.protojson.clone` it before changing it.
        """
        handler = self._handlers.get(method)
        if handler is None:
            raise Unimplemented(f"method {method} is not implemented")
        return handler(caller, request)

    # -- tasks ----------------------------------------------------------------------------

    def create_task(self, caller: Caller, request: JsonObject) -> JsonObject:
        """CreateTask -> ``{"task": ...}``."""
        parsed = CreateTask.parse(request)
        self._check_environment(parsed.environment_id)
        with self._lock:
            tenant = self._read(caller)
            if parsed.reference:
                taken = tenant.references.get((parsed.environment_id, parsed.reference))
                if taken is not None:
                    raise AlreadyExists(
                        f"task with reference {parsed.reference!r} already exists in "
                        f"environment {parsed.environment_id}"
                    )
            self._check_dependencies(tenant, parsed.environment_id, parsed.depends_on, None)
            self._check_room(caller, len(tenant.tasks), self.limits.max_tasks, "tasks")
            task = parsed.record(self._new_id(caller), self._now(caller), caller.subject)
            self.persistence.task_saved(caller.subject_id, task)
            self._commit()
            self._write(caller).add_task(task)
            self._objects += 1
            return {"task": fresh_task_json(task)}

    def get_task(self, caller: Caller, request: JsonObject) -> JsonObject:
        """GetTask -> ``{"task": ...}``."""
        task_id = protojson.required_id(request, "id")
        with self._lock:
            return {"task": task_json(self._task(self._read(caller), task_id))}

    def list_tasks(self, caller: Caller, request: JsonObject) -> JsonObject:
        """ListTasks -> ``{"tasks": [...], "pagination": {"nextToken"?}}``."""
        cursor, size = paging.page_request(request, _TASKS)
        filters = protojson.message(request, "filter") or {}
        environments = set(protojson.id_list(filters, "environmentIds", "filter.environmentIds"))
        references = set(protojson.string_list(filters, "references", "filter.references"))
        task_ids = set(protojson.id_list(filters, "taskIds", "filter.taskIds"))
        if environments and self._unknown_environments(environments):
            return _list_response("tasks", [], "")
        with self._lock:
            tenant = self._read(caller)
            tasks = tenant.tasks
            if not (environments or references or task_ids):
                keys, token = paging.unfiltered_page(tenant.task_index, cursor, size, _TASKS)
            else:

                def accept(key: TaskKey) -> bool:
                    task = tasks[key[1]]
                    return (
                        (not environments or task.environment_id in environments)
                        and (not references or task.reference in references)
                        and (not task_ids or task.id in task_ids)
                    )

                candidates = _task_candidates(tenant, cursor, environments, references, task_ids)
                keys, token = paging.take_page(candidates, accept, size, _TASKS)
            records = [tasks[key[1]] for key in keys]
            count = tasks_within(records, self._page_bytes)
            if count < len(records):
                token = paging.encode_token(_TASKS, keys[count - 1])
                del records[count:]
            return _list_response("tasks", [task_json(task) for task in records], token)

    def update_task(self, caller: Caller, request: JsonObject) -> JsonObject:
        """UpdateTask -> ``{}``; see :mod:`mockserver.domain.tasks` for field presence."""
        parsed = UpdateTask.parse(request)
        with self._lock:
            tenant = self._read(caller)
            task = self._task(tenant, parsed.id)
            updated = parsed.apply(task)
            if parsed.depends_on is not None:
                self._check_dependencies(tenant, task.environment_id, parsed.depends_on, task.id)
            if updated != task:
                self.persistence.task_saved(caller.subject_id, updated)
                self._commit()
                self._write(caller).replace_task(updated)
            return {}

    def delete_task(self, caller: Caller, request: JsonObject) -> JsonObject:
        """DeleteTask -> ``{}``; unfinished executions of the task become STOPPED."""
        task_id = protojson.required_id(request, "id")
        with self._lock:
            tenant = self._read(caller)
            self._task(tenant, task_id)
            users = tenant.dependents.get(task_id)
            if users:
                user = min(users, key=lambda other: tenant.tasks[other].key)
                raise FailedPrecondition(
                    f"task {task_id} cannot be deleted: task {user} depends on it"
                )
            now = self._now(caller)
            running = [e for e in tenant.executions_of(task_id) if not view(e, now).terminal]
            for execution in running:
                self.persistence.execution_saved(caller.subject_id, _stopped(execution, now))
            self.persistence.task_removed(caller.subject_id, task_id)
            self._commit()
            for execution in running:
                execution.stopped_us = now
            tenant.remove_task(task_id)
            self._objects -= 1
            return {}

    # -- executions -----------------------------------------------------------------------

    def start_task(self, caller: Caller, request: JsonObject) -> JsonObject:
        """StartTask -> ``{"taskExecution": ...}`` in PENDING with ``statusVersion`` "1"."""
        task_id = protojson.required_id(request, "id")
        with self._lock:
            tenant = self._read(caller)
            task = self._task(tenant, task_id)
            limit = self.limits.max_executions
            self._check_room(caller, len(tenant.executions), limit, "executions")
            now = self._now(caller)
            scenario = self.scenario_for(caller)
            groups: list[tuple[StepPlan, ...]] = []
            previous: tuple[str, ...] = ()
            planned = graph.plan_groups(tenant.tasks, task.id)
            self._check_plan(task.id, planned)
            for members in planned:
                steps = tuple(
                    self._plan_step(caller, scenario, member, previous) for member in members
                )
                groups.append(steps)
                previous = tuple(step.id for step in steps)
            execution = ExecutionRecord(
                id=self._new_id(caller),
                task_id=task.id,
                environment_id=task.environment_id,
                task_reference=task.reference,
                created_us=now,
                creator=caller.subject,
                started_by=STARTED_BY_MANUAL,
                pending_us=seconds_to_micros(self.timing.pending_delay),
                groups=tuple(groups),
            )
            self._check_execution_size(execution)
            self.persistence.execution_saved(caller.subject_id, execution)
            self._commit()
            self._write(caller).add_execution(execution)
            self._objects += 1
            base = caller.origin or self.log_url_base
            rendered = execution_json(execution, initial_view(execution), base)
            return {"taskExecution": rendered}

    def list_task_executions(self, caller: Caller, request: JsonObject) -> JsonObject:
        """ListTaskExecutions -> ``{"taskExecutions": [...], "pagination": {...}}``.

        The phase filter uses each execution's phase at the time of the call.
        """
        cursor, size = paging.page_request(request, _EXECUTIONS)
        filters = protojson.message(request, "filter") or {}
        task_ids = set(protojson.id_list(filters, "taskIds", "filter.taskIds"))
        references = set(protojson.string_list(filters, "taskReferences", "filter.taskReferences"))
        environments = set(protojson.id_list(filters, "environmentIds", "filter.environmentIds"))
        if environments and self._unknown_environments(environments):
            return _list_response("taskExecutions", [], "")
        raw_phases = filters.get("phases") or []
        if not isinstance(raw_phases, list):
            raise InvalidArgument("filter.phases: expected a list")
        phases = {
            parse_phase_filter(item, f"filter.phases[{i}]") for i, item in enumerate(raw_phases)
        }
        with self._lock:
            tenant = self._read(caller)
            executions = tenant.executions
            now = self._now(caller)
            if not (task_ids or references or environments or phases):
                keys, token = paging.unfiltered_page(
                    tenant.execution_index, cursor, size, _EXECUTIONS
                )
            else:

                def accept(key: TaskKey) -> bool:
                    execution = executions[key[1]]
                    return (
                        (not task_ids or execution.task_id in task_ids)
                        and (not references or execution.task_reference in references)
                        and (not environments or execution.environment_id in environments)
                        and (not phases or view(execution, now).phase in phases)
                    )

                fields = [
                    (tenant.executions_by_task, task_ids),
                    (tenant.executions_by_reference, references),
                    (tenant.executions_by_environment, environments),
                ]
                candidates = _smallest_match(fields, cursor) or tenant.execution_index.after(cursor)
                keys, token = paging.take_page(candidates, accept, size, _EXECUTIONS)
            found = [executions[key[1]] for key in keys]
            count = paging.count_within([execution.size for execution in found], self._page_bytes)
            if count < len(found):
                token = paging.encode_token(_EXECUTIONS, keys[count - 1])
                del found[count:]
            rendered = [self._render(execution, now, caller) for execution in found]
            return _list_response("taskExecutions", rendered, token)

    def get_task_execution(self, caller: Caller, request: JsonObject) -> JsonObject:
        """GetTaskExecution -> ``{"taskExecution": ...}`` as of now."""
        execution_id = protojson.required_id(request, "id")
        with self._lock:
            execution = self._execution(self._read(caller), execution_id)
            return {"taskExecution": self._render(execution, self._now(caller), caller)}

    def stop_task_execution(self, caller: Caller, request: JsonObject) -> JsonObject:
        """StopTaskExecution -> ``{}``; a finished execution is left as it is."""
        execution_id = protojson.required_id(request, "id")
        with self._lock:
            execution = self._execution(self._read(caller), execution_id)
            now = self._now(caller)
            if not view(execution, now).terminal:
                self.persistence.execution_saved(caller.subject_id, _stopped(execution, now))
                self._commit()
                execution.stopped_us = now
            return {}

    def execution_logs(self, caller: Caller, execution_id: str) -> str:
        """The log text emitted by now, one ``[time] [step label] line`` per line.

        At most ``limits.max_log_bytes`` (UTF-8) of whole lines, then one line saying
        the rest was left out: the lines are made as they are read, so a long log costs
        only what is sent."""
        budget = self.limits.max_log_bytes
        out: list[str] = []
        with self._lock:
            execution = self._execution(self._read(caller), execution_id.lower())
            for line in log_lines(execution, self._now(caller)):
                size = len(line.encode("utf-8")) + 1
                if size > budget:
                    out.append(
                        f"[... truncated: the log is longer than {self.limits.max_log_bytes}"
                        " bytes (--max-log-bytes) ...]\n"
                    )
                    break
                budget -= size
                out.append(line + "\n")
        return "".join(out)

    def overview(self, caller: Caller, limit: int = OVERVIEW_LIMIT) -> JsonObject:
        """The caller's newest ``limit`` tasks and executions at one instant, for the web view.

        Tasks and executions render as the API renders them; each execution also gets the
        times of its started steps, which the API does not carry but a timeline needs.
        """
        with self._lock:
            tenant = self._read(caller)
            now = self._now(caller)
            # Half the page budget for each list: the newest that fit, at least one.
            budget = self.limits.max_page_bytes // 2
            newest = [tenant.tasks[key[1]] for key in tenant.task_index.last(limit)]
            kept = paging.count_within([task_bytes(task) for task in reversed(newest)], budget)
            tasks = [task_json(task) for task in newest[len(newest) - kept :]]
            records = [tenant.executions[key[1]] for key in tenant.execution_index.last(limit)]
            sizes = [record.size + OVERVIEW_STEP_BYTES * record.step_count for record in records]
            kept = paging.count_within(sizes[::-1], budget)
            executions: list[JsonObject] = []
            for record in records[len(records) - kept :]:
                current = view(record, now)
                executions.append(
                    {
                        "execution": execution_json(
                            record, current, caller.origin or self.log_url_base
                        ),
                        "steps": [_step_times(step) for step in current.steps],
                    }
                )
            return {
                "now": format_timestamp(now),
                "tasks": tasks,
                "tasksTotal": len(tenant.tasks),
                "executions": executions,
                "executionsTotal": len(tenant.executions),
            }

    # -- control --------------------------------------------------------------------------

    def scenario_for(self, caller: Caller | None) -> Scenario:
        """The scenario in force for ``caller``: its own, else the server's default."""
        # No tenant has settings of its own (the common case): skip the subject lookup.
        if caller is None or not self._controls:
            return self.scenario
        control = self._controls.get(caller.subject_id)
        own = None if control is None else control.scenario
        return self.scenario if own is None else own

    def set_scenario(self, scenario: Scenario, caller: Caller | None = None) -> None:
        """Use ``scenario`` for the caller's executions started from now on, or as the
        default of every tenant without its own (``None``)."""
        with self._lock:
            if caller is None:
                self.scenario = scenario
                return
            key = caller.subject_id
            current = self._controls.get(key)
            if current is None:
                self._check_control_room()
            offset = 0 if current is None else current.clock_offset_us
            self._report_settings(key, TenantControl(scenario, offset))
            self._commit()
            control = self._write_control(caller)
            control.scenario = scenario
            control.faults = None

    def fault(self, caller: Caller, method: str, request: JsonObject) -> Fault | None:
        """The fault the caller's scenario injects into this call, if any (and count it).

        Cheap when the scenario has no faults: one lookup, no lock.
        """
        scenario = self.scenario_for(caller)
        if not scenario.faults:
            return None
        with self._lock:
            control = self._write_control(caller)
            state = control.faults
            if state is None or state.rules is not scenario.faults:
                seed = None if not isinstance(self.ids, SeededIds) else self.ids.seed
                state = control.faults = FaultState(scenario.faults, f"{seed}/{caller.subject_id}")
            return state.decide(method, request, self._now(caller))

    @property
    def manual(self) -> bool:
        """Whether the clock is a manual one (only then can it be advanced)."""
        return isinstance(self.clock, ManualClock)

    def now(self, caller: Caller | None = None) -> Micros:
        """The caller's time (the server's clock plus the tenant's offset), or the server's."""
        return self._now(caller)

    def advance_clock(self, seconds: float, caller: Caller | None = None) -> Micros:
        """Move the caller's clock (or the server's, moving every tenant: ``None``) forward.

        :class:`FailedPrecondition` on a real clock; :class:`InvalidArgument` when the
        caller's time (the server's, for ``None``) would pass the end of year 9999, the
        last instant RFC 3339 can write. A server-wide advance stops a tenant whose own
        clock is ahead at that last instant, instead of refusing the advance for everyone.
        """
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise FailedPrecondition("the clock is real; only a manual clock can be advanced")
        with self._lock:
            latest = self._now(caller)
            if not seconds <= (MAX_TIME_US - latest) / 1_000_000:
                whose = "the server's clock" if caller is None else "your clock"
                raise InvalidArgument(
                    f"seconds: {seconds!r} would move {whose} past {format_timestamp(MAX_TIME_US)}"
                )
            step_us = seconds_to_micros(seconds)
            if caller is None:
                return self._advance_server(clock, min(latest + step_us, MAX_TIME_US))
            key = caller.subject_id
            current = self._controls.get(key)
            if current is None:
                self._check_control_room()
            scenario = None if current is None else current.scenario
            offset = min(step_us + latest, MAX_TIME_US) - self._now(None)
            self._report_settings(key, TenantControl(scenario, offset))
            self._commit()
            self._write_control(caller).clock_offset_us = offset
            return self._now(caller)

    def _advance_server(self, clock: ManualClock, target_us: Micros) -> Micros:
        """Move the server's clock to ``target_us``; a tenant whose clock would pass the
        end of year 9999 stops there (its offset shrinks)."""
        stopped = {
            key: MAX_TIME_US - target_us
            for key, control in self._controls.items()
            if target_us + control.clock_offset_us > MAX_TIME_US
        }
        for key, offset in stopped.items():
            self._report_settings(key, TenantControl(self._controls[key].scenario, offset))
        self._commit(target_us)
        clock.set(from_micros(target_us))
        for key, offset in stopped.items():
            self._controls[key].clock_offset_us = offset
        return self._now(None)

    def reset(self, caller: Caller | None = None) -> None:
        """Forget the caller's state, scenario and clock, or every tenant's (``None``)."""
        with self._lock:
            if caller is None:
                self.persistence.all_replaced({})
                self._commit()
                self._tenants.clear()
                self._controls.clear()
                self._used_ids.clear()
                self._objects = 0
                if isinstance(self.ids, SeededIds):
                    self.ids.forget()
                return
            key = caller.subject_id
            self.persistence.tenant_replaced(key, None)
            self.persistence.tenant_settings_changed(key, None)
            self._commit()
            store = self._tenants.pop(key, None)
            self._controls.pop(key, None)
            if store is not None:
                self._objects -= _size(store)
                # Nobody else can hold these ids; a fresh tenant may be given them again.
                self._used_ids.difference_update(store.all_ids())
            if isinstance(self.ids, SeededIds):
                self.ids.forget(key)

    def export_state(self, caller: Caller | None = None, *, shared: bool = False) -> JsonObject:
        """The caller's state, or every tenant's (``None``), as JSON; see :mod:`state`.

        The export's ``clock`` is the caller's time (the server's for a whole export); a
        tenant whose clock differs from it carries its own ``clock``. With ``shared`` the
        tasks in it are the store's own rendered dicts (no copy): for a caller that
        serializes the export right away and never changes it.
        """
        with self._lock:
            now = self._now(caller)
            if caller is None:
                keys = sorted(set(self._tenants) | set(self._controls))
            else:
                keys = [caller.subject_id]
            tenants: JsonObject = {}
            for key in keys:
                store = self._tenants.get(key, _EMPTY)
                control = self._controls.get(key, _DEFAULTS)
                if not store and control.is_default:
                    continue
                offset = control.clock_offset_us if caller is None else 0
                tenants[key] = state.export_tenant(
                    store, control.scenario, now + offset if offset else None, shared=shared
                )
            return {
                "version": state.STATE_VERSION,
                "clock": format_timestamp(now),
                "tenants": tenants,
            }

    def import_state(
        self, data: object, caller: Caller | None = None, *, trusted: bool = False
    ) -> None:
        """Replace the caller's state, or all state (``None``), with an export.

        A whole-state import also moves a :class:`ManualClock` to the export's ``clock``
        (backwards if need be). A per-caller import takes a document with at most one
        tenant, loads it as the caller's whatever its key, and sets the caller's clock to
        the export's (on a manual clock). Each tenant's own scenario comes along.
        """
        parsed = state.parse_document(data, self.environments, trusted=trusted)
        if caller is not None and len(parsed.stores) > 1:
            raise InvalidArgument(
                "state.tenants: a per-caller import takes at most one tenant, "
                f"got {len(parsed.stores)}"
            )
        manual = isinstance(self.clock, ManualClock)
        for key, parsed_store in parsed.stores.items():
            self._check_tenant_size(parsed_store, f"state.tenants[{key!r}]")
        with self._lock:
            if caller is None:
                total = sum(map(_size, parsed.stores.values()))
                self._check_total(total, len(parsed.stores))
                # A manual clock moves to the export's time (once the import is committed).
                clock = self.clock
                restored = parsed.clock_us if isinstance(clock, ManualClock) else None
                base = self._now(None) if restored is None else restored
                tenants = {key: store for key, store in parsed.stores.items() if store}
                controls: dict[str, TenantControl] = {}
                for key, settings in parsed.settings.items():
                    offset = 0
                    if manual and settings.clock_us is not None:
                        offset = settings.clock_us - base
                    if settings.scenario is not None or offset:
                        controls[key] = TenantControl(settings.scenario, offset)
                self.persistence.all_replaced(tenants)
                for key, control in controls.items():
                    self._report_settings(key, control)
                self._commit(base)
                if restored is not None and isinstance(clock, ManualClock):
                    clock.restore(from_micros(restored))
                self._tenants = tenants
                self._objects = total
                self._used_ids = {i for store in parsed.stores.values() for i in store.all_ids()}
                self._controls = controls
                return
            key = caller.subject_id
            store = next(iter(parsed.stores.values()), None)
            settings = next(iter(parsed.settings.values()), state.TenantSettings())
            old = self._tenants.get(key)
            others = self._objects - (0 if old is None else _size(old))
            tenants_after = len(self._tenants) + (0 if old is not None or not store else 1)
            self._check_total(others + (_size(store) if store else 0), tenants_after)
            control = TenantControl(settings.scenario)
            clock_us = settings.clock_us if settings.clock_us is not None else parsed.clock_us
            if manual and clock_us is not None:
                control.clock_offset_us = clock_us - self._now(None)
            self.persistence.tenant_replaced(key, store or None)
            self._report_settings(key, control)
            self._commit()
            self._tenants.pop(key, None)
            self._objects = others + (_size(store) if store else 0)
            if old is not None:
                self._used_ids.difference_update(old.all_ids())
            if store:
                self._tenants[key] = store
                self._used_ids.update(store.all_ids())
            if control.is_default:
                self._controls.pop(key, None)
            else:
                self._controls[key] = control

    def flush(self) -> None:
        """Commit the server clock's current time too (a manual clock may have moved since
        the last write): what a durable store needs before the server stops."""
        with self._lock:
            self._commit()

    # -- helpers --------------------------------------------------------------------------

    def _commit(self, clock_us: Micros | None = None) -> None:
        """Make the changes reported to :attr:`persistence` durable (called in the lock,
        before the change is applied in memory); ``clock_us``: the server's time after
        the change, when the change moves it.

        Only a manual clock's time is worth keeping: a real clock reads the wall time again
        after a restart. :class:`Unavailable` when the store could not commit: the caller
        then applies nothing."""
        persistence = self.persistence
        if persistence is not NO_PERSISTENCE:  # the clock is not worth reading for nothing
            if clock_us is None and self.manual:
                clock_us = self._now(None)
            persistence.commit(clock_us if self.manual else None)

    def _report_settings(self, key: str, control: TenantControl | None) -> None:
        """Tell :attr:`persistence` a tenant's own scenario or clock offset will be
        ``control``'s (``None``: the tenant will have none)."""
        if control is None or control.is_default:
            self.persistence.tenant_settings_changed(key, None)
            return
        settings: JsonObject = {"clockOffsetUs": control.clock_offset_us}
        if control.scenario is not None:
            settings["scenario"] = control.scenario.to_dict()
        self.persistence.tenant_settings_changed(key, settings)

    def _now(self, caller: Caller | None) -> Micros:
        reading = self.clock.now()
        last, last_us = self._last_reading
        if reading is last:
            now = last_us
        else:
            now = to_micros(reading)
            self._last_reading = (reading, now)
        if caller is None or not self._controls:
            return now
        control = self._controls.get(caller.subject_id)
        return now if control is None else now + control.clock_offset_us

    def _control(self, caller: Caller) -> TenantControl:
        return self._controls.get(caller.subject_id, _DEFAULTS)

    def _write_control(self, caller: Caller) -> TenantControl:
        key = caller.subject_id
        control = self._controls.get(key)
        if control is None:
            self._check_control_room()
            control = self._controls[key] = TenantControl()
        return control

    def _check_control_room(self) -> None:
        """``ResourceExhausted`` unless one more tenant may have settings of its own."""
        if len(self._controls) >= self.limits.max_tenants:
            raise ResourceExhausted(
                f"the fake holds settings of {self.limits.max_tenants} tenants, its limit;"
                " reset some (POST /_mock/reset)"
            )

    def _check_room(self, caller: Caller, count: int, limit: int, what: str) -> None:
        """``ResourceExhausted`` unless the caller may store one more task or execution."""
        if count >= limit:
            raise ResourceExhausted(
                f"this tenant holds {limit} {what}, the fake's limit; delete some or reset"
            )
        if self._objects >= self.limits.max_objects:
            raise ResourceExhausted(
                f"the fake holds {self.limits.max_objects} tasks and executions, its limit"
            )
        if caller.subject_id not in self._tenants and len(self._tenants) >= self.limits.max_tenants:
            raise ResourceExhausted(
                f"the fake holds the state of {self.limits.max_tenants} tenants, its limit"
            )

    def _check_tenant_size(self, store: TenantStore, path: str) -> None:
        if len(store.tasks) > self.limits.max_tasks:
            raise ResourceExhausted(f"{path}.tasks: more than {self.limits.max_tasks} tasks")
        if len(store.executions) > self.limits.max_executions:
            raise ResourceExhausted(
                f"{path}.executions: more than {self.limits.max_executions} executions"
            )
        # An import is held to what StartTask allows, so no page meets a bigger execution.
        limits = self.limits
        for index, execution in enumerate(store.executions.values()):
            steps = sum(map(len, execution.groups))
            if steps > limits.max_plan_steps:
                raise ResourceExhausted(
                    f"{path}.executions[{index}].plan: {steps} steps, more than"
                    f" {limits.max_plan_steps} (--max-plan-steps)"
                )
            if execution.size > limits.max_page_bytes:
                raise ResourceExhausted(
                    f"{path}.executions[{index}].plan: about {execution.size} bytes, more"
                    f" than one list page holds ({limits.max_page_bytes}, --max-page-bytes)"
                )

    def _check_total(self, objects: int, tenants: int) -> None:
        if objects > self.limits.max_objects:
            raise ResourceExhausted(
                f"state: more than {self.limits.max_objects} tasks and executions in all"
            )
        if tenants > self.limits.max_tenants:
            raise ResourceExhausted(f"state: more than {self.limits.max_tenants} tenants")

    def _check_environment(self, environment_id: str) -> None:
        if self.environments is not None and environment_id not in self.environments:
            raise NotFound(f"environment {environment_id} not found")

    def _unknown_environments(self, wanted: set[str]) -> bool:
        """Whether a filter names only environments this server does not know."""
        return self.environments is not None and not (wanted & self.environments)

    def _new_id(self, caller: Caller) -> str:
        ids = self.ids
        if isinstance(ids, RandomIds):
            # 122 random bits: never one in use, so no set of every id to check (and grow).
            return ids.new_id()
        seeded = ids if isinstance(ids, SeededIds) else None
        # An import may hold ids a deterministic generator will produce again: skip them.
        for _ in range(10_000):
            new = (
                seeded.for_tenant(caller.subject_id) if seeded is not None else ids.new_id()
            ).lower()
            if new not in self._used_ids:
                self._used_ids.add(new)
                return new
        raise RuntimeError("the id generator keeps returning ids that are already in use")

    def _read(self, caller: Caller) -> TenantStore:
        return self._tenants.get(caller.subject_id, _EMPTY)

    def _write(self, caller: Caller) -> TenantStore:
        key = caller.subject_id
        store = self._tenants.get(key)
        if store is None:
            store = self._tenants[key] = TenantStore()
        return store

    @staticmethod
    def _task(tenant: TenantStore, task_id: str) -> TaskRecord:
        task = tenant.tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        return task

    @staticmethod
    def _execution(tenant: TenantStore, execution_id: str) -> ExecutionRecord:
        execution = tenant.executions.get(execution_id)
        if execution is None:
            raise NotFound(f"task execution {execution_id} not found")
        return execution

    @staticmethod
    def _check_dependencies(
        tenant: TenantStore, environment_id: str, depends_on: Iterable[str], task_id: str | None
    ) -> None:
        for dep in depends_on:
            other = tenant.tasks.get(dep)
            if other is None:
                # An id that names nothing is not_found, as in every other field: the
                # request is well formed, its subject missing (so a schema-valid request
                # never gets 400 for it). A task that exists elsewhere, or a cycle, is a
                # state the request conflicts with: failed_precondition.
                raise NotFound(f"dependsOn: task {dep} not found")
            if other.environment_id != environment_id:
                raise FailedPrecondition(
                    f"dependsOn: task {dep} belongs to another environment "
                    f"({other.environment_id}, not {environment_id})"
                )
            if task_id is not None and dep == task_id:
                raise FailedPrecondition(f"dependsOn: task {task_id} cannot depend on itself")
        if task_id is not None and graph.reaches(tenant.tasks, depends_on, task_id):
            raise FailedPrecondition(
                f"dependsOn: would create a dependency cycle through task {task_id}"
            )

    def _check_plan(self, task_id: str, groups: list[list[TaskRecord]]) -> None:
        """``ResourceExhausted`` unless the plan fits ``max_plan_steps``."""
        steps = sum(map(len, groups))
        if steps > self.limits.max_plan_steps:
            raise ResourceExhausted(
                f"task {task_id}: its plan would have {steps} steps (the task and its "
                f"dependencies), more than the fake's limit of {self.limits.max_plan_steps}"
                " (--max-plan-steps)"
            )

    def _check_execution_size(self, execution: ExecutionRecord) -> None:
        """``ResourceExhausted`` unless the execution fits one list page, so that every
        execution can be listed and stored whole (``max_page_bytes``)."""
        if execution.size > self.limits.max_page_bytes:
            raise ResourceExhausted(
                f"task {execution.task_id}: its execution would take about {execution.size}"
                f" bytes (its plan's specs and the scenario's output and logs), more than"
                f" one list page holds ({self.limits.max_page_bytes}, --max-page-bytes)"
            )

    def _plan_step(
        self, caller: Caller, scenario: Scenario, task: TaskRecord, previous: tuple[str, ...]
    ) -> StepPlan:
        behaviour = scenario.behaviour(
            task.reference, task.name, task.command, self.timing.step_duration
        )
        return StepPlan(
            id=self._new_id(caller),
            task_id=task.id,
            label=task.label,
            spec=task.spec,  # shared: see StepPlan
            depends_on=previous,
            succeed=behaviour.succeed,
            duration_us=seconds_to_micros(behaviour.duration),
            failure_message=behaviour.failure_message,
            output=MappingProxyType(dict(behaviour.output)),
            logs=behaviour.logs,
            spec_bytes=spec_bytes(task),
        )

    def _render(self, execution: ExecutionRecord, now: Micros, caller: Caller) -> JsonObject:
        base = caller.origin or self.log_url_base
        return execution_json(execution, view(execution, now), base)


def _step_times(step: StepStatus) -> JsonObject:
    times: JsonObject = {"id": step.plan.id, "startedAt": format_timestamp(step.started_us)}
    if step.ended_us is not None:
        times["endedAt"] = format_timestamp(step.ended_us)
    return times


def _stopped(execution: ExecutionRecord, now: Micros) -> ExecutionRecord:
    """What ``execution`` will be once stopped at ``now``: reported to the store before the
    record itself changes. A shallow copy: the plan and its timeline are shared, not
    worked out again (they do not depend on the stop)."""
    stopped = copy.copy(execution)
    stopped.stopped_us = now
    return stopped


def _size(store: TenantStore) -> int:
    return len(store.tasks) + len(store.executions)


def _keys_after(cursor: TaskKey | None, keys: Iterable[TaskKey]) -> list[TaskKey]:
    ordered = sorted(set(keys))
    return ordered if cursor is None else [key for key in ordered if key > cursor]


def _task_candidates(
    tenant: TenantStore,
    cursor: TaskKey | None,
    environments: set[str],
    references: set[str],
    task_ids: set[str],
) -> Iterable[TaskKey]:
    """Keys after ``cursor``, in order, that include every task the filter matches.

    The work is bounded by the request or by the page, never by the tenant's size: named
    tasks are looked up, an environment and reference pair names at most one task, and
    otherwise the matches of the field with fewer of them are read from its index.
    """
    tasks = tenant.tasks
    if task_ids:
        return _keys_after(cursor, (tasks[i].key for i in task_ids if i in tasks))
    if environments and references and "" not in references:
        found = (tenant.references.get((e, r)) for e in environments for r in references)
        return _keys_after(cursor, (tasks[i].key for i in found if i is not None))
    fields = [(tenant.tasks_by_environment, environments), (tenant.tasks_by_reference, references)]
    return _smallest_match(fields, cursor) or ()


def _smallest_match(
    fields: Iterable[tuple[Indexes, set[str]]], cursor: TaskKey | None
) -> Iterator[TaskKey] | None:
    """The keys after ``cursor`` matching the filtered field with the fewest matches (the
    others still need checking); None when no field is filtered."""
    best: list[OrderedIndex] | None = None
    best_size = 0
    for indexes, values in fields:
        if not values:
            continue
        chosen = [index for value in values if (index := index_of(indexes, value)) is not None]
        size = sum(len(index) for index in chosen)
        if best is None or size < best_size:
            best, best_size = chosen, size
    return None if best is None else paging.merged_after(best, cursor)


def _list_response(field: str, items: list[JsonObject], token: str) -> JsonObject:
    response: JsonObject = {}
    if items:
        response[field] = items
    response["pagination"] = {"nextToken": token} if token else {}
    return response
