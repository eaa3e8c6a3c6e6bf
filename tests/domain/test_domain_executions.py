"""StartTask, GetTaskExecution, StopTaskExecution and clock-derived progress."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain import NotFound, Timing
from mockserver.domain.testing import MISSING_ID, World

PENDING = "TASK_EXECUTION_PHASE_PENDING"
RUNNING = "TASK_EXECUTION_PHASE_RUNNING"
SUCCEEDED = "TASK_EXECUTION_PHASE_SUCCEEDED"
FAILED = "TASK_EXECUTION_PHASE_FAILED"
STOPPED = "TASK_EXECUTION_PHASE_STOPPED"

FAIL_BUILD = """
rules:
  - match: {reference: "^build$"}
    outcome: fail
    duration: 5
    failure_message: "exit status 2"
    output: {exitCode: "2"}
    logs: ["compiling...", "error: boom"]
  - match: {reference: "^slow$"}
    duration: 10
    output: {result: "ok"}
"""


def _status(execution: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = execution["status"]
    return status


def _step_phases(execution: dict[str, Any]) -> list[str]:
    return [step["phase"] for step in _status(execution).get("steps", [])]


def test_start_task_returns_pending_execution_with_version_1() -> None:
    world = World()
    task = world.create("a", name="A", command="make")
    execution = world.start(task["id"])
    assert execution["metadata"] == {
        "taskId": task["id"],
        "environmentId": task["environmentId"],
        "createdAt": "2026-01-01T00:00:00Z",
        "creator": world.alice.subject,
        "startedBy": "manual",
    }
    assert execution["spec"]["desiredPhase"] == RUNNING
    assert execution["status"] == {"phase": PENDING, "statusVersion": "1"}
    assert world.execution(execution["id"]) == execution


def test_start_task_with_zero_pending_delay_still_answers_pending() -> None:
    world = World(timing=Timing(pending_delay=0))
    execution = world.start(world.create("a")["id"])
    assert _status(execution) == {"phase": PENDING, "statusVersion": "1"}
    assert _status(world.execution(execution["id"]))["phase"] == RUNNING


def test_start_task_unknown_id_not_found() -> None:
    with pytest.raises(NotFound, match=r"task .* not found"):
        World().start(MISSING_ID)


def test_start_task_plan_groups_dependencies_first() -> None:
    world = World()
    base = world.create("base")
    left = world.create("left", depends_on=[base["id"]])
    right = world.create("right", name="Right", depends_on=[base["id"]])
    top = world.create("top", depends_on=[left["id"], right["id"], base["id"]])
    world.create("unrelated")
    plan = world.start(top["id"])["spec"]["plan"]
    assert [[step["task"]["id"] for step in group["steps"]] for group in plan] == [
        [base["id"]],
        [left["id"], right["id"]],
        [top["id"]],
    ]
    assert [[step["label"] for step in group["steps"]] for group in plan] == [
        ["base"],
        ["left", "Right"],
        ["top"],
    ]
    first_ids = [step["id"] for step in plan[0]["steps"]]
    second_ids = [step["id"] for step in plan[1]["steps"]]
    assert "dependsOn" not in plan[0]["steps"][0]
    assert all(step["dependsOn"] == first_ids for step in plan[1]["steps"])
    assert plan[2]["steps"][0]["dependsOn"] == second_ids
    step_ids = first_ids + second_ids + [plan[2]["steps"][0]["id"]]
    assert len(set(step_ids)) == 4


def test_start_task_plan_snapshots_task_spec() -> None:
    world = World()
    task = world.create("a", command="make", runsOn={"machine": {}})
    execution = world.start(task["id"])
    world.call("UpdateTask", {"id": task["id"], "spec": {"command": "changed"}})
    step = world.execution(execution["id"])["spec"]["plan"][0]["steps"][0]
    assert step["task"] == {
        "id": task["id"],
        "spec": {"command": "make", "runsOn": {"machine": {}}},
    }


def test_execution_runs_after_pending_delay() -> None:
    world = World()
    execution = world.start(world.create("a")["id"])
    world.advance(0.999)
    assert _status(world.execution(execution["id"]))["phase"] == PENDING
    world.advance(0.001)
    running = world.execution(execution["id"])
    assert _status(running)["phase"] == RUNNING
    assert running["metadata"]["startedAt"] == "2026-01-01T00:00:01Z"
    assert _status(running)["logUrl"] == (f"http://127.0.0.1:8080/_mock/logs/{execution['id']}")
    assert _step_phases(running) == [RUNNING]
    assert "completedAt" not in running["metadata"]


def test_execution_succeeds_when_every_group_succeeds() -> None:
    world = World()
    dep = world.create("dep")
    task = world.create("a", depends_on=[dep["id"]])
    execution_id = world.start(task["id"])["id"]
    world.advance(3)
    assert _step_phases(world.execution(execution_id)) == [SUCCEEDED, RUNNING]
    world.advance(2)
    done = world.execution(execution_id)
    assert _status(done)["phase"] == SUCCEEDED
    assert _step_phases(done) == [SUCCEEDED, SUCCEEDED]
    assert done["metadata"]["completedAt"] == "2026-01-01T00:00:05Z"
    assert "failureMessage" not in _status(done)


def test_execution_status_version_counts_each_status_change() -> None:
    world = World()
    dep = world.create("dep")
    task = world.create("a", depends_on=[dep["id"]])
    execution_id = world.start(task["id"])["id"]
    versions = []
    for _ in range(7):
        versions.append(int(_status(world.execution(execution_id))["statusVersion"]))
        world.advance(1)
    # t=0 pending; t=1 running + step 1 started; t=3 step 1 ended, step 2 started;
    # t=5 step 2 ended and the execution succeeded.
    assert versions == [1, 3, 3, 5, 5, 7, 7]


def test_execution_fails_at_first_failing_step_and_later_groups_never_start() -> None:
    world = World(scenario=FAIL_BUILD)
    build = world.create("build")
    slow = world.create("slow")
    test = world.create("test", depends_on=[build["id"], slow["id"]])
    execution_id = world.start(test["id"])["id"]
    world.advance(6)  # build (5 s) fails at t=6 while slow (10 s) still runs
    failed = world.execution(execution_id)
    status = _status(failed)
    assert status["phase"] == FAILED
    assert status["failureMessage"] == "exit status 2"
    assert failed["metadata"]["completedAt"] == "2026-01-01T00:00:06Z"
    steps = {step["id"]: step for step in status["steps"]}
    plan = failed["spec"]["plan"]
    build_step = steps[plan[0]["steps"][0]["id"]]
    slow_step = steps[plan[0]["steps"][1]["id"]]
    assert build_step == {
        "id": build_step["id"],
        "phase": FAILED,
        "failureMessage": "exit status 2",
        "output": {"exitCode": "2"},
    }
    assert slow_step == {"id": slow_step["id"], "phase": STOPPED}
    assert plan[1]["steps"][0]["id"] not in steps
    world.advance(100)
    assert world.execution(execution_id) == failed


def test_execution_step_output_appears_only_when_the_step_ends() -> None:
    world = World(scenario=FAIL_BUILD)
    execution_id = world.start(world.create("slow")["id"])["id"]
    world.advance(5)
    assert "output" not in _status(world.execution(execution_id))["steps"][0]
    world.advance(6)
    assert _status(world.execution(execution_id))["steps"][0]["output"] == {"result": "ok"}


def test_execution_scenario_change_does_not_affect_existing_executions() -> None:
    world = World()
    task = world.create("build")
    before = world.start(task["id"])["id"]
    world.backend.set_scenario(world.backend.scenario.from_yaml(FAIL_BUILD))
    after = world.start(task["id"])["id"]
    world.advance(60)
    assert _status(world.execution(before))["phase"] == SUCCEEDED
    assert _status(world.execution(after))["phase"] == FAILED


def test_execution_timing_is_recorded_at_start() -> None:
    world = World()
    task = world.create("a")
    execution_id = world.start(task["id"])["id"]
    world.backend.timing = Timing(pending_delay=100, step_duration=100)
    world.advance(3)
    assert _status(world.execution(execution_id))["phase"] == SUCCEEDED


def test_stop_task_execution_stops_running_steps() -> None:
    world = World(scenario=FAIL_BUILD)
    execution_id = world.start(world.create("slow")["id"])["id"]
    world.advance(2)
    before = world.execution(execution_id)
    assert world.call("StopTaskExecution", {"id": execution_id}) == {}
    stopped = world.execution(execution_id)
    assert stopped["spec"]["desiredPhase"] == STOPPED
    assert _status(stopped)["phase"] == STOPPED
    assert _step_phases(stopped) == [STOPPED]
    assert stopped["metadata"]["completedAt"] == "2026-01-01T00:00:02Z"
    assert stopped["metadata"]["startedAt"] == before["metadata"]["startedAt"]
    assert int(_status(stopped)["statusVersion"]) == int(_status(before)["statusVersion"]) + 1
    world.advance(100)
    assert world.execution(execution_id) == stopped


def test_stop_task_execution_while_pending() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    world.advance(0.5)
    world.stop(execution_id)
    stopped = world.execution(execution_id)
    assert _status(stopped) == {"phase": STOPPED, "statusVersion": "2"}
    assert "startedAt" not in stopped["metadata"]
    assert stopped["metadata"]["completedAt"] == "2026-01-01T00:00:00.500Z"


def test_stop_task_execution_on_finished_execution_changes_nothing() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    world.advance(10)
    done = world.execution(execution_id)
    world.stop(execution_id)
    assert world.execution(execution_id) == done
    assert done["spec"]["desiredPhase"] == RUNNING


def test_stop_task_execution_unknown_or_foreign_not_found() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    for caller, execution in ((world.alice, MISSING_ID), (world.bob, execution_id)):
        with pytest.raises(NotFound, match=r"task execution .* not found"):
            world.stop(execution, caller=caller)
        with pytest.raises(NotFound):
            world.execution(execution, caller=caller)


def test_delete_task_stops_its_unfinished_executions() -> None:
    world = World()
    task = world.create("a")
    finished = world.start(task["id"])["id"]
    world.advance(5)
    done = world.execution(finished)
    running = world.start(task["id"])["id"]
    world.advance(1.5)
    world.call("DeleteTask", {"id": task["id"]})
    world.advance(10)
    stopped = world.execution(running)
    assert _status(stopped)["phase"] == STOPPED
    assert stopped["spec"]["desiredPhase"] == STOPPED
    assert stopped["metadata"]["completedAt"] == "2026-01-01T00:00:06.500Z"
    assert world.execution(finished) == done


def test_reading_an_execution_never_mutates_state() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    before = world.backend.export_state()
    world.advance(2)
    world.execution(execution_id)
    world.call("ListTaskExecutions", {"filter": {"phases": ["TASK_EXECUTION_PHASE_RUNNING"]}})
    world.backend.execution_logs(world.alice, execution_id)
    after = world.backend.export_state()
    assert before.pop("clock") != after.pop("clock")
    assert before == after


def test_execution_log_url_follows_the_settable_base() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    world.backend.log_url_base = "http://127.0.0.1:9999/"
    world.advance(1)
    assert _status(world.execution(execution_id))["logUrl"] == (
        f"http://127.0.0.1:9999/_mock/logs/{execution_id}"
    )


def test_execution_logs_grow_with_the_clock() -> None:
    world = World(scenario=FAIL_BUILD)
    execution_id = world.start(world.create("build", name="Build")["id"])["id"]
    assert world.backend.execution_logs(world.alice, execution_id) == ""
    world.advance(1)
    assert world.backend.execution_logs(world.alice, execution_id) == (
        "[2026-01-01T00:00:01Z] [Build] step started\n"
    )
    world.advance(10)
    assert world.backend.execution_logs(world.alice, execution_id).splitlines() == [
        "[2026-01-01T00:00:01Z] [Build] step started",
        "[2026-01-01T00:00:02.666666Z] [Build] compiling...",
        "[2026-01-01T00:00:04.333333Z] [Build] error: boom",
        "[2026-01-01T00:00:06Z] [Build] step failed: exit status 2",
    ]


def test_execution_logs_end_with_a_stop_line() -> None:
    world = World()
    execution_id = world.start(world.create("a")["id"])["id"]
    world.advance(2)
    world.stop(execution_id)
    world.advance(5)
    assert world.backend.execution_logs(world.alice, execution_id).splitlines() == [
        "[2026-01-01T00:00:01Z] [a] step started",
        "[2026-01-01T00:00:02Z] [a] step stopped",
    ]


def test_execution_logs_unknown_execution_not_found() -> None:
    world = World()
    with pytest.raises(NotFound):
        world.backend.execution_logs(world.alice, MISSING_ID)
    execution_id = world.start(world.create("a")["id"])["id"]
    with pytest.raises(NotFound):
        world.backend.execution_logs(world.bob, execution_id)


def test_execution_timestamps_are_ordered() -> None:
    world = World(scenario=FAIL_BUILD)
    execution_id = world.start(world.create("build")["id"])["id"]
    world.advance(30)
    metadata = world.execution(execution_id)["metadata"]
    assert metadata["createdAt"] <= metadata["startedAt"] <= metadata["completedAt"]
