"""One request does bounded work and builds a bounded answer, however long a dependsOn
chain or a log: graph walks are linear, plans, pages and logs have ceilings.

No timing here: the tests count reads and bound sizes (bench/stalls.py prints times).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from mockserver.domain import (
    Backend,
    Caller,
    InvalidArgument,
    Limits,
    ManualClock,
    ResourceExhausted,
    Scenario,
    SequentialIds,
    executions,
    graph,
    paging,
    state,
    timestamps,
)
from mockserver.domain.tasks import TaskRecord
from tests.support.factories import task_body

ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"
ALICE = Caller("alice")


def _backend(**limits: int) -> Backend:
    return Backend(ManualClock(), SequentialIds(), limits=Limits(**limits))


def _chain(backend: Backend, length: int, command: str | None = None) -> list[str]:
    """``length`` tasks, each depending on the one before; their ids."""
    ids: list[str] = []
    for index in range(length):
        body = task_body(reference=f"t{index}", environment_id=ENV)
        if command is not None:
            body["spec"]["command"] = command
        if ids:
            body["dependsOn"] = [ids[-1]]
        ids.append(backend.create_task(ALICE, body)["task"]["id"])
    return ids


class _CountingTasks(dict[str, TaskRecord]):
    """A task mapping that counts lookups, to show a walk's cost without a clock."""

    reads = 0

    def __getitem__(self, key: str) -> TaskRecord:
        _CountingTasks.reads += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        _CountingTasks.reads += 1
        return super().get(key, default)


def _chain_records(length: int) -> dict[str, TaskRecord]:
    backend = _backend()
    _chain(backend, length)
    return dict(backend._read(ALICE).tasks)


def test_cycle_check_reads_each_task_a_bounded_number_of_times() -> None:
    tasks = _CountingTasks(_chain_records(3000))
    _CountingTasks.reads = 0
    assert graph.cycle_member(tasks) is None
    # Linear: a walk per task (the old check) read ~4.5 million times at 3,000 tasks.
    assert _CountingTasks.reads <= 3 * len(tasks)


def test_cycle_check_names_a_task_on_the_cycle_not_one_depending_on_it() -> None:
    tasks = _chain_records(3)
    _, second, third = list(tasks.values())
    # first -> second -> third -> second: first only depends on the cycle.
    tasks[second.id] = TaskRecord(**{**_fields(second), "depends_on": (third.id,)})
    tasks[third.id] = TaskRecord(**{**_fields(third), "depends_on": (second.id,)})
    assert graph.cycle_member(tasks) in {second.id, third.id}


def _fields(task: TaskRecord) -> dict[str, Any]:
    names = [
        "id",
        "environment_id",
        "created_us",
        "creator",
        "reference",
        "name",
        "description",
        "triggered_by",
        "spec",
        "depends_on",
    ]
    return {name: getattr(task, name) for name in names}


