"""Per-request work and the journal's memory are bounded, whatever a client sends."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.config import ServerConfig
from mockserver.domain import Limits
from mockserver.http import rpc
from mockserver.http.compression import MAX_GZIP_MEMBERS, gunzip
from mockserver.http.connect import ConnectError
from mockserver.http.journal import Journal, JournalEntry
from mockserver.http.normalize import MAX_ITEMS
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import SERVICE_PATH, AsgiClient, connect_error
from tests.support.factories import task_body

_GZIP_JSON = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def test_gzip_of_many_empty_members_is_refused_after_a_few(client: AsgiClient) -> None:
    body = gzip.compress(b"") * 209_000 + gzip.compress(b"{}")
    response = client.request("POST", f"{SERVICE_PATH}/ListTasks", content=body, headers=_GZIP_JSON)
    message = connect_error(response, 400, "invalid_argument")
    assert f"more than {MAX_GZIP_MEMBERS} gzip members" in message


def test_gzip_of_a_few_members_is_still_read() -> None:
    body = gzip.compress(b'{"a"') + gzip.compress(b": 1}")
    assert gunzip(body, 1000) == b'{"a": 1}'


def test_gunzip_counts_members_before_decompressing_the_rest() -> None:
    body = gzip.compress(b"") * (MAX_GZIP_MEMBERS + 1)
    with pytest.raises(ConnectError) as caught:
        gunzip(body, 1000)
    assert caught.value.code.name == "invalid_argument"


def test_large_messages_are_decoded_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, client: AsgiClient
) -> None:
    calls: list[str] = []
    real = asyncio.to_thread

    async def recording(function: Any, *args: Any) -> Any:
        calls.append(function.__name__)
        return await real(function, *args)

    monkeypatch.setattr("mockserver.http.rpc.to_thread", recording)
    padding = "x" * (rpc.INLINE_DECODE_BYTES + 10)
    body = gzip.compress(('{"x": "' + padding + '"}').encode())
    assert len(body) < rpc.INLINE_DECODE_BYTES  # compressed it is small: inflated inline
    response = client.request("POST", f"{SERVICE_PATH}/ListTasks", content=body, headers=_GZIP_JSON)
    assert response.status_code == 200, response.text
    assert calls == ["decode"]
    client.ok("ListTasks", {})
    assert calls == ["decode"]  # a small message never leaves the loop


def _entry(
    request: object = None, request_bytes: int = 10, response_bytes: int = 10
) -> JournalEntry:
    return JournalEntry(
        method="GetTask",
        request=request,
        code="ok",
        http_status=200,
        time_us=0,
        response={},
        request_bytes=request_bytes,
        response_bytes=response_bytes,
    )


def test_journal_keeps_only_the_size_of_a_big_request(make_app: AppFactory) -> None:
    client = AsgiClient(make_app())
    big = {"x": "y" * 100_000}
    client.ok("ListTasks", big)
    entry = client.request("GET", "/_mock/requests").json()["requests"][-1]
    assert entry["request"] is None
    assert entry["requestTruncated"] is True
    assert entry["requestBytes"] > 100_000
    assert "responseTruncated" not in entry


def test_journal_bounds_a_tenant_by_bytes() -> None:
    journal = Journal(1000, max_entry_bytes=1000, tenant_bytes=5000, max_bytes=10**6)
    for index in range(100):
        journal.record("a", _entry({"n": index}, request_bytes=900))
    kept = journal.entries("a")
    assert 0 < len(kept) < 100
    assert kept[-1].request == {"n": 99}
    assert journal.total_bytes <= 5000


def test_journal_bounds_all_tenants_by_bytes_dropping_the_stalest() -> None:
    journal = Journal(1000, max_entry_bytes=1000, tenant_bytes=10**6, max_bytes=20_000)
    journal.record("stale", _entry(request_bytes=900))
    for index in range(200):
        journal.record(f"t{index % 10}", _entry(request_bytes=900))
    assert journal.entries("stale") == []
    assert journal.total_bytes <= 20_000
    assert journal.entries("t9")


def test_journal_clear_releases_the_bytes() -> None:
    journal = Journal()
    journal.record("a", _entry(request_bytes=500))
    journal.record("b", _entry(request_bytes=500))
    journal.clear("a")
    assert journal.total_bytes == _entry(request_bytes=500).cost + len("b")
    journal.clear()
    assert journal.total_bytes == 0


def test_hundred_big_requests_keep_the_journal_small(make_app: AppFactory) -> None:
    app: Starlette = make_app(max_body_bytes=5 * 1024 * 1024)
    client = AsgiClient(app)
    body = b'{"x": "' + b"y" * (4 * 1024 * 1024) + b'"}'
    for _ in range(5):
        response = client.request(
            "POST",
            f"{SERVICE_PATH}/ListTasks",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200
    assert app.state.journal.total_bytes < 64 * 1024


def test_a_write_past_a_limit_is_resource_exhausted(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(limits=Limits(max_tasks=1)))
    client.ok("CreateTask", task_body(reference="one"))
    response = client.rpc("CreateTask", task_body(reference="two"))
    assert "1 tasks" in connect_error(response, 429, "resource_exhausted")


def test_a_list_of_a_million_items_is_refused_before_it_is_walked(client: AsgiClient) -> None:
    body = b'{"filter": {"phases": [' + b",".join([b"1"] * 1_000_000) + b"]}}"
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/ListTaskExecutions",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    message = connect_error(response, 400, "invalid_argument")
    assert message == f"filter.phases: at most {MAX_ITEMS} items, got 1000000"


def test_a_message_with_many_unknown_fields_is_still_fine(client: AsgiClient) -> None:
    metadata: dict[str, object] = {f"x{index}": 1 for index in range(MAX_ITEMS + 1)}
    metadata.update(name="a", reference="a")
    body = {"environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048", "metadata": metadata}
    assert client.ok("CreateTask", body)["task"]["metadata"]["name"] == "a"


def test_journal_counts_long_tokens_against_its_bytes() -> None:
    journal = Journal(1000, max_entry_bytes=1000, tenant_bytes=10**6, max_bytes=100_000)
    for index in range(100):
        journal.record(f"{index:05d}" + "t" * 10_000, _entry(request_bytes=10))
    assert journal.total_bytes <= 100_000
    assert len({key for key, _ in journal.all_entries()}) < 10


def test_journal_drops_an_entry_bigger_than_a_tenants_budget() -> None:
    journal = Journal(1000, max_entry_bytes=10**6, tenant_bytes=1000, max_bytes=10**6)
    journal.record("a", _entry(request_bytes=5000))
    assert journal.entries("a") == []
    assert journal.total_bytes == 0


# -- dependsOn graphs, plans, pages and logs of any shape (hypothesis) -------------------

_GRAPH_LIMITS = Limits(max_plan_steps=40, max_page_bytes=20_000, max_log_bytes=3_000)
_GRAPH_CLIENT = AsgiClient(create_app(ServerConfig(clock="manual", limits=_GRAPH_LIMITS)))
_ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"


def _graph(count: int, shape: str, seed: int, big: int) -> list[dict[str, Any]]:
    """An export's tasks: a long chain, a wide fan-in, or random edges (maybe a cycle);
    every ``big``-th task has a 3 KB command. Built from a few numbers so that hypothesis
    shows (and shrinks) those, not thousands of dicts."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=n + 1, version=4)) for n in range(count)]
    tasks: list[dict[str, Any]] = []
    for n, task_id in enumerate(ids):
        if shape == "chain":
            deps = ids[n - 1 : n] if n else []
        elif shape == "fan":
            deps = ids[:n] if n == count - 1 else []
        else:
            deps = sorted({ids[rng.randrange(count)] for _ in range(rng.randrange(3))} - {task_id})
        task: dict[str, Any] = {
            "id": task_id,
            "environmentId": _ENV,
            "metadata": {"createdAt": f"2026-01-01T00:00:00.{n:06d}Z"},
            "spec": {"command": "c" * (3000 if n % big == 0 else 10)},
        }
        if deps:
            task["dependsOn"] = deps
        tasks.append(task)
    return tasks


