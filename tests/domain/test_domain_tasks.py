"""CreateTask, GetTask, UpdateTask, DeleteTask and dispatch."""

from __future__ import annotations

import pytest

from mockserver.domain import (
    METHOD_NAMES,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unimplemented,
)
from mockserver.domain.testing import ENV_A, ENV_B, MISSING_ID, World


def test_create_task_server_owns_id_created_at_and_creator() -> None:
    world = World()
    world.advance(1.25)
    task = world.call(
        "CreateTask",
        {
            "id": MISSING_ID,
            "environmentId": ENV_A,
            "metadata": {
                "reference": "build",
                "createdAt": "1999-01-01T00:00:00Z",
                "creator": {"id": MISSING_ID, "principal": "PRINCIPAL_RUNNER"},
            },
        },
    )["task"]
    assert task["id"] == "00000000-0000-4000-8000-000000000001"
    assert task["metadata"]["createdAt"] == "2026-01-01T00:00:01.250Z"
    assert task["metadata"]["creator"] == world.alice.subject
    assert world.task(task["id"]) == task


def test_create_task_stores_fields_in_canonical_form() -> None:
    world = World()
    task = world.call(
        "CreateTask",
        {
            "environmentId": ENV_A,
            "dependsOn": [],
            "metadata": {
                "reference": "",
                "name": "Build",
                "description": "",
                "triggeredBy": [{"manual": True}, {"prebuild": False}],
                "futureField": 1,
            },
            "spec": {
                "command": "make",
                "env": [
                    {"name": "A", "value": ""},
                    {"name": "B", "valueFrom": {"secretRef": {"id": MISSING_ID}}},
                ],
                "runsOn": {"machine": {}},
                "prebuildRequiresSuccess": False,
                "unknown": {"x": 1},
            },
        },
    )["task"]
    assert task == {
        "id": task["id"],
        "environmentId": ENV_A,
        "metadata": {
            "createdAt": "2026-01-01T00:00:00Z",
            "creator": world.alice.subject,
            "name": "Build",
            "triggeredBy": [{"manual": True}, {"prebuild": False}],
        },
        "spec": {
            "command": "make",
            "env": [
                {"name": "A", "value": ""},
                {"name": "B", "valueFrom": {"secretRef": {"id": MISSING_ID}}},
            ],
            "runsOn": {"machine": {}},
        },
    }


def test_create_task_does_not_keep_the_request_objects() -> None:
    world = World()
    env_item = {"name": "A", "value": "1"}
    spec: dict[str, object] = {"command": "x", "env": [env_item]}
    request = {"environmentId": ENV_A, "metadata": {"reference": "a", "name": "a"}, "spec": spec}
    task = world.backend.create_task(world.alice, request)["task"]
    spec["command"] = "mutated"
    env_item["value"] = "mutated"
    assert world.task(task["id"])["spec"] == {"command": "x", "env": [{"name": "A", "value": "1"}]}


def test_task_rendering_is_cached_until_an_update() -> None:
    """Reads share one rendered dict (read-only); an update renders anew, never stale."""
    world = World()
    task = world.create("a", command="x")
    assert world.task(task["id"]) is world.task(task["id"])
    world.backend.update_task(world.alice, {"id": task["id"], "spec": {"command": "y"}})
    assert world.task(task["id"])["spec"]["command"] == "y"


def test_export_state_is_a_copy_the_caller_may_change() -> None:
    world = World()
    task = world.create("a", command="x")
    exported = world.backend.export_state(world.alice)
    tasks = next(iter(exported["tenants"].values()))["tasks"]
    tasks[0]["spec"]["command"] = "mutated"
    assert world.task(task["id"])["spec"]["command"] == "x"


def test_create_task_lowercases_ids() -> None:
    world = World()
    task = world.create("a", environment_id=ENV_A.upper())
    assert task["environmentId"] == ENV_A
    assert world.task(task["id"].upper()) == task


def test_create_task_duplicate_reference_already_exists() -> None:
    world = World()
    world.create("build")
    with pytest.raises(AlreadyExists, match="'build'"):
        world.create("build")


