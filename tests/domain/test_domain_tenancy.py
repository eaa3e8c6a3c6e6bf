"""Per-tenant scenario and clock, known environments, seeded ids: the backend's view."""

from __future__ import annotations

import pytest

from mockserver.domain import (
    Backend,
    Caller,
    FailedPrecondition,
    InvalidArgument,
    ManualClock,
    NotFound,
    RealClock,
    Scenario,
    SeededIds,
)
from mockserver.domain.backend import MAX_TIME_US
from mockserver.domain.testing import ENV_A, ENV_B, World

FAIL_ALL = "rules: [{outcome: fail, failure_message: nope}]"


def _phase(world: World, execution_id: str, caller: Caller) -> str:
    phase: str = world.execution(execution_id, caller)["status"]["phase"]
    return phase


def test_tenancy_advancing_one_tenant_never_moves_another() -> None:
    world = World()
    a = world.start(world.create("build", caller=world.alice)["id"], world.alice)
    b = world.start(world.create("build", caller=world.bob)["id"], world.bob)
    world.backend.advance_clock(10, world.alice)
    assert _phase(world, a["id"], world.alice) == "TASK_EXECUTION_PHASE_SUCCEEDED"
    assert _phase(world, b["id"], world.bob) == "TASK_EXECUTION_PHASE_PENDING"
    assert world.backend.now(world.alice) - world.backend.now(world.bob) == 10_000_000


def test_tenancy_the_server_clock_moves_every_tenant() -> None:
    world = World()
    world.backend.advance_clock(5, world.alice)
    world.backend.advance_clock(1)
    assert world.backend.now(world.alice) - world.backend.now() == 5_000_000
    assert world.backend.now(world.bob) == world.backend.now()


def test_tenancy_created_at_uses_the_tenant_clock() -> None:
    world = World()
    world.backend.advance_clock(60, world.alice)
    alice = world.create("a", caller=world.alice)
    bob = world.create("b", caller=world.bob)
    assert alice["metadata"]["createdAt"] == "2026-01-01T00:01:00Z"
    assert bob["metadata"]["createdAt"] == "2026-01-01T00:00:00Z"


def test_tenancy_scenario_is_per_tenant_and_the_default_stays() -> None:
    world = World()
    world.backend.set_scenario(Scenario.from_yaml(FAIL_ALL), world.alice)
    a = world.start(world.create("x", caller=world.alice)["id"], world.alice)
    b = world.start(world.create("x", caller=world.bob)["id"], world.bob)
    world.backend.advance_clock(10)
    assert _phase(world, a["id"], world.alice) == "TASK_EXECUTION_PHASE_FAILED"
    assert _phase(world, b["id"], world.bob) == "TASK_EXECUTION_PHASE_SUCCEEDED"
    assert world.backend.scenario_for(world.bob) is world.backend.scenario


def test_tenancy_default_scenario_reaches_tenants_without_their_own() -> None:
    world = World()
    world.backend.set_scenario(Scenario(), world.alice)
    world.backend.set_scenario(Scenario.from_yaml(FAIL_ALL))
    assert world.backend.scenario_for(world.bob).rules != ()
    assert world.backend.scenario_for(world.alice).rules == ()


def test_tenancy_reset_forgets_data_scenario_and_clock_of_one_tenant() -> None:
    world = World()
    for caller in (world.alice, world.bob):
        world.create("x", caller=caller)
        world.backend.set_scenario(Scenario.from_yaml(FAIL_ALL), caller)
        world.backend.advance_clock(7, caller)
    world.backend.reset(world.alice)
    assert world.call("ListTasks", {}, world.alice).get("tasks") is None
    assert world.backend.now(world.alice) == world.backend.now()
    assert world.backend.scenario_for(world.alice) is world.backend.scenario
    assert world.backend.now(world.bob) - world.backend.now() == 7_000_000
    assert len(world.call("ListTasks", {}, world.bob)["tasks"]) == 1


def test_tenancy_export_import_carries_scenario_and_clock() -> None:
    world = World()
    world.backend.set_scenario(Scenario.from_yaml(FAIL_ALL), world.alice)
    world.backend.advance_clock(30, world.alice)
    execution = world.start(world.create("x")["id"])
    exported = world.backend.export_state(world.alice)
    tenant = next(iter(exported["tenants"].values()))
    assert tenant["scenario"]["rules"][0]["outcome"] == "fail"
    assert exported["clock"] == "2026-01-01T00:00:30Z"

    other = World()
    other.advance(1000)  # a server whose clock is elsewhere
    other.backend.import_state(exported, other.bob)
    assert other.backend.now(other.bob) == world.backend.now(world.alice)
    assert other.execution(execution["id"], other.bob) == world.execution(execution["id"])
    other.backend.advance_clock(10, other.bob)
    world.backend.advance_clock(10, world.alice)
    assert other.execution(execution["id"], other.bob) == world.execution(execution["id"])
    assert other.execution(execution["id"], other.bob)["status"]["failureMessage"] == "nope"
    assert other.backend.scenario_for(other.bob).rules[0].outcome == "fail"


