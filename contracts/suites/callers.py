"""More than one caller: broken object-level authorization (OWASP API1).

Runs only with a second caller (``--second-token``), a principal with no access to the
run's environments; the suite never guesses one, and without it reports the check as
not run. The first caller creates a task and starts it; the second then calls every
id-taking method on them (GetTask, UpdateTask, StartTask, GetTaskExecution,
StopTaskExecution, DeleteTask), which must be refused (``not_found`` or
``permission_denied``), and lists tasks and executions, unfiltered and filtered by the
first caller's ids, environment and reference, which must leave them out. Then the first
caller reads them again: refused or not, the second caller's calls changed nothing.

Read-only, the first caller creates nothing: the second probes what the first can list.
"""

from __future__ import annotations

from typing import Any

from contracts.checks import (
    COMMON_CHECKS,
    Check,
    next_page_token,
    other_caller_denied,
    other_caller_left_execution,
    other_caller_left_executions,
    other_caller_left_task,
    other_caller_lists_exclude,
    valid_request_accepted,
)
from contracts.context import RunContext
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed
from contracts.preflight import SetupError

__all__ = ["SUITE", "run_callers"]

SUITE = "callers"
NOT_RUN = "no --second-token given: object-level authorization not checked"
_PAGE = 100
_MAX_PAGES = 10  # the second caller may have tasks of its own; ours would be among them
_PROBED = 3  # read-only: how many of the first caller's tasks and executions are probed


class _CannotProbe(Exception):
    """The probe cannot go on, nor judge: a call kept failing transiently (429/503), or
    the first caller could not make or read what the second is to be denied."""


