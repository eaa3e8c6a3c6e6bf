"""ListTasks and ListTaskExecutions: order, paging, tokens, filters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.domain import InvalidArgument, Timing
from mockserver.domain.paging import OrderedIndex, encode_token, sort_string
from mockserver.domain.store import Indexes, TenantStore, _index_add, _index_remove, index_of
from mockserver.domain.tasks import TaskRecord
from mockserver.domain.testing import ENV_A, ENV_B, MISSING_ID, World


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _page(world: World, method: str, request: dict[str, Any]) -> tuple[list[str], str]:
    field = "tasks" if method == "ListTasks" else "taskExecutions"
    response = world.call(method, request)
    return _ids(response.get(field, [])), response["pagination"].get("nextToken", "")


def _all_pages(world: World, method: str, page_size: int, **filters: Any) -> list[str]:
    seen: list[str] = []
    token = ""
    while True:
        ids, token = _page(
            world,
            method,
            {"filter": filters, "pagination": {"pageSize": page_size, "token": token}},
        )
        seen.extend(ids)
        if not token:
            return seen


def test_list_tasks_empty_response_keeps_an_empty_pagination() -> None:
    assert World().call("ListTasks", {}) == {"pagination": {}}


def test_list_tasks_orders_by_creation_time_then_id() -> None:
    world = World()
    first = world.create("first")
    world.advance(1)
    second = world.create("second")
    third = world.create("third")  # same instant: ordered by id
    assert _page(world, "ListTasks", {}) == ([first["id"], second["id"], third["id"]], "")


def test_list_tasks_default_page_size_is_25() -> None:
    world = World()
    created = [world.create()["id"] for _ in range(30)]
    ids, token = _page(world, "ListTasks", {"pagination": {"pageSize": 0}})
    assert ids == created[:25]
    assert token
    ids, token = _page(world, "ListTasks", {"pagination": {"token": token}})
    assert (ids, token) == (created[25:], "")


def test_list_tasks_accepts_page_size_as_string() -> None:
    world = World()
    for _ in range(3):
        world.create()
    assert len(_page(world, "ListTasks", {"pagination": {"pageSize": "2"}})[0]) == 2


@pytest.mark.parametrize("size", [101, -1, "many"])
def test_list_tasks_page_size_out_of_range_invalid_argument(size: object) -> None:
    with pytest.raises(InvalidArgument, match=r"pagination\.pageSize"):
        World().call("ListTasks", {"pagination": {"pageSize": size}})


def test_list_tasks_exact_page_has_no_next_token() -> None:
    world = World()
    for _ in range(4):
        world.create()
    assert len(_page(world, "ListTasks", {"pagination": {"pageSize": 4}})[0]) == 4
    assert _page(world, "ListTasks", {"pagination": {"pageSize": 4}})[1] == ""


def test_list_tasks_paging_returns_every_item_once() -> None:
    world = World()
    created = [world.create()["id"] for _ in range(23)]
    for size in (1, 5, 22, 23, 100):
        assert _all_pages(world, "ListTasks", size) == created


def test_list_tasks_token_stays_valid_while_others_insert() -> None:
    world = World()
    created = [world.create()["id"] for _ in range(5)]
    ids, token = _page(world, "ListTasks", {"pagination": {"pageSize": 3}})
    assert ids == created[:3]
    created += [world.create()["id"] for _ in range(3)]
    world.create(caller=world.bob)
    ids, token = _page(world, "ListTasks", {"pagination": {"pageSize": 3, "token": token}})
    assert ids == created[3:6]
    ids, token = _page(world, "ListTasks", {"pagination": {"pageSize": 3, "token": token}})
    assert (ids, token) == (created[6:], "")


def test_list_tasks_token_stays_valid_when_its_item_is_deleted() -> None:
    world = World()
    created = [world.create()["id"] for _ in range(4)]
    ids, token = _page(world, "ListTasks", {"pagination": {"pageSize": 2}})
    world.call("DeleteTask", {"id": ids[-1]})
    assert _page(world, "ListTasks", {"pagination": {"token": token}})[0] == created[2:]


@pytest.mark.parametrize(
    "token",
    [
        "!!!",
        "bm90IGpzb24",  # "not json"
        "WzEsMiwzXQ",  # [1,2,3]
        "e30",  # {}
        encode_token("executions", (0, MISSING_ID)),
    ],
)
def test_list_tasks_malformed_token_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^pagination.token: malformed page token$"):
        World().call("ListTasks", {"pagination": {"token": token}})


def test_list_tasks_filters_or_within_and_across() -> None:
    world = World()
    a1 = world.create("a", environment_id=ENV_A)
    b1 = world.create("b", environment_id=ENV_A)
    world.create("c", environment_id=ENV_A)
    a2 = world.create("a", environment_id=ENV_B)
    b2 = world.create("b", environment_id=ENV_B)

    def listed(**filters: Any) -> list[str]:
        return _page(world, "ListTasks", {"filter": filters})[0]

    assert listed(references=["a", "b"]) == [a1["id"], b1["id"], a2["id"], b2["id"]]
    assert listed(environmentIds=[ENV_B]) == [a2["id"], b2["id"]]
    assert listed(environmentIds=[ENV_B.upper()], references=["a"]) == [a2["id"]]
    assert listed(taskIds=[b2["id"], a1["id"], MISSING_ID]) == [a1["id"], b2["id"]]
    assert listed(taskIds=[b2["id"], a1["id"]], references=["a"]) == [a1["id"]]
    assert listed(references=["zzz"]) == []


def test_list_tasks_filters_forget_deleted_tasks() -> None:
    world = World()
    gone = world.create("build", environment_id=ENV_A)
    kept = world.create("build", environment_id=ENV_B)
    unnamed = world.create(environment_id=ENV_A)
    for task in (gone, unnamed):
        world.call("DeleteTask", {"id": task["id"]})

    def listed(**filters: Any) -> list[str]:
        return _page(world, "ListTasks", {"filter": filters})[0]

    assert listed(references=["build"]) == [kept["id"]]
    assert listed(environmentIds=[ENV_A]) == []
    assert listed(references=[""]) == []
    assert listed(environmentIds=[ENV_A, ENV_B], references=["build"]) == [kept["id"]]
    again = world.create("build", environment_id=ENV_A)  # the reference is free again
    assert listed(references=["build"]) == [kept["id"], again["id"]]


def test_list_tasks_filters_after_an_import() -> None:
    world = World()
    a = world.create("a", environment_id=ENV_A)
    b = world.create("b", environment_id=ENV_B)
    world.start(a["id"])
    world.backend.import_state(world.backend.export_state())

    def listed(method: str, **filters: Any) -> list[str]:
        return _page(world, method, {"filter": filters})[0]

    assert listed("ListTasks", environmentIds=[ENV_B]) == [b["id"]]
    assert listed("ListTasks", references=["a"]) == [a["id"]]
    assert len(listed("ListTaskExecutions", environmentIds=[ENV_A])) == 1
    assert len(listed("ListTaskExecutions", taskReferences=["a"], taskIds=[a["id"]])) == 1
    assert listed("ListTaskExecutions", environmentIds=[ENV_B]) == []


def test_list_tasks_filtered_paging_returns_every_match_once() -> None:
    world = World()
    expected = []
    for index in range(20):
        task = world.create(environment_id=ENV_A if index % 3 else ENV_B)
        if index % 3 == 0:
            expected.append(task["id"])
    assert _all_pages(world, "ListTasks", 2, environmentIds=[ENV_B]) == expected
    assert _all_pages(world, "ListTasks", 3, taskIds=expected) == expected
    assert _all_pages(world, "ListTasks", 4, environmentIds=[ENV_A, ENV_B]) == _all_pages(
        world, "ListTasks", 7
    )


def test_list_tasks_sees_only_the_callers_tasks() -> None:
    world = World()
    mine = world.create("a")
    world.create("a", caller=world.bob)
    assert _page(world, "ListTasks", {})[0] == [mine["id"]]


def test_list_tasks_unfiltered_page_reads_only_the_page() -> None:
    world = World()
    for _ in range(10_000):
        world.create()
    tenant = world.backend._tenants[world.alice.subject_id]
    reads = 0

    class CountingDict(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            nonlocal reads
            reads += 1
            return super().__getitem__(key)

    tenant.tasks = CountingDict(tenant.tasks)
    ids, token = _page(world, "ListTasks", {})
    ids, token = _page(world, "ListTasks", {"pagination": {"token": token}})
    assert len(ids) == 25
    assert reads == 50


@pytest.mark.parametrize(
    "filters",
    [
        {"environmentIds": [MISSING_ID]},
        {"references": ["nowhere"]},
        {"environmentIds": [ENV_B], "references": ["t-9999"]},
        {"references": ["t-9999", "nowhere"]},
    ],
)
def test_list_tasks_filtered_page_reads_only_the_page(filters: dict[str, Any]) -> None:
    world = World()
    for index in range(10_000):
        world.create(f"t-{index}")
    tenant = world.backend._tenants[world.alice.subject_id]
    reads = 0

    class CountingDict(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            nonlocal reads
            reads += 1
            return super().__getitem__(key)

    tenant.tasks = CountingDict(tenant.tasks)
    response = world.call("ListTasks", {"filter": filters})
    assert reads <= 2 * len(response.get("tasks", [])) + 1


def test_list_task_executions_orders_pages_and_filters() -> None:
    world = World(timing=Timing(pending_delay=1, step_duration=2))
    a = world.create("a", environment_id=ENV_A)
    b = world.create("b", environment_id=ENV_B)
    first = world.start(a["id"])["id"]
    second = world.start(b["id"])["id"]
    third = world.start(a["id"])["id"]
    method = "ListTaskExecutions"
    assert _all_pages(world, method, 2) == [first, second, third]
    assert _all_pages(world, method, 1, taskIds=[a["id"]]) == [first, third]
    assert _all_pages(world, method, 1, taskReferences=["b"]) == [second]
    assert _all_pages(world, method, 1, environmentIds=[ENV_A]) == [first, third]
    assert _all_pages(world, method, 1, taskIds=[a["id"]], environmentIds=[ENV_B]) == []


def test_list_task_executions_phase_filter_uses_the_current_phase() -> None:
    world = World()
    task = world.create("a")
    old = world.start(task["id"])["id"]
    world.advance(2)
    new = world.start(task["id"])["id"]

    def with_phases(*phases: object) -> list[str]:
        return _all_pages(world, "ListTaskExecutions", 10, phases=list(phases))

    assert with_phases("TASK_EXECUTION_PHASE_RUNNING") == [old]
    assert with_phases(1) == [new]  # PENDING by number
    assert with_phases("TASK_EXECUTION_PHASE_PENDING", "TASK_EXECUTION_PHASE_RUNNING") == [
        old,
        new,
    ]
    world.advance(10)
    assert with_phases("TASK_EXECUTION_PHASE_SUCCEEDED") == [old, new]
    assert with_phases("TASK_EXECUTION_PHASE_UNSPECIFIED") == []


@pytest.mark.parametrize("number", [42, 58, -1, 2147483646, 58.0])
def test_list_task_executions_undefined_phase_number_matches_nothing(number: object) -> None:
    # No defined_only in the descriptor; json_format keeps an unknown enum number.
    world = World()
    world.start(world.create("a")["id"])
    assert _all_pages(world, "ListTaskExecutions", 10, phases=[number]) == []


def test_list_task_executions_integral_float_phase_is_that_phase() -> None:
    world = World()
    pending = world.start(world.create("a")["id"])["id"]
    assert _all_pages(world, "ListTaskExecutions", 10, phases=[1.0]) == [pending]
    assert _all_pages(world, "ListTaskExecutions", 10, phases=[2.0, 58]) == []


def test_list_task_executions_undefined_phase_name_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"filter.phases\[0\]"):
        World().call("ListTaskExecutions", {"filter": {"phases": ["RUNNING"]}})


def test_list_task_executions_task_reference_is_remembered_after_delete() -> None:
    world = World()
    task = world.create("build")
    execution_id = world.start(task["id"])["id"]
    world.call("DeleteTask", {"id": task["id"]})
    assert _all_pages(world, "ListTaskExecutions", 5, taskReferences=["build"]) == [execution_id]
    assert _all_pages(world, "ListTaskExecutions", 5, taskIds=[task["id"]]) == [execution_id]


def test_list_task_executions_rejects_a_task_list_token() -> None:
    world = World()
    for _ in range(2):
        world.create()
    token = _page(world, "ListTasks", {"pagination": {"pageSize": 1}})[1]
    with pytest.raises(InvalidArgument, match="malformed page token"):
        world.call("ListTaskExecutions", {"pagination": {"token": token}})


def test_list_task_executions_sees_only_the_callers_executions() -> None:
    world = World()
    world.start(world.create("a", caller=world.bob)["id"], caller=world.bob)
    assert world.call("ListTaskExecutions", {}) == {"pagination": {}}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "remove", "read"]), st.integers(0, 3), st.integers(0, 40)
        ),
        max_size=120,
    ),
    st.integers(0, 3),
    st.integers(0, 40),
    st.integers(0, 30),
    st.sampled_from([1, 3, 256]),
)
def test_ordered_index_matches_a_sorted_list(
    operations: list[tuple[str, int, int]],
    cursor_us: int,
    cursor_id: int,
    count: int,
    pending_keys: int,
) -> None:
    """Adds, removes and reads in any order (small chunks, so chunks split and empty; keys
    placed one by one, in threes, or only when read) read back like a plain sorted list,
    from any cursor."""
    index = OrderedIndex(chunk=2, pending_keys=pending_keys)
    model: set[tuple[int, str]] = set()
    for operation, micros, number in operations:
        key = (micros, f"{number:02d}")
        if operation == "add" and key not in model:
            index.add(key)
            model.add(key)
        elif operation == "remove":
            index.remove(key)
            model.discard(key)
        elif operation == "read":
            assert len(index) == len(model)
            assert (
                index.slice_after((micros, f"{number:02d}"), 3)
                == [key for key in sorted(model) if key > (micros, f"{number:02d}")][:3]
            )
    ordered = sorted(model)
    assert len(index) == len(ordered)
    cursor = (cursor_us, f"{cursor_id:02d}")
    assert list(index.after(None)) == ordered
    assert list(index.after(cursor)) == [key for key in ordered if key > cursor]
    assert index.slice_after(cursor, count) == [key for key in ordered if key > cursor][:count]
    assert index.last(count) == (ordered[-count:] if count else [])
    assert list(OrderedIndex(ordered, chunk=3).after(None)) == ordered


def test_keys_waiting_to_be_placed_are_seen_by_every_read() -> None:
    """New keys wait unplaced until the index is read; no read can tell."""
    keys = [(5, "e"), (1, "a"), (3, "c")]
    placed = [(2, "b"), (4, "d")]

    def fresh() -> OrderedIndex:
        index = OrderedIndex(placed, chunk=2, pending_keys=100)
        for key in keys:
            index.add(key)
        return index

    everything = sorted(keys + placed)
    assert len(fresh()) == 5
    assert list(fresh().after(None)) == everything
    assert list(fresh().after((2, "b"))) == everything[2:]
    assert fresh().slice_after((1, "a"), 2) == everything[1:3]
    assert fresh().last(2) == everything[-2:]
    index = fresh()
    index.remove((3, "c"))  # a key still waiting can be removed
    assert list(index.after(None)) == [key for key in everything if key != (3, "c")]


def test_a_value_with_one_key_keeps_the_key_itself_and_an_index_from_the_second() -> None:
    """One key costs no index object (most references name one task); reads see an
    index either way, and a removal goes back to the key, then to nothing."""
    first, second = (1, "00000000-0000-4000-8000-000000000001"), (2, "0000-b")
    indexes: Indexes = {}
    _index_add(indexes, "build", first)
    assert indexes["build"] == first
    assert list(_read(indexes, "build")) == [first]
    _index_add(indexes, "build", second)
    assert isinstance(indexes["build"], OrderedIndex)
    assert list(_read(indexes, "build")) == [first, second]
    _index_remove(indexes, "build", first)
    assert indexes["build"] == second
    _index_remove(indexes, "build", first)  # not there: nothing changes
    assert indexes["build"] == second
    _index_remove(indexes, "build", second)
    assert "build" not in indexes
    assert index_of(indexes, "build") is None


def _read(indexes: Indexes, value: str) -> list[tuple[int, str]]:
    index = index_of(indexes, value)
    assert index is not None
    return list(index.after(None))


_INSTANTS = st.integers(min_value=-(2**58), max_value=2**58)


@settings(max_examples=300, deadline=None)
@given(st.tuples(_INSTANTS, st.text()), st.tuples(_INSTANTS, st.text()))
def test_sort_strings_order_like_their_keys(a: tuple[int, str], b: tuple[int, str]) -> None:
    """The index searches strings: their order must be the keys' order, for every
    instant a timestamp can hold and any id."""
    assert (sort_string(a) < sort_string(b)) == (a < b)
    assert (sort_string(a) == sort_string(b)) == (a == b)


@pytest.mark.parametrize("micros", [-(10**30), -(2**62) - 1, 2**62, 10**30])
def test_a_cursor_beyond_every_instant_keeps_its_place(micros: int) -> None:
    keys = [(-(2**58), "a"), (0, "b"), (2**58, "c")]
    index = OrderedIndex(keys, chunk=2)
    expected = [key for key in keys if key > (micros, "x")]
    assert list(index.after((micros, "x"))) == expected
    assert index.slice_after((micros, "x"), 5) == expected


_ENVIRONMENTS = ("env-a", "env-b", "env-c")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 2), st.integers(0, 3)),
        max_size=60,
    )
)
def test_environment_indexes_hold_their_own_tasks_while_one_shares_the_tenants(
    operations: list[tuple[str, int, int]],
) -> None:
    """The only environment of a tenant shares the tenant's index; a second one splits
    them, deletions may join them again. Whatever the order, each environment's keys are
    exactly its tasks' keys, and the tenant's are all of them."""
    store = TenantStore()
    for number, (operation, environment, micros) in enumerate(operations):
        if operation == "add":
            store.add_task(_record(f"{number:03d}", _ENVIRONMENTS[environment], micros))
        elif store.tasks:
            ids = sorted(store.tasks)
            store.remove_task(ids[(environment * 7 + micros) % len(ids)])
        assert list(store.task_index.after(None)) == sorted(t.key for t in store.tasks.values())
        for name in _ENVIRONMENTS:
            expected = sorted(t.key for t in store.tasks.values() if t.environment_id == name)
            index = index_of(store.tasks_by_environment, name)
            assert (list(index.after(None)) if index is not None else []) == expected


def test_the_only_environment_shares_the_tenants_index_until_a_second_comes() -> None:
    store = TenantStore()
    for number in range(3):
        store.add_task(_record(f"a{number}", "env-a", number))
    assert store.tasks_by_environment["env-a"] is store.task_index
    store.add_task(_record("b0", "env-b", 9))
    own = store.tasks_by_environment["env-a"]
    assert own is not store.task_index
    assert isinstance(own, OrderedIndex)
    assert [key[1] for key in own.after(None)] == ["a0", "a1", "a2"]
    store.remove_task("b0")
    store.add_task(_record("a3", "env-a", 10))  # alone again: shares again
    assert store.tasks_by_environment["env-a"] is store.task_index


def _record(task_id: str, environment: str, micros: int) -> TaskRecord:
    return TaskRecord(
        id=task_id,
        environment_id=environment,
        created_us=micros,
        creator={},
        reference="",
        name="",
        description="",
        triggered_by=(),
        spec={},
        depends_on=(),
    )
