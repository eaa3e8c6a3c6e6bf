"""Per-request work and the journal's memory are bounded, whatever a client sends."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import pytest
from starlette.applications import Starlette

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