def test_import_of_a_long_chain_walks_the_graph_once(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend()
    _chain(backend, 2000)
    document = backend.export_state(ALICE)
    per_task: list[str] = []
    walks: list[int] = []
    real_reaches, real_cycle_member = graph.reaches, getattr(graph, "cycle_member", None)

    def reaches(tasks: Any, starts: Any, target: str) -> bool:
        per_task.append(target)
        return real_reaches(tasks, starts, target)

    def cycle_member(tasks: Any) -> str | None:
        walks.append(len(tasks))
        assert real_cycle_member is not None
        result: str | None = real_cycle_member(tasks)
        return result

    monkeypatch.setattr(graph, "reaches", reaches)
    monkeypatch.setattr(graph, "cycle_member", cycle_member, raising=False)
    state.parse_document(document)
    # A walk per task (2,000 here) was quadratic on a chain: 31.8 s at 19,800 tasks.
    assert per_task == []
    assert walks == [2000]


def test_import_cycle_is_still_refused_with_its_path() -> None:
    backend = _backend()
    ids = _chain(backend, 3)
    document = backend.export_state(ALICE)
    tasks = next(iter(document["tenants"].values()))["tasks"]
    tasks[0]["dependsOn"] = [ids[2]]
    with pytest.raises(InvalidArgument, match=r"tasks\[\d\]\.dependsOn: dependency cycle"):
        state.parse_document(document)


def test_start_task_refuses_a_plan_past_max_plan_steps() -> None:
    backend = _backend(max_plan_steps=5)
    ids = _chain(backend, 6)
    backend.start_task(ALICE, {"id": ids[4]})  # five steps: at the limit
    with pytest.raises(ResourceExhausted, match=r"6 steps.*--max-plan-steps"):
        backend.start_task(ALICE, {"id": ids[5]})
    assert len(backend._read(ALICE).executions) == 1  # the refusal stored nothing


def test_plan_steps_share_the_task_spec_instead_of_copying_it() -> None:
    backend = _backend()
    ids = _chain(backend, 3)
    execution = backend.start_task(ALICE, {"id": ids[2]})["taskExecution"]
    record = backend._read(ALICE).executions[execution["id"]]
    for step in record.steps():
        assert step.spec is backend._read(ALICE).tasks[step.task_id].spec


def test_start_task_refuses_an_execution_bigger_than_a_page() -> None:
    backend = _backend(max_page_bytes=20_000)
    ids = _chain(backend, 4, command="x" * 6000)
    backend.start_task(ALICE, {"id": ids[1]})  # two steps of ~6 KB
    with pytest.raises(ResourceExhausted, match="--max-page-bytes"):
        backend.start_task(ALICE, {"id": ids[3]})


def test_scenario_logs_count_toward_an_execution_size() -> None:
    backend = _backend(max_page_bytes=50_000)
    ids = _chain(backend, 3)
    backend.set_scenario(Scenario.from_dict({"rules": [{"logs": ["y" * 100] * 200}]}), ALICE)
    backend.start_task(ALICE, {"id": ids[0]})  # one step: ~21 KB of logs
    with pytest.raises(ResourceExhausted, match="logs"):
        backend.start_task(ALICE, {"id": ids[2]})  # three: ~63 KB kept in --state


def _pages(backend: Backend, method: str, field: str) -> Iterator[list[dict[str, Any]]]:
    token = ""
    while True:
        request: dict[str, Any] = {"pagination": {"pageSize": 100, "token": token}}
        response = backend.call(ALICE, method, request)
        yield response.get(field, [])
        token = response["pagination"].get("nextToken", "")
        if not token:
            return


def test_list_tasks_pages_are_cut_at_the_byte_budget_and_lose_nothing() -> None:
    backend = _backend(max_page_bytes=30_000)
    ids = _chain(backend, 12, command="c" * 5000)
    pages = list(_pages(backend, "ListTasks", "tasks"))
    assert len(pages) > 1
    for page in pages:
        assert 0 < len(page) < 100
        assert len(page) == 1 or len(orjson.dumps(page)) <= 30_000
    assert [task["id"] for page in pages for task in page] == ids


def test_a_single_item_bigger_than_the_budget_still_makes_a_page() -> None:
    backend = _backend(max_page_bytes=1_000)
    ids = _chain(backend, 2, command="c" * 5000)
    pages = list(_pages(backend, "ListTasks", "tasks"))
    assert [[task["id"] for task in page] for page in pages] == [[ids[0]], [ids[1]]]


def test_list_executions_pages_are_cut_at_the_byte_budget() -> None:
    backend = _backend(max_page_bytes=60_000)
    ids = _chain(backend, 20)
    started = [backend.start_task(ALICE, {"id": ids[19]})["taskExecution"] for _ in range(10)]
    backend.advance_clock(10**6)
    pages = list(_pages(backend, "ListTaskExecutions", "taskExecutions"))
    assert len(pages) > 1
    for page in pages:
        assert len(orjson.dumps(page)) <= 60_000
    assert [item["id"] for page in pages for item in page] == [e["id"] for e in started]


def test_overview_keeps_the_newest_that_fit_the_budget() -> None:
    backend = _backend(max_page_bytes=40_000)
    ids = _chain(backend, 20, command="c" * 1000)
    for _ in range(10):
        backend.start_task(ALICE, {"id": ids[4]})  # five steps, ~7 KB each
    overview = backend.overview(ALICE)
    assert len(orjson.dumps(overview)) <= 40_000
    assert overview["tasks"][-1]["id"] == ids[-1]  # the newest is always shown
    assert 0 < len(overview["executions"]) < 10
    assert overview["tasksTotal"] == 20 and overview["executionsTotal"] == 10


def test_logs_are_cut_at_max_log_bytes_with_a_marker() -> None:
    backend = _backend(max_log_bytes=2_000)
    ids = _chain(backend, 5)
    backend.set_scenario(Scenario.from_dict({"rules": [{"logs": ["z" * 50] * 100}]}), ALICE)
    execution = backend.start_task(ALICE, {"id": ids[4]})["taskExecution"]
    backend.advance_clock(10**6)
    text = backend.execution_logs(ALICE, execution["id"])
    lines = text.splitlines()
    assert "truncated" in lines[-1] and "--max-log-bytes" in lines[-1]
    assert len("".join(line + "\n" for line in lines[:-1]).encode()) <= 2_000
    assert lines[0].endswith("step started")


def test_logs_are_made_only_as_far_as_they_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend(max_log_bytes=1_000)
    ids = _chain(backend, 50)
    backend.set_scenario(Scenario.from_dict({"rules": [{"logs": ["w"] * 1000}]}), ALICE)
    execution = backend.start_task(ALICE, {"id": ids[49]})["taskExecution"]
    backend.advance_clock(10**7)
    formatted: list[int] = []
    real = timestamps.format_timestamp

    def counting(micros: int) -> str:
        formatted.append(micros)
        return real(micros)

    monkeypatch.setattr(executions, "format_timestamp", counting)
    backend.execution_logs(ALICE, execution["id"])
    # 50 steps of 1,002 lines: ~50,000 lines in all; a 1,000-byte answer holds ~15.
    assert len(formatted) < 200


def test_an_import_is_held_to_the_plan_limits() -> None:
    backend = _backend()
    ids = _chain(backend, 6)
    backend.start_task(ALICE, {"id": ids[5]})
    document = backend.export_state(ALICE)
    small = _backend(max_plan_steps=5)
    with pytest.raises(ResourceExhausted, match=r"executions\[0\]\.plan: 6 steps"):
        small.import_state(document, ALICE)


def test_count_within_keeps_at_least_one_item() -> None:
    assert paging.count_within([10, 10], 100) == 2
    assert paging.count_within([49, 49], 100) == 1  # each with its comma, and brackets
    assert paging.count_within([60, 60], 100) == 1
    assert paging.count_within([500, 1], 100) == 1
    assert paging.count_within([], 100) == 0