def test_tenancy_whole_export_keeps_each_tenant_clock() -> None:
    world = World()
    world.backend.advance_clock(3)
    world.backend.advance_clock(30, world.alice)
    world.backend.set_scenario(Scenario.from_yaml(FAIL_ALL), world.bob)
    exported = world.backend.export_state()
    assert exported["clock"] == "2026-01-01T00:00:03Z"
    [alice] = [t for t in exported["tenants"].values() if "clock" in t]
    assert alice["clock"] == "2026-01-01T00:00:33Z"
    other = World()
    other.backend.import_state(exported)
    assert other.backend.now(other.alice) == world.backend.now(world.alice)
    assert other.backend.now(other.bob) == world.backend.now(world.bob)
    assert other.backend.scenario_for(other.bob).rules != ()
    assert other.backend.export_state() == exported


def test_tenancy_bad_scenario_in_an_import_names_the_path() -> None:
    world = World()
    data = {"version": 1, "tenants": {"t": {"scenario": {"rules": 3}}}}
    with pytest.raises(InvalidArgument, match=r"state.tenants\['t'\].scenario: rules"):
        world.backend.import_state(data)


@pytest.mark.parametrize("seconds", [1e308, 8000 * 365 * 86400.0])
def test_tenancy_advance_past_year_9999_is_invalid(seconds: float) -> None:
    world = World()
    for caller in (world.alice, None):
        with pytest.raises(InvalidArgument, match=r"seconds: .* past 9999-12-31T23:59:59"):
            world.backend.advance_clock(seconds, caller)
    assert world.backend.now() == world.backend.now(world.alice)


def test_tenancy_server_advance_stops_a_tenant_ahead_at_the_end_of_year_9999() -> None:
    """A tenant that pushed its clock near the end of 9999 once made every server-wide
    advance fail; now its clock stops at the last instant and everyone else moves on."""
    world = World()
    backend = world.backend
    backend.advance_clock((MAX_TIME_US - backend.now(world.alice)) / 1e6 - 0.4, world.alice)
    server_before, bob_before = backend.now(), backend.now(world.bob)
    backend.advance_clock(10)
    assert backend.now(world.alice) == MAX_TIME_US
    assert backend.now() == server_before + 10_000_000
    assert backend.now(world.bob) == bob_before + 10_000_000
    backend.advance_clock(100 * 365 * 86400.0)
    assert backend.now(world.alice) == MAX_TIME_US
    # Its clock can go no further on its own either, and says whose clock it is.
    with pytest.raises(InvalidArgument, match=r"seconds: 1 would move your clock past 9999"):
        backend.advance_clock(1, world.alice)
    backend.advance_clock(0, world.alice)
    assert backend.export_state()["tenants"][world.alice.subject_id]["clock"] == (
        "9999-12-31T23:59:59.999999Z"
    )


def test_tenancy_real_clock_cannot_be_advanced() -> None:
    backend = Backend(RealClock(), SeededIds(1))
    with pytest.raises(FailedPrecondition):
        backend.advance_clock(1, Caller("x"))


def test_environments_unknown_one_is_not_found_and_lists_are_empty() -> None:
    backend = Backend(ManualClock(), SeededIds(1), environments=[ENV_A.upper()])
    alice = Caller("alice")
    task = backend.call(alice, "CreateTask", {"environmentId": ENV_A})["task"]
    with pytest.raises(NotFound, match=f"environment {ENV_B} not found"):
        backend.call(alice, "CreateTask", {"environmentId": ENV_B})
    assert backend.call(alice, "ListTasks", {"filter": {"environmentIds": [ENV_B]}}) == {
        "pagination": {}
    }
    both = {"filter": {"environmentIds": [ENV_A, ENV_B]}}
    assert backend.call(alice, "ListTasks", both)["tasks"] == [task]
    executions = {"filter": {"environmentIds": [ENV_B]}}
    assert backend.call(alice, "ListTaskExecutions", executions) == {"pagination": {}}


def test_environments_import_of_another_environment_is_invalid() -> None:
    source = World()
    source.create("x", environment_id=ENV_B)
    backend = Backend(ManualClock(), SeededIds(1), environments=[ENV_A])
    with pytest.raises(InvalidArgument, match=r"tasks\[0\].environmentId: environment"):
        backend.import_state(source.backend.export_state())


def _ids(seed: int, order: list[str]) -> dict[str, list[str]]:
    backend = Backend(ManualClock(), SeededIds(seed))
    seen: dict[str, list[str]] = {}
    for token in order:
        task = backend.call(Caller(token), "CreateTask", {"environmentId": ENV_A})["task"]
        seen.setdefault(token, []).append(task["id"])
    return seen


def test_seeded_ids_repeat_per_tenant_whatever_the_interleaving() -> None:
    first = _ids(5, ["a", "b", "a", "b"])
    assert first == _ids(5, ["b", "b", "a", "a"])
    assert first != _ids(6, ["a", "b", "a", "b"])
    assert first["a"][0] != first["b"][0]


def test_seeded_ids_repeat_after_a_tenant_reset() -> None:
    backend = Backend(ManualClock(), SeededIds(5))
    alice = Caller("alice")
    first = backend.call(alice, "CreateTask", {"environmentId": ENV_A})["task"]
    backend.reset(alice)
    again = backend.call(alice, "CreateTask", {"environmentId": ENV_A})["task"]
    assert again == first