def _json_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=1, max_value=300),
    shape=st.sampled_from(["chain", "fan", "random"]),
    seed=st.integers(min_value=0, max_value=1000),
    big=st.integers(min_value=1, max_value=50),
    lines=st.integers(min_value=0, max_value=60),
    starts=st.lists(st.integers(min_value=0), max_size=4),
)
def test_any_graph_gets_bounded_plans_pages_and_logs(
    count: int, shape: str, seed: int, big: int, lines: int, starts: list[int]
) -> None:
    tasks = _graph(count, shape, seed, big)
    logs = ["y" * 200] * lines
    client = _GRAPH_CLIENT
    client.request("POST", "/_mock/reset")
    document = {"version": 1, "tenants": {"t": {"tasks": tasks}}}
    imported = client.request("PUT", "/_mock/state", json=document)
    assert imported.status_code in (200, 400), imported.text[:300]
    if imported.status_code == 400:  # only a cycle is refused here
        assert "dependency cycle" in imported.json()["message"]
        return
    scenario = json.dumps({"rules": [{"logs": logs}]}).encode()
    assert client.request("PUT", "/_mock/scenario", content=scenario).status_code == 200
    for start in starts:
        response = client.rpc("StartTask", {"id": tasks[start % len(tasks)]["id"]})
        assert response.status_code in (200, 429), response.text[:300]
        if response.status_code == 429:
            assert "--max-plan-steps" in response.text or "--max-page-bytes" in response.text
            continue
        steps = response.json()["taskExecution"]["spec"]["plan"]
        assert sum(len(group.get("steps", [])) for group in steps) <= 40
        client.request("POST", "/_mock/clock/advance", json={"seconds": 10**6})
        log = client.request("GET", f"/_mock/logs/{response.json()['taskExecution']['id']}")
        assert log.status_code == 200
        kept = log.text.splitlines(keepends=True)
        if kept and "truncated" in kept[-1]:
            kept = kept[:-1]
        assert len("".join(kept).encode()) <= 3_000
    for method, field in (("ListTasks", "tasks"), ("ListTaskExecutions", "taskExecutions")):
        token, seen = "", 0
        for _ in range(1000):
            page = client.ok(method, {"pagination": {"pageSize": 100, "token": token}})
            items = page.get(field, [])
            assert len(items) == 1 or _json_size(items) <= 20_000
            seen += len(items)
            token = page["pagination"].get("nextToken", "")
            if not token:
                break
        expected = len(tasks) if field == "tasks" else None
        assert expected is None or seen == expected
    overview = client.request("GET", "/_mock/overview")
    assert overview.status_code == 200
    assert len(overview.json()["tasks"]) >= 1
