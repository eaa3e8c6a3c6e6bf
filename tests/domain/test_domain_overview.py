"""Backend.overview: what the web view polls, read at one instant."""

from __future__ import annotations

from mockserver.domain import Timing
from mockserver.domain.paging import OrderedIndex
from mockserver.domain.testing import World


def test_overview_renders_like_the_api_and_adds_step_times() -> None:
    world = World(Timing(pending_delay=1, step_duration=2))
    build = world.create("build")
    test = world.create("test", depends_on=[build["id"]])
    execution = world.call("StartTask", {"id": test["id"]})["taskExecution"]
    world.advance(4)  # Build ran 1..3, Test runs from 3

    overview = world.backend.overview(world.alice)
    assert overview["now"] == "2026-01-01T00:00:04Z"
    assert overview["tasks"] == world.call("ListTasks", {})["tasks"]
    [item] = overview["executions"]
    assert (
        item["execution"]
        == world.call("GetTaskExecution", {"id": execution["id"]})["taskExecution"]
    )
    build_step, test_step = (group["steps"][0]["id"] for group in execution["spec"]["plan"])
    assert item["steps"] == [
        {"id": build_step, "startedAt": "2026-01-01T00:00:01Z", "endedAt": "2026-01-01T00:00:03Z"},
        {"id": test_step, "startedAt": "2026-01-01T00:00:03Z"},
    ]
    assert (overview["tasksTotal"], overview["executionsTotal"]) == (2, 1)


def test_overview_keeps_the_newest_within_its_limit_and_the_tenant() -> None:
    world = World()
    created = []
    for index in range(5):
        created.append(world.create(f"t{index}")["id"])
        world.advance(1)
    world.create("theirs", caller=world.bob)

    overview = world.backend.overview(world.alice, limit=2)
    assert [task["id"] for task in overview["tasks"]] == created[-2:]
    assert overview["tasksTotal"] == 5
    assert world.backend.overview(world.bob)["tasksTotal"] == 1


def test_ordered_index_last() -> None:
    index = OrderedIndex([(3, "c"), (1, "a"), (2, "b")])
    assert index.last(2) == [(2, "b"), (3, "c")]
    assert index.last(10) == [(1, "a"), (2, "b"), (3, "c")]
    assert index.last(0) == []
