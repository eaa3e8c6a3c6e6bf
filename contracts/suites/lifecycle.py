"""Explicit scenarios over the resources' lifecycle, written by hand with the client.

They assert what the published reference promises and nothing the fake chooses:
create then get returns what was sent; an update is reflected; every id-taking method
answers ``not_found`` for an id that never existed and for a deleted task, which no list
shows and no new task may depend on; paging returns each item once and filters are
honoured; an execution reaches a terminal phase within the time budget (one of a task
with a dependency too, whose plan has two groups), and a finished
one stays exactly as it was after StopTaskExecution; a stopped execution ends STOPPED
unless it had already finished. A read-only run asserts only what reads can show.

Every call draws a dialect (see :mod:`contracts.dialects`). Two scenarios are about the
dialects themselves: the same reads sent in every chosen dialect get the same answers as
in JSON POST (``dialects_agree``, ``connect_get_matches_post``), and requests the Connect
protocol refuses (an HTTP method a procedure does not take, an unknown GET ``encoding``)
get the protocol's refusal (``connect_protocol_refusal``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.checks import COMMON_CHECKS, answers_agree, next_page_token, protocol_refusal
from contracts.context import RunContext
from contracts.dialects import JSON_POST, Dialect, draw_dialect, encode_message, variants
from contracts.exchange import Exchange
from contracts.failures import CheckFailed
from contracts.invariants import DELETED_TASK_NOT_FOUND, TERMINAL_PHASES, parse_timestamp
from contracts.preflight import SetupError
from openapi.dialects import build_get_query

__all__ = [
    "CREATE_GET_ROUNDTRIP",
    "DELETED_TASK_NOT_FOUND",
    "DELETED_TASK_NOT_USABLE",
    "EXECUTION_REACHES_TERMINAL_PHASE",
    "FINISHED_EXECUTION_UNCHANGED",
    "LIST_FILTER_HONOURED",
    "LIST_PAGES_UNIQUE",
    "STOP_EXECUTION_STOPS",
    "UNKNOWN_ID_NOT_FOUND",
    "UPDATE_REFLECTED",
    "run_lifecycle",
]

CREATE_GET_ROUNDTRIP = "create_get_roundtrip"
UPDATE_REFLECTED = "update_reflected"
DELETED_TASK_NOT_USABLE = "deleted_task_not_usable"
UNKNOWN_ID_NOT_FOUND = "unknown_id_not_found"
FINISHED_EXECUTION_UNCHANGED = "finished_execution_unchanged"
LIST_PAGES_UNIQUE = "list_pages_unique"
LIST_FILTER_HONOURED = "list_filter_honoured"
EXECUTION_REACHES_TERMINAL_PHASE = "execution_reaches_terminal_phase"
STOP_EXECUTION_STOPS = "stop_execution_stops"

_SUITE = "lifecycle"
_PAGED_TASKS = 5
_PAGE_SIZE = 2
_MAX_PAGES = 200  # an environment of a real deployment may hold other tasks too
_PENDING = "TASK_EXECUTION_PHASE_PENDING"
# The id-taking methods and a valid request for an id; UpdateTask needs something to change.
_BY_TASK_ID = ("GetTask", "UpdateTask", "DeleteTask", "StartTask")
_BY_EXECUTION_ID = ("GetTaskExecution", "StopTaskExecution")


def _id_request(operation: str, key: str) -> dict[str, Any]:
    if operation == "UpdateTask":
        return {"id": key, "metadata": {"name": "Contract update"}}
    return {"id": key}


class _GaveUp(Exception):
    """A call kept failing transiently (429/503): the scenario cannot go on, nor judge."""


class _ScenarioFailed(CheckFailed):
    def __init__(self, check: str, received: str, expected: str, exchange: Exchange) -> None:
        super().__init__(check, received, expected)
        self.exchange = exchange


def _differences(sent: Any, got: Any, path: str = "") -> list[str]:
    """Where ``got`` lacks or changes a value of ``sent`` (extra server fields are fine)."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{path or '/'}: {got!r}"]
        found: list[str] = []
        for key, value in sent.items():
            found += _differences(value, got.get(key), f"{path}/{key}")
        return found
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [f"{path}: {got!r}"]
        found = []
        for index, (a, b) in enumerate(zip(sent, got, strict=True)):
            found += _differences(a, b, f"{path}/{index}")
        return found
    return [] if sent == got else [f"{path}: {got!r}"]