def test_create_task_reference_is_unique_per_environment_and_tenant() -> None:
    world = World()
    world.create("build")
    world.create("build", environment_id=ENV_B)
    world.create("build", caller=world.bob)
    world.create()
    world.create()  # empty references never clash


def test_create_task_depends_on_missing_task_not_found() -> None:
    world = World()
    with pytest.raises(NotFound, match=f"dependsOn: task {MISSING_ID} not found"):
        world.create("b", depends_on=[MISSING_ID])


def test_create_task_depends_on_other_environment_failed_precondition() -> None:
    world = World()
    other = world.create("a", environment_id=ENV_B)
    with pytest.raises(FailedPrecondition, match="another environment"):
        world.create("b", depends_on=[other["id"]])


def test_create_task_depends_on_other_tenant_not_found() -> None:
    world = World()
    theirs = world.create("a", caller=world.bob)
    with pytest.raises(NotFound):
        world.create("b", depends_on=[theirs["id"]])


def test_create_task_failure_leaves_no_tenant_behind() -> None:
    world = World()
    with pytest.raises(NotFound):
        world.create("b", depends_on=[MISSING_ID])
    assert world.backend.export_state()["tenants"] == {}


@pytest.mark.parametrize(
    "request_body",
    [{}, {"environmentId": ""}, {"environmentId": "nope"}, {"environmentId": ENV_A, "spec": 3}],
)
def test_create_task_malformed_request_invalid_argument(request_body: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        World().call("CreateTask", request_body)


def test_get_task_unknown_id_not_found() -> None:
    with pytest.raises(NotFound, match=f"task {MISSING_ID} not found"):
        World().task(MISSING_ID)


def test_get_task_other_tenant_not_found() -> None:
    world = World()
    task = world.create("a")
    with pytest.raises(NotFound):
        world.task(task["id"], caller=world.bob)


def test_update_task_present_fields_replace_absent_fields_kept() -> None:
    world = World()
    task = world.create("a", name="A", description="first", command="make", runsOn={"machine": {}})
    world.call(
        "UpdateTask",
        {
            "id": task["id"],
            "metadata": {"description": "second"},
            "spec": {"runsOn": {"docker": {"image": "alpine"}}, "prebuildRequiresSuccess": True},
        },
    )
    updated = world.task(task["id"])
    assert updated["metadata"]["name"] == "A"
    assert updated["metadata"]["description"] == "second"
    assert updated["metadata"]["reference"] == "a"
    assert updated["metadata"]["createdAt"] == task["metadata"]["createdAt"]
    assert updated["spec"] == {
        "command": "make",
        "runsOn": {"docker": {"image": "alpine"}},
        "prebuildRequiresSuccess": True,
    }


def test_update_task_empty_string_and_false_replace() -> None:
    world = World()
    task = world.create(
        "a", name="A", description="d", command="make", prebuildRequiresSuccess=True
    )
    world.call(
        "UpdateTask",
        {
            "id": task["id"],
            "metadata": {"name": "", "description": ""},
            "spec": {"command": "", "prebuildRequiresSuccess": False},
        },
    )
    updated = world.task(task["id"])
    assert "name" not in updated["metadata"]
    assert "description" not in updated["metadata"]
    assert updated["spec"] == {}


def test_update_task_empty_env_and_depends_on_keep_stored_values() -> None:
    world = World()
    dep = world.create("dep")
    task = world.create("a", depends_on=[dep["id"]], env=[{"name": "X", "value": "1"}])
    world.call("UpdateTask", {"id": task["id"], "spec": {"env": []}, "dependsOn": []})
    assert world.task(task["id"]) == task


def test_update_task_non_empty_env_and_depends_on_replace() -> None:
    world = World()
    first, second = world.create("first"), world.create("second")
    task = world.create("a", depends_on=[first["id"]], env=[{"name": "X", "value": "1"}])
    world.call(
        "UpdateTask",
        {
            "id": task["id"],
            "spec": {"env": [{"name": "Y", "value": "2"}]},
            "dependsOn": [second["id"]],
        },
    )
    updated = world.task(task["id"])
    assert updated["spec"]["env"] == [{"name": "Y", "value": "2"}]
    assert updated["dependsOn"] == [second["id"]]
    world.call("DeleteTask", {"id": first["id"]})  # no longer a dependency


def test_update_task_triggered_by_present_replaces_the_list() -> None:
    world = World()
    task = world.create("a", triggeredBy=[{"manual": True}])
    world.call("UpdateTask", {"id": task["id"], "metadata": {"name": "A"}})
    assert world.task(task["id"])["metadata"]["triggeredBy"] == [{"manual": True}]
    world.call(
        "UpdateTask",
        {"id": task["id"], "metadata": {"triggeredBy": {"trigger": [{"postMachineStart": True}]}}},
    )
    assert world.task(task["id"])["metadata"]["triggeredBy"] == [{"postMachineStart": True}]
    world.call("UpdateTask", {"id": task["id"], "metadata": {"triggeredBy": {}}})
    assert "triggeredBy" not in world.task(task["id"])["metadata"]


def test_update_task_returns_empty_response() -> None:
    world = World()
    task = world.create("a")
    assert world.call("UpdateTask", {"id": task["id"]}) == {}
    assert world.task(task["id"]) == task


def test_update_task_depends_on_self_failed_precondition() -> None:
    world = World()
    task = world.create("a")
    with pytest.raises(FailedPrecondition, match="itself"):
        world.call("UpdateTask", {"id": task["id"], "dependsOn": [task["id"]]})


def test_update_task_depends_on_cycle_failed_precondition() -> None:
    world = World()
    a = world.create("a")
    b = world.create("b", depends_on=[a["id"]])
    c = world.create("c", depends_on=[b["id"]])
    with pytest.raises(FailedPrecondition, match="cycle"):
        world.call("UpdateTask", {"id": a["id"], "dependsOn": [c["id"]]})
    assert "dependsOn" not in world.task(a["id"])


def test_update_task_depends_on_missing_not_found_or_foreign_failed_precondition() -> None:
    world = World()
    task = world.create("a")
    foreign = world.create("b", environment_id=ENV_B)
    with pytest.raises(NotFound):
        world.call("UpdateTask", {"id": task["id"], "dependsOn": [MISSING_ID]})
    with pytest.raises(FailedPrecondition):
        world.call("UpdateTask", {"id": task["id"], "dependsOn": [foreign["id"]]})


def test_update_task_unknown_id_not_found() -> None:
    with pytest.raises(NotFound):
        World().call("UpdateTask", {"id": MISSING_ID, "metadata": {"name": "x"}})


def test_delete_task_removes_it() -> None:
    world = World()
    task = world.create("a")
    assert world.call("DeleteTask", {"id": task["id"]}) == {}
    with pytest.raises(NotFound):
        world.task(task["id"])
    world.create("a")  # the reference is free again


def test_delete_task_that_others_depend_on_failed_precondition() -> None:
    world = World()
    dep = world.create("dep")
    user = world.create("user", depends_on=[dep["id"]])
    with pytest.raises(FailedPrecondition, match=user["id"]):
        world.call("DeleteTask", {"id": dep["id"]})
    world.call("DeleteTask", {"id": user["id"]})
    world.call("DeleteTask", {"id": dep["id"]})


def test_delete_task_unknown_id_not_found() -> None:
    with pytest.raises(NotFound):
        World().call("DeleteTask", {"id": MISSING_ID})


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_call_dispatches_every_method_name(method: str) -> None:
    world = World()
    if method.startswith("List"):
        assert world.call(method, {}) == {"pagination": {}}
        return
    expected = InvalidArgument if method == "CreateTask" else NotFound
    with pytest.raises(expected):
        world.call(method, {"id": MISSING_ID})


def test_call_unknown_method_unimplemented() -> None:
    with pytest.raises(Unimplemented) as caught:
        World().call("LaunchRocket", {})
    assert caught.value.code == "unimplemented"


def test_domain_errors_carry_connect_codes() -> None:
    assert NotFound("x").code == "not_found"
    assert AlreadyExists("x").code == "already_exists"
    assert FailedPrecondition("x").code == "failed_precondition"
    assert InvalidArgument("x").code == "invalid_argument"
    assert InvalidArgument("boom").message == "boom"
