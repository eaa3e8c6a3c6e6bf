"""MockClient.verify, count and find against a real server (in a thread)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.journal_text import journal_text
from mockserver.testing import MockServer, RpcError
from tests.support.factories import MISSING, OTHER_ENV, task_body


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def tenant(server: MockServer, request: pytest.FixtureRequest) -> Iterator[MockServer]:
    server.token = f"verify-{request.node.name}"
    server.close()  # the next call opens a client with the new token
    yield server
    server.reset()
    server.close()


def test_testing_verify_passes_and_answers_the_matching_calls(tenant: MockServer) -> None:
    tenant.call("CreateTask", task_body("build"))
    tenant.call("CreateTask", task_body("build", OTHER_ENV))
    tenant.call("ListTasks", {})
    found = tenant.verify("CreateTask", match={"metadata.reference": "^build$"}, times=2)
    assert [entry["request"]["environmentId"] for entry in found][1] == OTHER_ENV
    tenant.verify("CreateTask")  # at least once
    tenant.verify("CreateTask", at_least=2, at_most=2)
    tenant.verify("StartTask", times=0)
    tenant.verify(code="ok", at_most=3)
    assert tenant.count("CreateTask", code="ok") == 2
    assert tenant.count() == 3


def test_testing_verify_failure_shows_the_near_misses(tenant: MockServer) -> None:
    tenant.call("CreateTask", task_body("test"))
    with pytest.raises(AssertionError) as caught:
        tenant.verify("CreateTask", match={"metadata.reference": "^build$"}, code="ok")
    message = str(caught.value)
    assert message.startswith(
        "expected at least 1 call of CreateTask with code ok and metadata.reference ~ /^build$/,"
        " got 0"
    )
    assert "Near misses (closest first):" in message
    assert "1. 00:00:00  CreateTask -> ok  {" in message
    assert 'match.metadata.reference: expected /^build$/, was "test"' in message


def test_testing_verify_counts_too_many_and_too_few(tenant: MockServer) -> None:
    for _ in range(3):
        tenant.call("ListTasks", {})
    with pytest.raises(AssertionError, match="expected exactly 2 calls of ListTasks, got 3"):
        tenant.verify("ListTasks", times=2)
    with pytest.raises(AssertionError, match="expected at most 1 call of ListTasks, got 3"):
        tenant.verify("ListTasks", at_most=1)
    with pytest.raises(AssertionError, match="expected at least 4 calls of ListTasks, got 3"):
        tenant.verify("ListTasks", at_least=4)
    with pytest.raises(AssertionError, match="method: expected DeleteTask, was ListTasks"):
        tenant.verify("DeleteTask")
    tenant.clear_journal()
    with pytest.raises(AssertionError, match="No near misses: this tenant's journal holds no"):
        tenant.verify("DeleteTask")
    with pytest.raises(TypeError):
        tenant.verify("ListTasks", times=1, at_least=1)


def test_testing_verify_never_passes_on_calls_it_could_not_judge(tenant: MockServer) -> None:
    with pytest.raises(RpcError):  # not_found
        tenant.call("GetTask", {"id": MISSING, "padding": "x" * 20_000})
    match = {"id": "^0000"}
    with pytest.raises(AssertionError, match="too large for the journal to keep"):
        tenant.verify("GetTask", match=match, times=0)
    with pytest.raises(AssertionError, match="got 0 to 1"):
        tenant.verify("GetTask", match=match, times=1)
    tenant.verify("GetTask", match=match, at_most=1)  # true whatever the request was
    with pytest.raises(AssertionError, match="count is not known"):
        tenant.count("GetTask", match=match)


def test_testing_journal_text_is_one_line_per_call(tenant: MockServer) -> None:
    tenant.call("ListTasks", {"pagination": {"pageSize": 5}})
    tenant.advance(1.5)
    with pytest.raises(RpcError):
        tenant.call("GetTask", {"id": MISSING})
    assert journal_text(tenant.journal()) == (
        '1  00:00:00  ListTasks -> ok  {"pagination":{"pageSize":5}}\n'
        f'2  00:00:01.500  GetTask -> not_found  {{"id":"{MISSING}"}}'
    )
    assert journal_text([]) == "(no calls)"
    many = journal_text(tenant.journal() * 30, limit=3)
    assert many.splitlines()[0] == "(57 earlier calls not shown)"
    assert many.splitlines()[1].startswith("58  ")


def test_testing_clear_scenario_is_the_explicit_clear(tenant: MockServer) -> None:
    tenant.set_scenario("rules: [{outcome: fail}]")
    assert tenant.clear_scenario() == tenant.scenario()
    assert tenant.scenario().get("rules", []) == []
