"""The caches of encoded tasks are bounded in bytes and let go of a task with the task.

Counted in bytes held, not in RSS: bench/memory.py prints the RSS of the loop the
hardening report measured (59 MB -> 716 MB in 60 cycles before, flat after).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from gitpod.v1 import environment_automation_pb2 as pb

from mockserver.domain.types import SharedJson
from mockserver.http import render_cache
from mockserver.http.render_cache import RenderCache, cached_bytes, set_max_cache_bytes
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import SERVICE_PATH, AsgiClient
from tests.support.factories import task_body


@pytest.fixture(autouse=True)
def _restore_the_bound() -> Iterator[None]:
    yield
    set_max_cache_bytes(render_cache.DEFAULT_MAX_CACHE_BYTES)


def test_an_entry_goes_when_its_rendering_is_freed() -> None:
    cache: RenderCache[bytes] = RenderCache()
    rendering = SharedJson(id="a")
    cache.put(rendering, b"x" * 100, 100)
    assert cache.get(rendering) == b"x" * 100
    assert cache.bytes == 100
    del rendering
    gc.collect()  # refcounting frees it already; this only rules out a cycle
    assert len(cache) == 0 and cache.bytes == 0


def test_the_oldest_entries_go_past_the_byte_bound() -> None:
    set_max_cache_bytes(250)
    cache: RenderCache[bytes] = RenderCache()
    renderings = [SharedJson(id=str(n)) for n in range(5)]
    for rendering in renderings:
        cache.put(rendering, b"y" * 100, 100)
    assert cache.bytes <= 250
    assert [cache.get(r) is not None for r in renderings] == [False] * 3 + [True] * 2
    set_max_cache_bytes(100)  # shrinking applies to what is held
    assert cache.bytes == 100 and cache.get(renderings[4]) is not None
    cache.put(SharedJson(), b"z" * 101, 101)  # bigger than the bound: not kept
    assert cache.bytes == 100


def test_a_plain_dict_is_not_kept() -> None:
    cache: RenderCache[bytes] = RenderCache()
    cache.put({"id": "a"}, b"x", 1)
    assert len(cache) == 0


def _proto(client: AsgiClient, method: str, message: object) -> None:
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/{method}",
        content=message.SerializeToString(),  # type: ignore[attr-defined]
        headers={"Content-Type": "application/proto"},
    )
    assert response.status_code == 200, response.text


def test_a_deleted_task_leaves_no_cached_bytes_in_either_codec(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_body_bytes=2_000_000))
    before = cached_bytes()
    for _ in range(5):
        body = task_body()
        body["spec"]["command"] = "x" * 500_000
        task_id = client.ok("CreateTask", body)["task"]["id"]
        client.ok("ListTasks", {})
        _proto(client, "GetTask", pb.GetTaskRequest(id=task_id))
        _proto(client, "ListTasks", pb.ListTasksRequest())
        assert cached_bytes() >= before + 2 * 500_000  # both codecs kept it while it lived
        client.ok("DeleteTask", {"id": task_id})
        assert cached_bytes() == before


def test_updated_and_reset_tasks_leave_no_cached_bytes(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_body_bytes=2_000_000))
    before = cached_bytes()
    body = task_body()
    body["spec"]["command"] = "x" * 300_000
    task_id = client.ok("CreateTask", body)["task"]["id"]
    client.ok("ListTasks", {})
    client.ok("UpdateTask", {"id": task_id, "spec": {"command": "y" * 300_000}})
    client.ok("ListTasks", {})
    assert before + 300_000 <= cached_bytes() < before + 600_000  # the old one is gone
    response = client.request("POST", "/_mock/reset")
    assert response.status_code == 200
    assert cached_bytes() == before


def test_the_cache_bound_comes_from_the_config(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(max_cache_bytes=10_000, max_body_bytes=2_000_000))
    body = task_body()
    body["spec"]["command"] = "x" * 50_000
    client.ok("CreateTask", body)
    client.ok("ListTasks", {})
    assert cached_bytes() <= 10_000 * 2  # two caches (JSON, binary), each bounded