class _Scenarios:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.last: Exchange
        # Set by the scenarios for the ones after them: env, build_id, test_id, paged_ids.
        self.env: str
        self.build_id: str
        self.test_id: str
        self.paged_ids: list[str]
        self.build_request: dict[str, Any]

    # -- plumbing -----------------------------------------------------------------------------

    def call(
        self, operation: str, body: dict[str, Any], dialect: Dialect | None = None
    ) -> Exchange:
        if dialect is None:
            dialect = draw_dialect(self.ctx.seed, operation, body, self.ctx.config.dialects)
        exchange = self.ctx.client.send(_SUITE, operation, body, dialect=dialect)
        self.ctx.check(_SUITE, exchange, COMMON_CHECKS)
        if exchange.transient:
            raise _GaveUp(operation)
        return exchange

    def environment(self, index: int) -> str:
        """A given environment (``--environment-id``), else a fresh random one."""
        given = self.ctx.config.environment_ids
        return given[index % len(given)] if given else str(uuid.uuid4())

    def ok(self, check: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        exchange = self.call(operation, body)
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            raise _ScenarioFailed(
                check, exchange.describe(), f"HTTP 200 from {operation}", exchange
            )
        self.last = exchange
        result: dict[str, Any] = exchange.body
        return result

    def expect_not_found(
        self, check: str, operation: str, body: dict[str, Any], what: str = "a deleted task"
    ) -> None:
        exchange = self.call(operation, body)
        if exchange.status != 404 or exchange.error_code != "not_found":
            raise _ScenarioFailed(
                check,
                exchange.describe(),
                f'HTTP 404 {{"code": "not_found"}} from {operation} on {what}',
                exchange,
            )

    def fail(self, check: str, received: str, expected: str) -> None:
        raise _ScenarioFailed(check, received, expected, self.last)

    def reference(self, name: str) -> str:
        return f"contracts-{self.ctx.run_id}-{name}"

    def create(self, check: str, request: dict[str, Any]) -> dict[str, Any]:
        exchange = self.call("CreateTask", request)
        if exchange.error_code in ("not_found", "permission_denied"):
            env = request.get("environmentId")
            if self.ctx.config.environment_ids:
                advice = "pass an environment the token may create tasks in"
            else:
                advice = "a real deployment needs --environment-id ID (an environment it knows)"
            raise SetupError(
                f"CreateTask in environment {env} got {exchange.describe(160)}; {advice}"
            )
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            raise _ScenarioFailed(check, exchange.describe(), "HTTP 200 from CreateTask", exchange)
        self.last = exchange
        task = exchange.body.get("task")
        if not isinstance(task, dict) or not isinstance(task.get("id"), str):
            self.fail(check, exchange.describe(), "a created task with an id")
        assert isinstance(task, dict)
        return task

    # -- scenarios ----------------------------------------------------------------------------

    def create_get(self) -> None:
        check = CREATE_GET_ROUNDTRIP
        self.env = self.environment(0)
        self.build_request = {
            "environmentId": self.env,
            "metadata": {
                "name": "Contract build",
                "description": "Created by the contract suite",
                "reference": self.reference("build"),
                "triggeredBy": [{"manual": True}],
            },
            "spec": {
                "command": "echo contracts",
                "env": [{"name": "CONTRACTS", "value": "1"}],
                "runsOn": {"docker": {"image": "ubuntu:22.04", "environment": ["A=1"]}},
            },
        }
        created = self.create(check, self.build_request)
        self.build_id = str(created["id"])
        self._same(check, "CreateTask response", self.build_request, created)
        got = self.ok(check, "GetTask", {"id": self.build_id}).get("task")
        self._same(check, "GetTask", {**self.build_request, "id": self.build_id}, got)

        dependent = {
            "environmentId": self.env,
            "dependsOn": [self.build_id],
            "metadata": {"name": "Contract test", "reference": self.reference("test")},
            "spec": {"command": "echo test", "runsOn": {"machine": {}}},
        }
        self.test_id = str(self.create(check, dependent)["id"])
        got = self.ok(check, "GetTask", {"id": self.test_id}).get("task")
        self._same(check, "GetTask", {**dependent, "id": self.test_id}, got)

    def _same(self, check: str, where: str, sent: dict[str, Any], got: object) -> None:
        differences = _differences(sent, got)
        if differences:
            self.fail(
                check,
                f"{where} differs from what was sent at {'; '.join(differences[:4])}",
                "every field sent (server-owned fields aside) read back unchanged",
            )

    def update(self) -> None:
        check = UPDATE_REFLECTED
        change = {
            "id": self.build_id,
            "metadata": {"name": "Contract build (renamed)"},
            "spec": {"command": "echo updated"},
        }
        self.ok(check, "UpdateTask", change)
        got = self.ok(check, "GetTask", {"id": self.build_id}).get("task")
        expected = {
            "id": self.build_id,
            "environmentId": self.env,
            "metadata": {
                "name": "Contract build (renamed)",
                "description": "Created by the contract suite",
                "reference": self.reference("build"),
            },
            "spec": {"command": "echo updated"},
        }
        differences = _differences(expected, got)
        if differences:
            self.fail(
                check,
                f"GetTask after UpdateTask at {'; '.join(differences[:4])}",
                "the updated name and command, the fields not in the update kept",
            )

    def paging_and_filters(self) -> None:
        env = self.environment(1)
        ids: list[str] = []
        for index in range(_PAGED_TASKS):
            request = {
                "environmentId": env,
                "metadata": {"name": f"Paged {index}", "reference": self.reference(f"page{index}")},
                "spec": {"command": "true"},
            }
            ids.append(str(self.create(LIST_PAGES_UNIQUE, request)["id"]))
        self.paged_ids = ids

        seen: list[str] = []
        foreign: list[str] = []
        token = ""
        used: set[str] = set()
        for _ in range(_MAX_PAGES):
            page_request: dict[str, Any] = {
                "filter": {"environmentIds": [env]},
                "pagination": {"pageSize": _PAGE_SIZE, **({"token": token} if token else {})},
            }
            page = self.ok(LIST_PAGES_UNIQUE, "ListTasks", page_request)
            tasks = [t for t in page.get("tasks", []) if isinstance(t, dict)]
            if len(tasks) > _PAGE_SIZE:
                self.fail(
                    LIST_PAGES_UNIQUE,
                    f"a page of {len(tasks)} tasks",
                    f"at most pageSize={_PAGE_SIZE} tasks per page",
                )
            for task in tasks:
                seen.append(str(task.get("id")))
                if task.get("environmentId") != env:
                    foreign.append(str(task.get("id")))
            try:
                token = next_page_token(self.last, used)
            except CheckFailed as problem:
                raise _ScenarioFailed(
                    problem.check, problem.received, problem.expected, self.last
                ) from None
            if not token:
                break
        if foreign:
            self.fail(
                LIST_FILTER_HONOURED,
                f"ListTasks filtered by environmentIds [{env}] returned tasks {foreign[:3]} "
                "of other environments",
                "only tasks of the listed environments",
            )
        repeated = sorted({task for task in seen if seen.count(task) > 1})
        if repeated:
            self.fail(
                LIST_PAGES_UNIQUE,
                f"tasks {repeated[:3]} on more than one page (or twice on one)",
                "every task exactly once across the pages",
            )
        missing = [task for task in ids if task not in seen]
        if missing:
            self.fail(
                LIST_PAGES_UNIQUE,
                f"paging with pageSize={_PAGE_SIZE} never returned tasks {missing[:3]}",
                f"all {_PAGED_TASKS} tasks of the environment, each exactly once",
            )

        wanted = ids[3]
        by_reference = {
            "filter": {"environmentIds": [env], "references": [self.reference("page3")]}
        }
        self._exactly(by_reference, [wanted], "references")
        self._exactly({"filter": {"taskIds": [ids[1], ids[4]]}}, [ids[1], ids[4]], "taskIds")

    def _exactly(self, request: dict[str, Any], expected: list[str], name: str) -> None:
        page = self.ok(LIST_FILTER_HONOURED, "ListTasks", request)
        got = sorted(str(t.get("id")) for t in page.get("tasks", []) if isinstance(t, dict))
        if got != sorted(expected):
            self.fail(
                LIST_FILTER_HONOURED,
                f"ListTasks filtered by {name} returned tasks {got}",
                f"exactly {sorted(expected)}",
            )

    def unknown_ids(self) -> None:
        """Every id-taking method on an id that never existed: not_found."""
        operations = _BY_TASK_ID + _BY_EXECUTION_ID
        allowed = self.ctx.client.allowed
        for operation in operations:
            if allowed is None or operation in allowed:
                request = _id_request(operation, str(uuid.uuid4()))
                self.expect_not_found(UNKNOWN_ID_NOT_FOUND, operation, request, "an unknown id")
        for operation, name in (("ListTasks", "tasks"), ("ListTaskExecutions", "taskExecutions")):
            unknown = str(uuid.uuid4())
            page = self.ok(LIST_FILTER_HONOURED, operation, {"filter": {"taskIds": [unknown]}})
            if page.get(name):
                self.fail(
                    LIST_FILTER_HONOURED,
                    f"{operation} filtered by taskIds [{unknown}] (no such task) returned "
                    f"{len(page[name])} item(s)",
                    "an empty list",
                )

    def delete(self) -> None:
        check = DELETED_TASK_NOT_FOUND
        victim = self.paged_ids[0]
        self.ok(check, "DeleteTask", {"id": victim})
        for operation in _BY_TASK_ID:
            self.expect_not_found(check, operation, _id_request(operation, victim))
        listed = self.ok(check, "ListTasks", {"filter": {"taskIds": [victim]}})
        if listed.get("tasks"):
            self.fail(
                check,
                f"ListTasks filtered by taskIds [{victim}] still lists the deleted task",
                "an empty list: a deleted task is gone",
            )
        dependent = {
            "environmentId": self.environment(1),
            "dependsOn": [victim],
            "metadata": {"name": "Contract orphan", "reference": self.reference("orphan")},
            "spec": {"command": "true"},
        }
        exchange = self.call("CreateTask", dependent)
        if exchange.status == 200:
            raise _ScenarioFailed(
                DELETED_TASK_NOT_USABLE,
                f"CreateTask with dependsOn [{victim}] (a deleted task): {exchange.describe()}",
                "an error: no task may depend on a task that no longer exists",
                exchange,
            )

    def _wait_terminal(self, check: str, execution_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.ctx.config.lifecycle_timeout
        delay = 0.05
        seen: set[object] = set()
        while True:
            self.ctx.stop_if_interrupted()
            body = self.ok(check, "GetTaskExecution", {"id": execution_id})
            execution = body.get("taskExecution")
            status = execution.get("status", {}) if isinstance(execution, dict) else {}
            phase = status.get("phase") if isinstance(status, dict) else None
            seen.add(phase)
            if phase in TERMINAL_PHASES:
                assert isinstance(execution, dict)
                return execution
            if time.monotonic() >= deadline:
                hint = ""
                if seen == {_PENDING}:
                    hint = (
                        "; it never left PENDING: if this is the fake, it may be on a manual "
                        "clock (--clock manual), which only POST /_mock/clock/advance moves; "
                        "give the suite a fake on a real clock: `mockserver` without "
                        '--clock manual, or MockServer(clock="real") in Python'
                    )
                self.fail(
                    check,
                    f"execution {execution_id} still in phase {phase} after "
                    f"{self.ctx.config.lifecycle_timeout:g} s{hint}",
                    "a terminal phase (SUCCEEDED, FAILED or STOPPED) within the time budget "
                    "(--lifecycle-timeout)",
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _start(self, check: str, task_id: str) -> str:
        execution = self.ok(check, "StartTask", {"id": task_id}).get("taskExecution")
        if not isinstance(execution, dict) or not isinstance(execution.get("id"), str):
            self.fail(check, self.last.describe(), "a new execution with an id")
        assert isinstance(execution, dict)
        metadata = execution.get("metadata")
        owner = metadata.get("taskId") if isinstance(metadata, dict) else None
        if owner not in (None, "", task_id):
            self.fail(check, f"an execution of task {owner}", f"an execution of task {task_id}")
        return str(execution["id"])

    def run_to_completion(self) -> None:
        check = EXECUTION_REACHES_TERMINAL_PHASE
        execution_id = self._start(check, self.build_id)
        finished = self._wait_terminal(check, execution_id)
        self.finished_id = execution_id
        self._stop_changes_nothing(finished)
        listed = self.ok(
            LIST_FILTER_HONOURED, "ListTaskExecutions", {"filter": {"taskIds": [self.build_id]}}
        )
        executions = [e for e in listed.get("taskExecutions", []) if isinstance(e, dict)]
        owners = {
            str(e.get("metadata", {}).get("taskId"))
            for e in executions
            if isinstance(e.get("metadata"), dict)
        }
        if execution_id not in {str(e.get("id")) for e in executions} or owners - {self.build_id}:
            self.fail(
                LIST_FILTER_HONOURED,
                f"ListTaskExecutions filtered by taskIds [{self.build_id}] returned executions "
                f"of tasks {sorted(owners)}",
                f"execution {execution_id}, and only executions of task {self.build_id}",
            )

    def run_dependent(self) -> None:
        """The task that depends on another: a plan of two groups, watched to the end.

        The new execution is listed at once; the rest is asserted by the ledger
        (:mod:`contracts.invariants`), which sees every read: the groups run one after the
        other, step statuses are the plan's.
        """
        check = EXECUTION_REACHES_TERMINAL_PHASE
        execution_id = self._start(check, self.test_id)
        # Listed from its start, not only once finished (and its status there is the one
        # GetTaskExecution gives at the same version: the ledger compares them).
        listed = self.ok(
            LIST_FILTER_HONOURED, "ListTaskExecutions", {"filter": {"taskIds": [self.test_id]}}
        )
        ids = [str(e.get("id")) for e in listed.get("taskExecutions", []) if isinstance(e, dict)]
        if execution_id not in ids:
            self.fail(
                LIST_FILTER_HONOURED,
                f"ListTaskExecutions filtered by taskIds [{self.test_id}] right after "
                f"StartTask returned {ids}",
                f"execution {execution_id}, started by that StartTask",
            )
        self._wait_terminal(check, execution_id)

    def _stop_changes_nothing(self, finished: dict[str, Any]) -> None:
        """StopTaskExecution on a finished execution: every later read shows it unchanged.

        The call itself may succeed or be refused (the reference does not say which); what
        it may not do is touch the execution. ``status.logUrl`` is left out of the
        comparison: a deployment may sign it anew on each read.
        """
        check = FINISHED_EXECUTION_UNCHANGED
        execution_id = str(finished["id"])
        self.call("StopTaskExecution", {"id": execution_id})
        expected = _comparable(finished)
        for attempt in range(2):
            if attempt:
                time.sleep(0.3)  # a change applied in the background shows up late
            read = self.ok(check, "GetTaskExecution", {"id": execution_id}).get("taskExecution")
            differences = _differences(expected, _comparable(read))
            differences += _differences(_comparable(read), expected)
            if differences:
                self.fail(
                    check,
                    f"after StopTaskExecution the finished execution {execution_id} "
                    f"differs at {'; '.join(sorted(set(differences))[:4])}",
                    "a finished execution exactly as it was before the stop",
                )

    def stop(self) -> None:
        check = STOP_EXECUTION_STOPS
        request = {
            "environmentId": self.env,
            "metadata": {"name": "Contract long run", "reference": self.reference("long")},
            "spec": {"command": "sleep 60"},
        }
        task_id = str(self.create(check, request)["id"])
        execution_id = self._start(check, task_id)
        before = self.ok(check, "GetTaskExecution", {"id": execution_id}).get("taskExecution")
        phase_before = (before or {}).get("status", {}).get("phase")
        stop_sent = datetime.now(UTC)
        self.ok(check, "StopTaskExecution", {"id": execution_id})
        execution = self._wait_terminal(check, execution_id)
        phase = execution.get("status", {}).get("phase")
        if phase == "TASK_EXECUTION_PHASE_STOPPED" or phase_before in TERMINAL_PHASES:
            return
        completed = parse_timestamp(execution.get("metadata", {}).get("completedAt"))
        if completed is not None and completed <= stop_sent:
            return  # it finished before the stop arrived
        self.fail(
            check,
            f"execution {execution_id}, in phase {phase_before} when stopped, ended {phase}",
            "phase STOPPED, since it had not finished when StopTaskExecution was called",
        )

    # -- dialects -------------------------------------------------------------------------------

    def _reads(self) -> list[tuple[str, dict[str, Any]]]:
        """Reads whose answers stay put while the scenario runs: what the run made and
        finished, filtered to it, and ids that never existed."""
        unknown = str(uuid.uuid4())
        reads: list[tuple[str, dict[str, Any]]] = [
            ("GetTask", {"id": unknown}),
            ("ListTaskExecutions", {"filter": {"taskIds": [unknown]}}),
        ]
        if hasattr(self, "build_id"):
            reads += [
                ("GetTask", {"id": self.build_id}),
                ("ListTasks", {"filter": {"taskIds": [self.build_id, self.test_id]}}),
            ]
        if hasattr(self, "finished_id"):
            reads += [
                ("GetTaskExecution", {"id": self.finished_id}),
                ("ListTaskExecutions", {"filter": {"taskIds": [self.build_id]}}),
            ]
        return reads

    def dialects_agree(self) -> None:
        """Each read in JSON POST, then in every other chosen dialect: the same answer."""
        others = [
            dialect
            for family in self.ctx.config.dialects
            for dialect in variants(family)
            if dialect != JSON_POST
        ]
        for operation, body in self._reads():
            reference = self.call(operation, body, JSON_POST)
            for dialect in others:
                other = self.call(operation, body, dialect)
                try:
                    answers_agree(reference, other)
                except CheckFailed as problem:
                    self.ctx.fail(_SUITE, operation, problem, other.curl, dialect.name)

    def protocol_refusals(self) -> None:
        """What the Connect protocol refuses, refused as it says: 405 with ``Allow`` for an
        HTTP method a procedure does not take, 415 for a GET ``encoding`` it does not speak.
        A read-only run leaves out the GET of a method with side effects."""
        client = self.ctx.client
        message = {"id": str(uuid.uuid4())}
        probes: list[tuple[str, str, str, bytes]] = [
            ("GetTask", "PUT", "", encode_message(JSON_POST, "GetTask", message)),
            ("GetTask", "GET", build_get_query("yaml", b"id: x", use_base64=False), b""),
        ]
        if client.allowed is None:
            query = build_get_query("json", encode_message(JSON_POST, "DeleteTask", message))
            probes.append(("DeleteTask", "GET", query, b""))
        for operation, http_method, query, payload in probes:
            headers = {"Connect-Protocol-Version": "1", "Authorization": f"Bearer {client.token}"}
            if payload:
                headers["Content-Type"] = "application/json"
            url = client.url_for(operation) + (f"?{query}" if query else "")
            exchange = client.exchange(operation, http_method, url, headers, payload)
            client.record(_SUITE, exchange)
            if exchange.transient:
                raise _GaveUp(operation)
            try:
                protocol_refusal(exchange, self.ctx.document)
            except CheckFailed as problem:
                self.ctx.fail(_SUITE, operation, problem, exchange.curl, exchange.dialect.name)


def _comparable(execution: object) -> object:
    """An execution without ``status.logUrl``, for comparing two reads."""
    if not isinstance(execution, dict):
        return execution
    status = execution.get("status")
    if isinstance(status, dict):
        execution = {**execution, "status": {k: v for k, v in status.items() if k != "logUrl"}}
    return execution


def run_lifecycle(ctx: RunContext) -> None:
    """Run the scenarios in order; a scenario whose set-up failed is skipped, not failed.

    What the scenarios create is cleaned up by the run (see :mod:`contracts.cleanup`).
    """
    scenarios = _Scenarios(ctx)
    # (name, scenario, the attribute an earlier scenario must have set)
    steps: list[tuple[str, Callable[[], None], str | None]] = [
        ("unknown-ids", scenarios.unknown_ids, None),
    ]
    if not ctx.config.read_only:
        steps += [
            ("create-get", scenarios.create_get, None),
            ("update-get", scenarios.update, "build_id"),
            ("paging-filters", scenarios.paging_and_filters, None),
            ("delete", scenarios.delete, "paged_ids"),
            ("start-complete", scenarios.run_to_completion, "build_id"),
            ("start-dependent", scenarios.run_dependent, "test_id"),
            ("start-stop", scenarios.stop, "build_id"),
        ]
    steps += [
        ("dialects-agree", scenarios.dialects_agree, None),
        ("protocol-refusals", scenarios.protocol_refusals, None),
    ]
    for name, step, requires in steps:
        if requires is not None and not hasattr(scenarios, requires):
            ctx.progress(f"  {_SUITE:<9} {name:<20} skipped (its set-up failed)")
            continue
        with ctx.unit(_SUITE, name):
            ctx.findings.count_case(_SUITE)
            try:
                step()
            except _ScenarioFailed as problem:
                ctx.fail(_SUITE, problem.exchange.operation, problem, problem.exchange.curl)
            except _GaveUp as gave_up:
                ctx.progress(f"  {_SUITE:<9} {name:<20} gave up: {gave_up} kept failing")
                continue
        ctx.progress(f"  {_SUITE:<9} {name:<20} done")
