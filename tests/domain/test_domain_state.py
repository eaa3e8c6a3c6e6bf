"""Export, import and reset of backend state."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from mockserver.domain import Backend, Caller, InvalidArgument, ManualClock, SequentialIds
from mockserver.domain.testing import ENV_A, ENV_B, World

SCENARIO = """
rules:
  - match: {reference: "^build$"}
    outcome: fail
    duration: 5.5
    failure_message: "exit status 2"
    output: {exitCode: "2"}
    logs: ["compiling..."]
"""


def _busy_world() -> World:
    world = World(scenario=SCENARIO)
    dep = world.create(
        "dep", name="Dep", command="make", env=[{"name": "X", "value": ""}], runsOn={"machine": {}}
    )
    build = world.create("build", depends_on=[dep["id"]], triggeredBy=[{"manual": True}])
    world.create("other", environment_id=ENV_B, caller=world.bob)
    world.start(build["id"])
    world.advance(0.25)
    stopped = world.start(dep["id"])["id"]
    world.advance(1.5)
    world.stop(stopped)
    world.start(dep["id"])
    world.advance(2.125)
    return world


def _fresh() -> tuple[Backend, ManualClock]:
    clock = ManualClock()
    return Backend(clock, SequentialIds()), clock


def test_export_state_is_json_serializable_and_versioned() -> None:
    exported = _busy_world().backend.export_state()
    assert json.loads(json.dumps(exported)) == exported
    assert exported["version"] == 1
    assert exported["clock"] == "2026-01-01T00:00:03.875Z"
    assert len(exported["tenants"]) == 2
    assert "alice-token" not in json.dumps(exported)


def test_export_import_round_trips_exactly() -> None:
    world = _busy_world()
    exported = world.backend.export_state()
    backend, clock = _fresh()
    backend.import_state(json.loads(json.dumps(exported)))
    assert backend.export_state() == exported
    assert clock.now() == world.clock.now()
    listed = backend.call(world.alice, "ListTaskExecutions", {})
    assert listed == world.call("ListTaskExecutions", {})


def test_import_state_restores_the_manual_clock_even_backwards() -> None:
    world = _busy_world()
    exported = world.backend.export_state()
    listed = world.call("ListTaskExecutions", {})
    world.advance(100)
    world.backend.import_state(exported)
    assert world.backend.export_state() == exported
    assert world.call("ListTaskExecutions", {}) == listed


def test_import_state_then_new_ids_do_not_collide() -> None:
    exported = _busy_world().backend.export_state()
    backend, _ = _fresh()
    backend.import_state(exported)
    alice = Caller("alice-token")
    task = backend.call(alice, "CreateTask", {"environmentId": ENV_A})["task"]
    existing = json.dumps(exported)
    assert task["id"] not in existing
    execution = backend.call(alice, "StartTask", {"id": task["id"]})["taskExecution"]
    assert execution["id"] not in existing
    assert execution["spec"]["plan"][0]["steps"][0]["id"] not in existing


def test_export_state_per_caller_holds_only_that_tenant() -> None:
    world = _busy_world()
    exported = world.backend.export_state(world.bob)
    assert list(exported["tenants"]) == [world.bob.subject_id]
    assert len(exported["tenants"][world.bob.subject_id]["tasks"]) == 1
    assert World().backend.export_state(world.alice)["tenants"] == {}


def test_import_state_per_caller_replaces_only_that_tenant() -> None:
    world = _busy_world()
    alice_state = world.backend.export_state(world.alice)
    bob_before = world.backend.export_state(world.bob)
    clock_before = world.clock.now()
    carol = Caller("carol-token")
    world.backend.import_state(alice_state, carol)
    assert (
        world.backend.export_state(carol)["tenants"][carol.subject_id]
        == (alice_state["tenants"][world.alice.subject_id])
    )
    assert world.backend.export_state(world.bob) == bob_before
    assert world.clock.now() == clock_before
    world.backend.import_state({"version": 1, "tenants": {}}, world.alice)
    assert world.call("ListTasks", {}) == {"pagination": {}}


def test_import_state_per_caller_rejects_several_tenants() -> None:
    world = _busy_world()
    with pytest.raises(InvalidArgument, match="at most one tenant"):
        world.backend.import_state(world.backend.export_state(), world.alice)


def test_import_state_failure_leaves_state_untouched() -> None:
    world = _busy_world()
    before = world.backend.export_state()
    broken = json.loads(json.dumps(before))
    broken["tenants"][world.alice.subject_id]["tasks"][0]["id"] = "nope"
    with pytest.raises(InvalidArgument):
        world.backend.import_state(broken)
    assert world.backend.export_state() == before


def _alice_state() -> tuple[dict[str, Any], str]:
    world = _busy_world()
    return world.backend.export_state(), world.alice.subject_id


def _mutations() -> list[tuple[str, Any, str]]:
    def tenant(doc: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = next(iter(doc["tenants"].values()))
        return found

    def set_in(path: list[Any], value: Any) -> Any:
        def apply(doc: dict[str, Any]) -> None:
            target: Any = tenant(doc)
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return apply

    def replace_doc(value: Any) -> Any:
        def apply(doc: dict[str, Any]) -> None:
            doc.clear()
            doc.update(value)

        return apply

    def duplicate_task(doc: dict[str, Any]) -> None:
        tenant(doc)["tasks"].append(dict(tenant(doc)["tasks"][0]))

    def cycle(doc: dict[str, Any]) -> None:
        tasks = tenant(doc)["tasks"]
        tasks[0]["dependsOn"] = [tasks[1]["id"]]

    return [
        ("not an object", replace_doc({"x": 1}), "state.version: expected 1"),
        ("tenants list", set_in(["tasks"], {}), "tasks: expected a list"),
        ("task id", set_in(["tasks", 0, "id"], "nope"), "tasks[0].id: value must be a valid UUID"),
        ("createdAt", set_in(["tasks", 0, "metadata", "createdAt"], "soon"), "createdAt"),
        ("spec type", set_in(["tasks", 0, "spec", "command"], 3), "tasks[0].spec.command"),
        ("duplicate", duplicate_task, "duplicate task id"),
        ("cycle", cycle, "dependency cycle"),
        ("dangling", set_in(["tasks", 1, "dependsOn"], [ENV_B]), "tasks[1].dependsOn"),
        ("plan", set_in(["executions", 0, "plan"], []), "executions[0].plan: an execution"),
        ("outcome", set_in(["executions", 0, "plan", 0, "steps", 0, "outcome"], "meh"), "outcome"),
        ("duration", set_in(["executions", 0, "pendingDelay"], -1), "pendingDelay"),
        ("stopped", set_in(["executions", 0, "stoppedAt"], "2030-01-01T00:00:00Z"), "stoppedAt"),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"), [m[1:] for m in _mutations()], ids=[m[0] for m in _mutations()]
)
def test_import_state_rejects_malformed_input_with_a_path(mutate: Any, message: str) -> None:
    exported, alice = _alice_state()
    doc = {"version": 1, "tenants": {alice: exported["tenants"][alice]}}
    mutate(doc)
    backend, _ = _fresh()
    with pytest.raises(InvalidArgument) as caught:
        backend.import_state(doc)
    assert message in caught.value.message
    if "spec" not in message:  # a trusted import (a --state file) takes a spec as it is
        with pytest.raises(InvalidArgument) as trusted:
            backend.import_state(doc, trusted=True)
        assert trusted.value.message == caught.value.message


def test_a_trusted_import_builds_the_same_state() -> None:
    world = _busy_world()
    exported = world.backend.export_state()
    checked, _ = _fresh()
    checked.import_state(json.loads(json.dumps(exported)))
    trusted, _ = _fresh()
    trusted.import_state(json.loads(json.dumps(exported)), trusted=True)
    assert trusted.export_state() == checked.export_state() == exported
    listed = trusted.call(world.alice, "ListTasks", {})
    assert listed == checked.call(world.alice, "ListTasks", {})


@pytest.mark.parametrize(
    "document", [None, [], "state", {"version": 2}, {"version": 1, "tenants": []}]
)
def test_import_state_rejects_non_documents(document: object) -> None:
    backend, _ = _fresh()
    with pytest.raises(InvalidArgument, match="state"):
        backend.import_state(document)


def test_reset_forgets_one_tenant_or_all() -> None:
    world = _busy_world()
    world.backend.reset(world.alice)
    assert list(world.backend.export_state()["tenants"]) == [world.bob.subject_id]
    world.backend.reset()
    assert world.backend.export_state()["tenants"] == {}


def test_export_state_is_safe_from_another_thread() -> None:
    world = World()
    results: list[dict[str, Any]] = []

    def export_many() -> None:
        for _ in range(50):
            results.append(world.backend.export_state())

    thread = threading.Thread(target=export_many)
    thread.start()
    for _ in range(300):
        world.create()
    thread.join()
    assert len(results) == 50
    assert len(world.backend.export_state()["tenants"][world.alice.subject_id]["tasks"]) == 300


def test_state_export_shared_is_the_same_document_without_the_copy() -> None:
    world = World()
    task = world.create("a", name="first")
    world.start(task["id"])
    shared = world.backend.export_state(shared=True)
    copied = world.backend.export_state()
    assert shared == copied
    # The default export is the caller's to change; the store does not see it.
    copied["tenants"][world.alice.subject_id]["tasks"][0]["metadata"]["name"] = "changed"
    assert world.task(task["id"])["metadata"]["name"] == "first"
    assert world.backend.export_state(world.alice, shared=True) == shared