class _Probe:
    def __init__(self, ctx: RunContext, second: Client) -> None:
        self.ctx = ctx
        self.first = ctx.client
        self.second = second

    def call(
        self, client: Client, operation: str, body: dict[str, Any], checks: tuple[Check, ...]
    ) -> Exchange:
        exchange = client.send(SUITE, operation, body)
        self.ctx.check(SUITE, exchange, COMMON_CHECKS + checks)
        if exchange.transient:
            raise _CannotProbe(f"{operation} kept answering {exchange.describe(60)}")
        return exchange

    def owned(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call of the first caller that must succeed for the probe to go on."""
        exchange = self.call(self.first, operation, body, (valid_request_accepted,))
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            refused = exchange.error_code in ("not_found", "permission_denied")
            if operation == "CreateTask" and refused:
                raise SetupError(
                    f"CreateTask in environment {body.get('environmentId')} got "
                    f"{exchange.describe(160)}; pass an environment the token may create "
                    "tasks in with --environment-id"
                )
            raise _CannotProbe(f"the first caller's {operation} got {exchange.describe(120)}")
        result: dict[str, Any] = exchange.body
        return result

    def second_caller_accepted(self) -> None:
        """A second token the server does not know at all is a setup problem, not a pass."""
        exchange = self.second.send(SUITE, "ListTasks", {"pagination": {"pageSize": 1}})
        if exchange.status == 401:
            raise SetupError(
                f"{self.second.base_url} refuses the second token (HTTP 401 on ListTasks); "
                "check --second-token"
            )

    def denied(self, operation: str, body: dict[str, Any]) -> Exchange:
        return self.call(self.second, operation, body, (other_caller_denied,))

    def lists_leave_out(
        self,
        hidden: frozenset[str],
        task_filters: list[dict[str, Any]],
        execution_filters: list[dict[str, Any]],
    ) -> None:
        """The second caller's lists, unfiltered (every page) and by each filter."""
        checks = (valid_request_accepted, other_caller_lists_exclude(hidden))
        for operation, filters in (
            ("ListTasks", task_filters),
            ("ListTaskExecutions", execution_filters),
        ):
            token = ""
            used: set[str] = set()
            for _ in range(_MAX_PAGES):
                pagination: dict[str, Any] = {"pageSize": _PAGE}
                if token:
                    pagination["token"] = token
                page = self.call(self.second, operation, {"pagination": pagination}, checks)
                try:
                    token = next_page_token(page, used)
                except CheckFailed as problem:
                    self.ctx.fail(SUITE, operation, problem, page.curl)
                    break
                if not token:
                    break
            for flt in filters:
                self.call(self.second, operation, {"filter": flt}, checks)

    # -- the two probes -----------------------------------------------------------------------

    def probe_created(self) -> None:
        """The first caller's own task and execution, probed by the second, then re-read."""
        env = self.ctx.environment_ids[0]
        reference = f"contracts-{self.ctx.run_id}-callers"
        created = self.owned(
            "CreateTask",
            {
                "environmentId": env,
                "metadata": {"name": "Contract callers", "reference": reference},
                "spec": {"command": "sleep 30"},
            },
        )
        task_id = str((created.get("task") or {}).get("id"))
        task = self.owned("GetTask", {"id": task_id}).get("task")
        started = self.owned("StartTask", {"id": task_id}).get("taskExecution")
        execution_id = str((started or {}).get("id"))
        if not isinstance(task, dict) or not isinstance(started, dict):
            raise _CannotProbe("the first caller's task or execution came without a body")

        self.denied("GetTask", {"id": task_id})
        self.denied("UpdateTask", {"id": task_id, "metadata": {"name": "Taken over"}})
        self.denied("StartTask", {"id": task_id})
        self.denied("GetTaskExecution", {"id": execution_id})
        self.denied("StopTaskExecution", {"id": execution_id})
        self.denied("DeleteTask", {"id": task_id})
        self.lists_leave_out(
            frozenset({task_id, execution_id}),
            [{"taskIds": [task_id]}, {"environmentIds": [env]}, {"references": [reference]}],
            [{"taskIds": [task_id]}, {"environmentIds": [env]}, {"taskReferences": [reference]}],
        )

        # Refused or not, nothing the second caller sent may have had an effect.
        self.call(self.first, "GetTask", {"id": task_id}, (other_caller_left_task(task),))
        self.call(
            self.first, "GetTaskExecution", {"id": execution_id}, (other_caller_left_execution,)
        )
        self.call(
            self.first,
            "ListTaskExecutions",
            {"filter": {"taskIds": [task_id]}},
            (other_caller_left_executions(task_id, frozenset({execution_id})),),
        )

    def probe_listed(self) -> bool:
        """Read-only: what the first caller can list, probed by the second (reads only).

        False when the first caller sees nothing, so there is nothing to probe.
        """
        tasks = self.owned("ListTasks", {"pagination": {"pageSize": _PROBED}}).get("tasks") or []
        executions = (
            self.owned("ListTaskExecutions", {"pagination": {"pageSize": _PROBED}}).get(
                "taskExecutions"
            )
            or []
        )
        task_ids = [str(t["id"]) for t in tasks if isinstance(t, dict) and "id" in t]
        execution_ids = [str(e["id"]) for e in executions if isinstance(e, dict) and "id" in e]
        if not task_ids and not execution_ids:
            return False
        environments = sorted(
            {str(t["environmentId"]) for t in tasks if isinstance(t, dict) and "environmentId" in t}
        )
        for task_id in task_ids:
            self.denied("GetTask", {"id": task_id})
        for execution_id in execution_ids:
            self.denied("GetTaskExecution", {"id": execution_id})
        by_environment = [{"environmentIds": environments}] if environments else []
        self.lists_leave_out(
            frozenset(task_ids + execution_ids),
            [{"taskIds": task_ids}, *by_environment] if task_ids else by_environment,
            [{"taskIds": task_ids}, *by_environment] if task_ids else by_environment,
        )
        return True


def run_callers(ctx: RunContext) -> None:
    """Probe with the second caller; without one, record the suite as not run."""
    if ctx.second_client is None:
        ctx.findings.skip(SUITE, NOT_RUN)
        ctx.progress(f"  {SUITE:<9} not run: {NOT_RUN}")
        return
    probe = _Probe(ctx, ctx.second_client)
    probe.second_caller_accepted()
    name = "read-only-probe" if ctx.config.read_only else "object-level-authorization"
    with ctx.unit(SUITE, name):
        try:
            if ctx.config.read_only:
                if not probe.probe_listed():
                    reason = "the first caller lists nothing to probe (read-only)"
                    ctx.findings.skip(SUITE, reason)
                    ctx.progress(f"  {SUITE:<9} not run: {reason}")
                    return
            else:
                probe.probe_created()
            ctx.findings.count_case(SUITE)
        except _CannotProbe as cannot:
            ctx.findings.skip(SUITE, f"could not probe: {cannot}")
            ctx.progress(f"  {SUITE:<9} {name} could not probe: {cannot}")
            return
    ctx.progress(f"  {SUITE:<9} {name:<26} done")
