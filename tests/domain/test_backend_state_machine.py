"""Random sequences of the nine RPCs, clock moves and stops, checked against invariants.

The universal invariants (a terminal phase never changes, statusVersion never decreases and
grows with every status change, createdAt <= startedAt <= completedAt, completedAt iff
terminal, paging returns each item once) plus the fake's own rules that a small model can
predict (reference uniqueness, dependsOn preconditions, tenant isolation). Every response
must be JSON-serializable proto3 JSON without default values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mockserver.domain import (
    AlreadyExists,
    Caller,
    FailedPrecondition,
    NotFound,
    Phase,
    can_reach,
    parse_timestamp,
)
from mockserver.domain.testing import ENV_A, ENV_B, MISSING_ID, World

SCENARIO = """
rules:
  - match: {reference: "^fail"}
    outcome: fail
    duration: 1.5
    output: {code: "1"}
    logs: ["oops"]
  - match: {reference: "^slow"}
    duration: 4
  - match: {reference: "^quick"}
    duration: 0
"""
REFERENCES = st.sampled_from(["", "", "build", "fail-test", "slow-deploy", "quick", "lint"])
ENVIRONMENTS = st.sampled_from([ENV_A, ENV_B])
TERMINAL_NAMES = {
    "TASK_EXECUTION_PHASE_SUCCEEDED",
    "TASK_EXECUTION_PHASE_FAILED",
    "TASK_EXECUTION_PHASE_STOPPED",
}
PHASE_NAMES = [phase.name for phase in Phase]
TRIGGER_KEYS = {
    "manual",
    "postMachineStart",
    "postEnvironmentStart",
    "postDevcontainerStart",
    "prebuild",
    "beforeSnapshot",
}


@dataclass
class ModelTask:
    caller: Caller
    environment_id: str
    reference: str
    depends_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelExecution:
    caller: Caller
    task_id: str
    environment_id: str
    reference: str


# List filters: each field absent, or one or two values (some matching nothing), so every
# index the store keeps is read alone and combined with the others.
FILTER_ENVIRONMENTS = st.sampled_from([[], [ENV_A], [ENV_B], [ENV_A, ENV_B], [MISSING_ID]])
FILTER_REFERENCES = st.sampled_from([[], ["build"], [""], ["build", "lint"], ["nope"]])
FILTER_PICKS: st.SearchStrategy[list[int]] = st.just([]) | st.lists(
    st.integers(0, 50), min_size=1, max_size=3
)


def assert_canonical(value: Any, path: str = "$") -> None:
    """proto3 JSON as the fake writes it: no null, no numbers, no default scalars/lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            assert isinstance(key, str), where
            if item == "" and key != "value":  # env value is a oneof member
                raise AssertionError(f"{where}: empty string")
            if item is False and key not in TRIGGER_KEYS:
                raise AssertionError(f"{where}: false")
            assert_canonical(item, where)
    elif isinstance(value, list):
        assert value, f"{path}: empty list"
        for index, item in enumerate(value):
            assert_canonical(item, f"{path}[{index}]")
    else:
        assert isinstance(value, str | bool), f"{path}: {value!r} is not a string or bool"


class BackendMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(scenario=SCENARIO)
        self.callers = [self.world.alice, self.world.bob]
        self.tasks: dict[str, ModelTask] = {}
        self.executions: dict[str, ModelExecution] = {}
        self.seen: dict[str, dict[str, Any]] = {}

    # -- helpers ---------------------------------------------------------------------

    def call(self, caller: Caller, method: str, request: dict[str, Any]) -> dict[str, Any]:
        response = self.world.call(method, request, caller)
        assert json.loads(json.dumps(response)) == response
        assert_canonical(response)
        return response

    def pick(self, ids: list[str], index: int) -> str:
        return sorted(ids)[index % len(ids)] if ids else MISSING_ID

    def tasks_of(self, caller: Caller) -> list[str]:
        return [tid for tid, task in self.tasks.items() if task.caller == caller]

    def reaches(self, starts: list[str], target: str) -> bool:
        stack, seen = list(starts), set()
        while stack:
            current = stack.pop()
            if current == target:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(self.tasks[current].depends_on)
        return False

    def dependency_error(
        self, caller: Caller, env: str, deps: list[str], own: str | None
    ) -> type[Exception] | None:
        """The error the dependencies get, checked in order: a missing one (or another
        caller's) is NotFound, one of another environment, itself or a cycle
        FailedPrecondition."""
        for dep in deps:
            task = self.tasks.get(dep)
            if task is None or task.caller != caller:
                return NotFound
            if task.environment_id != env or dep == own:
                return FailedPrecondition
        return FailedPrecondition if own is not None and self.reaches(deps, own) else None

    # -- rules -----------------------------------------------------------------------

    @rule(
        who=st.integers(0, 1),
        reference=REFERENCES,
        env=ENVIRONMENTS,
        deps=st.lists(st.integers(0, 50), max_size=2),
        machine=st.booleans(),
    )
    def create_task(
        self, who: int, reference: str, env: str, deps: list[int], machine: bool
    ) -> None:
        caller = self.callers[who]
        dep_ids = list(dict.fromkeys(self.pick(self.tasks_of(caller), i) for i in deps))
        taken = reference and any(
            t.caller == caller and t.environment_id == env and t.reference == reference
            for t in self.tasks.values()
        )
        request: dict[str, Any] = {
            "environmentId": env,
            "metadata": {"reference": reference, "triggeredBy": [{"manual": True}]},
            "spec": {"command": f"run {reference}", "runsOn": {"machine": {}} if machine else None},
            "dependsOn": dep_ids,
        }
        try:
            task = self.call(caller, "CreateTask", request)["task"]
        except AlreadyExists:
            assert taken
            return
        except (FailedPrecondition, NotFound) as error:
            assert not taken and type(error) is self.dependency_error(caller, env, dep_ids, None)
            return
        assert not taken and self.dependency_error(caller, env, dep_ids, None) is None
        self.tasks[task["id"]] = ModelTask(caller, env, reference, dep_ids)

    @rule(who=st.integers(0, 1), index=st.integers(0, 50))
    def get_task(self, who: int, index: int) -> None:
        caller = self.callers[who]
        task_id = self.pick(list(self.tasks), index)
        try:
            task = self.call(caller, "GetTask", {"id": task_id})["task"]
        except NotFound:
            assert task_id not in self.tasks or self.tasks[task_id].caller != caller
            return
        model = self.tasks[task_id]
        assert model.caller == caller
        assert task["environmentId"] == model.environment_id
        assert task.get("dependsOn", []) == model.depends_on

    @rule(
        who=st.integers(0, 1),
        index=st.integers(0, 50),
        deps=st.lists(st.integers(0, 50), max_size=2),
        name=st.sampled_from(["", "Named", None]),
    )
    def update_task(self, who: int, index: int, deps: list[int], name: str | None) -> None:
        caller = self.callers[who]
        mine = self.tasks_of(caller)
        task_id = self.pick(mine, index)
        dep_ids = list(dict.fromkeys(self.pick(mine, i) for i in deps))
        request: dict[str, Any] = {"id": task_id, "dependsOn": dep_ids}
        if name is not None:
            request["metadata"] = {"name": name}
        if task_id not in self.tasks:
            try:
                self.call(caller, "UpdateTask", request)
            except NotFound:
                return
            raise AssertionError("update of a missing task succeeded")
        model = self.tasks[task_id]
        expect_error = (
            self.dependency_error(caller, model.environment_id, dep_ids, task_id)
            if dep_ids
            else None
        )
        try:
            assert self.call(caller, "UpdateTask", request) == {}
        except (FailedPrecondition, NotFound) as error:
            assert type(error) is expect_error
            return
        assert expect_error is None
        if dep_ids:
            model.depends_on = dep_ids

    @rule(who=st.integers(0, 1), index=st.integers(0, 50))
    def delete_task(self, who: int, index: int) -> None:
        caller = self.callers[who]
        task_id = self.pick(self.tasks_of(caller), index)
        used = any(task_id in t.depends_on for t in self.tasks.values())
        try:
            assert self.call(caller, "DeleteTask", {"id": task_id}) == {}
        except NotFound:
            assert task_id not in self.tasks
            return
        except FailedPrecondition:
            assert used
            return
        assert not used
        del self.tasks[task_id]
        for execution_id, record in self.executions.items():
            if record.caller == caller:
                execution = self.call(caller, "GetTaskExecution", {"id": execution_id})
                if execution["taskExecution"]["metadata"]["taskId"] == task_id:
                    assert execution["taskExecution"]["status"]["phase"] in TERMINAL_NAMES

    @rule(who=st.integers(0, 1), index=st.integers(0, 50))
    def start_task(self, who: int, index: int) -> None:
        caller = self.callers[who]
        task_id = self.pick(self.tasks_of(caller), index)
        try:
            execution = self.call(caller, "StartTask", {"id": task_id})["taskExecution"]
        except NotFound:
            assert task_id not in self.tasks
            return
        assert execution["status"] == {
            "phase": "TASK_EXECUTION_PHASE_PENDING",
            "statusVersion": "1",
        }
        plan = execution["spec"]["plan"]
        assert [step["task"]["id"] for step in plan[-1]["steps"]] == [task_id]
        planned = [step["task"]["id"] for group in plan for step in group["steps"]]
        position = {tid: i for i, tid in enumerate(planned)}
        for tid in planned:
            for dep in self.tasks[tid].depends_on:
                assert position[dep] < position[tid]
        model = self.tasks[task_id]
        self.executions[execution["id"]] = ModelExecution(
            caller, task_id, model.environment_id, model.reference
        )

    @rule(index=st.integers(0, 50))
    def stop_execution(self, index: int) -> None:
        execution_id = self.pick(list(self.executions), index)
        record = self.executions.get(execution_id)
        caller = self.world.alice if record is None else record.caller
        try:
            before = self.call(caller, "GetTaskExecution", {"id": execution_id})["taskExecution"]
            assert self.call(caller, "StopTaskExecution", {"id": execution_id}) == {}
        except NotFound:
            assert execution_id not in self.executions
            return
        after = self.call(caller, "GetTaskExecution", {"id": execution_id})["taskExecution"]
        if before["status"]["phase"] in TERMINAL_NAMES:
            assert after == before
        else:
            assert after["status"]["phase"] == "TASK_EXECUTION_PHASE_STOPPED"
            assert after["spec"]["desiredPhase"] == "TASK_EXECUTION_PHASE_STOPPED"
            assert (
                int(after["status"]["statusVersion"]) == int(before["status"]["statusVersion"]) + 1
            )

    @rule(seconds=st.sampled_from([0, 0.25, 0.5, 1, 1.5, 2, 3.75, 10]))
    def advance(self, seconds: float) -> None:
        self.world.advance(seconds)

    @rule(
        who=st.integers(0, 1),
        size=st.integers(1, 7),
        envs=FILTER_ENVIRONMENTS,
        references=FILTER_REFERENCES,
        picks=FILTER_PICKS,
    )
    def list_tasks(
        self, who: int, size: int, envs: list[str], references: list[str], picks: list[int]
    ) -> None:
        caller = self.callers[who]
        task_ids = [self.pick(list(self.tasks), i) for i in picks]
        filters = {"environmentIds": envs, "references": references, "taskIds": task_ids}
        listed = self.page_through(caller, "ListTasks", "tasks", size, filters)
        expected = {
            tid
            for tid, t in self.tasks.items()
            if t.caller == caller
            and (not envs or t.environment_id in envs)
            and (not references or t.reference in references)
            and (not task_ids or tid in task_ids)
        }
        assert set(listed) == expected

    @rule(
        who=st.integers(0, 1),
        size=st.integers(1, 7),
        phase=st.sampled_from([None, *PHASE_NAMES]),
        envs=FILTER_ENVIRONMENTS,
        references=FILTER_REFERENCES,
        picks=FILTER_PICKS,
    )
    def list_task_executions(
        self,
        who: int,
        size: int,
        phase: str | None,
        envs: list[str],
        references: list[str],
        picks: list[int],
    ) -> None:
        caller = self.callers[who]
        task_ids = [self.pick(list(self.tasks), i) for i in picks]
        phases = [phase] if phase else []
        mine = {eid: e for eid, e in self.executions.items() if e.caller == caller}
        # The manual clock stands still between these calls, so each phase is the listed one.
        phase_of = {
            eid: self.call(caller, "GetTaskExecution", {"id": eid})["taskExecution"]["status"][
                "phase"
            ]
            for eid in mine
        }
        filters = {
            "taskIds": task_ids,
            "taskReferences": references,
            "environmentIds": envs,
            "phases": phases,
        }
        listed = self.page_through(caller, "ListTaskExecutions", "taskExecutions", size, filters)
        expected = {
            eid
            for eid, e in mine.items()
            if (not task_ids or e.task_id in task_ids)
            and (not references or e.reference in references)
            and (not envs or e.environment_id in envs)
            and (not phases or phase_of[eid] in phases)
        }
        assert set(listed) == expected

    @rule()
    def export_import_round_trip(self) -> None:
        exported = self.world.backend.export_state()
        self.world.backend.import_state(json.loads(json.dumps(exported)))
        assert self.world.backend.export_state() == exported

    def page_through(
        self, caller: Caller, method: str, key: str, size: int, filters: dict[str, Any]
    ) -> list[str]:
        ids: list[str] = []
        order: list[tuple[int, str]] = []
        token = ""
        while True:
            response = self.call(
                caller,
                method,
                {"filter": filters, "pagination": {"pageSize": size, "token": token}},
            )
            items = response.get(key, [])
            assert len(items) <= size
            for item in items:
                ids.append(item["id"])
                order.append((parse_timestamp(item["metadata"]["createdAt"]), item["id"]))
            token = response["pagination"].get("nextToken", "")
            if not token:
                break
            assert items
        assert len(ids) == len(set(ids)), "an item was listed twice"
        assert order == sorted(order), "list is not in (createdAt, id) order"
        return ids

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def executions_obey_the_universal_rules(self) -> None:
        for execution_id, record in self.executions.items():
            response = self.call(record.caller, "GetTaskExecution", {"id": execution_id})
            execution = response["taskExecution"]
            status, metadata = execution["status"], execution["metadata"]
            phase = status["phase"]
            version = int(status["statusVersion"])
            terminal = phase in TERMINAL_NAMES
            assert ("completedAt" in metadata) == terminal
            created = parse_timestamp(metadata["createdAt"])
            started = parse_timestamp(metadata.get("startedAt", metadata["createdAt"]))
            completed = parse_timestamp(
                metadata.get("completedAt", metadata.get("startedAt", metadata["createdAt"]))
            )
            assert created <= started <= completed
            if phase == "TASK_EXECUTION_PHASE_PENDING":
                assert "startedAt" not in metadata and "steps" not in status
            if phase == "TASK_EXECUTION_PHASE_FAILED":
                assert status["failureMessage"]
            previous = self.seen.get(execution_id)
            if previous is not None:
                old_status = previous["status"]
                old_version = int(old_status["statusVersion"])
                assert version >= old_version
                if {k: v for k, v in status.items() if k != "statusVersion"} != {
                    k: v for k, v in old_status.items() if k != "statusVersion"
                }:
                    assert version > old_version, "status changed without a new statusVersion"
                assert can_reach(Phase[old_status["phase"]], Phase[phase])
                if old_status["phase"] in TERMINAL_NAMES:
                    assert execution == previous
                old_steps = {s["id"]: s["phase"] for s in old_status.get("steps", [])}
                new_steps = {s["id"]: s["phase"] for s in status.get("steps", [])}
                assert old_steps.keys() <= new_steps.keys()
                for step_id, old_phase in old_steps.items():
                    assert can_reach(Phase[old_phase], Phase[new_steps[step_id]], step=True)
            self.seen[execution_id] = execution


BackendMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_backend_state_machine = BackendMachine.TestCase
