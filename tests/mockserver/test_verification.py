"""POST /_mock/requests/find and /count: verification over the journal."""

from __future__ import annotations

from typing import Any

import pytest
from gitpod.v1 import environment_automation_pb2 as pb
from starlette.applications import Starlette

from tests.mockserver.conftest import AppFactory
from tests.support.asgi import AsgiClient
from tests.support.factories import MISSING, OTHER_ENV, task_body

FIND = "/_mock/requests/find"
COUNT = "/_mock/requests/count"


def _find(client: AsgiClient, query: Any, **kwargs: Any) -> dict[str, Any]:
    response = client.request("POST", FIND, json=query, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _count(client: AsgiClient, query: Any, **kwargs: Any) -> dict[str, Any]:
    response = client.request("POST", COUNT, json=query, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_verification_find_answers_the_matching_calls_oldest_first(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body("build"))
    client.ok("CreateTask", task_body("test"))
    client.ok("CreateTask", task_body("build", OTHER_ENV, spec={"command": "make again"}))
    client.rpc("GetTask", {"id": MISSING})
    query = {"method": "CreateTask", "code": "ok", "match": {"metadata.reference": "^build$"}}
    found = _find(client, query)
    commands = [entry["request"]["spec"]["command"] for entry in found["requests"]]
    assert commands == ["make build", "make again"]
    assert found["unknown"] == []
    assert "nearMisses" not in found
    assert _count(client, query) == {"count": 2, "unknown": 0}
    assert _count(client, {"code": "not_found"}) == {"count": 1, "unknown": 0}
    assert _count(client, {}) == {"count": 4, "unknown": 0}
    assert _count(client, {"method": "*"}) == {"count": 4, "unknown": 0}


def test_verification_empty_body_counts_every_call(client: AsgiClient) -> None:
    client.ok("ListTasks", {})
    response = client.request("POST", COUNT, content=b"")
    assert response.json() == {"count": 1, "unknown": 0}


def test_verification_matches_the_request_as_understood_lower_camel(client: AsgiClient) -> None:
    """A client may write proto names; the match uses the JSON names the fake read."""
    body = {
        "environment_id": task_body()["environmentId"],
        "metadata": {"name": "Build", "reference": "build"},
        "spec": {"command": "make"},
    }
    client.ok("CreateTask", body)
    assert _count(client, {"match": {"environmentId": "^07e03a28"}})["count"] == 1
    assert _count(client, {"match": {"environment_id": "."}})["count"] == 0


def test_verification_matches_binary_requests_decoded(client: AsgiClient) -> None:
    message = pb.GetTaskRequest(id=MISSING).SerializeToString()
    response = client.request(
        "POST",
        "/gitpod.v1.EnvironmentAutomationService/GetTask",
        content=message,
        headers={"Content-Type": "application/proto"},
    )
    assert response.status_code == 404
    found = _find(client, {"method": "GetTask", "code": "not_found", "match": {"id": "^0000"}})
    assert [entry["request"] for entry in found["requests"]] == [{"id": MISSING}]


def test_verification_matches_connect_get_requests_decoded(client: AsgiClient) -> None:
    response = client.request(
        "GET",
        "/gitpod.v1.EnvironmentAutomationService/GetTask"
        f'?connect=v1&encoding=json&message={{"id":"{MISSING}"}}',
    )
    assert response.status_code == 404, response.text
    assert _count(client, {"match": {"id": MISSING}})["count"] == 1


def test_verification_near_misses_say_which_part_failed(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body("test"))
    client.rpc("GetTask", {"id": MISSING})
    found = _find(
        client, {"method": "CreateTask", "code": "ok", "match": {"metadata.reference": "^build$"}}
    )
    assert found["requests"] == [] and found["unknown"] == []
    closest, other = found["nearMisses"]
    assert closest["request"]["method"] == "CreateTask"
    assert closest["failed"] == [
        {"part": "match.metadata.reference", "expected": "^build$", "actual": "test"}
    ]
    assert other["request"]["method"] == "GetTask"
    parts = [miss["part"] for miss in other["failed"]]
    assert parts == ["method", "code", "match.metadata.reference"]
    assert other["failed"][0] == {"part": "method", "expected": "CreateTask", "actual": "GetTask"}
    assert other["failed"][2]["actual"] is None  # absent


def test_verification_near_misses_are_the_closest_few(client: AsgiClient) -> None:
    for reference in ("a", "b", "c", "d"):
        client.ok("CreateTask", task_body(reference))
    found = _find(client, {"match": {"metadata.reference": "^z$"}})
    newest_first = [
        near["request"]["request"]["metadata"]["reference"] for near in found["nearMisses"]
    ]
    assert newest_first == ["d", "c", "b"]


def test_verification_near_misses_of_an_empty_journal(client: AsgiClient) -> None:
    assert _find(client, {"method": "StartTask"}) == {
        "requests": [],
        "unknown": [],
        "nearMisses": [],
    }


def test_verification_a_truncated_request_is_unknown_not_left_out(client: AsgiClient) -> None:
    client.rpc("GetTask", {"id": MISSING, "padding": "x" * 20_000})  # over 16 KiB: not kept
    client.rpc("GetTask", {"id": MISSING})
    query = {"method": "GetTask", "match": {"id": "^0000"}}
    assert _count(client, query) == {"count": 1, "unknown": 1}
    found = _find(client, query)
    assert len(found["requests"]) == 1
    (unknown,) = found["unknown"]
    assert unknown["requestTruncated"] is True and unknown["request"] is None
    # Without ``match`` the method and code decide: the entry counts.
    assert _count(client, {"method": "GetTask"}) == {"count": 2, "unknown": 0}
    # Nothing matched for sure: the near misses come too, the unknown entry is not one.
    lone = _find(client, {"method": "GetTask", "match": {"id": "^ffff"}})
    assert lone["requests"] == [] and len(lone["unknown"]) == 1
    assert [near["request"]["request"] for near in lone["nearMisses"]] == [{"id": MISSING}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1], "body"),
        ({"methd": "CreateTask"}, "methd"),
        ({"method": "CreateTasks"}, "method"),
        ({"method": 3}, "method"),
        ({"code": "OK"}, "code"),
        ({"match": "x"}, "match"),
        ({"match": {"id": 3}}, "match.id"),
        ({"match": {"id": "("}}, "match.id"),
        ({"match": {"a..b": "x"}}, "match"),
    ],
)
def test_verification_bad_bodies_get_400_naming_the_field(
    client: AsgiClient, body: Any, field: str
) -> None:
    for path in (FIND, COUNT):
        response = client.request("POST", path, json=body)
        assert response.status_code == 400, response.text
        answer = response.json()
        assert answer["code"] == "invalid_argument"
        assert answer["message"].startswith(field), answer["message"]


def test_verification_malformed_json_is_400(client: AsgiClient) -> None:
    response = client.request("POST", FIND, content=b"{")
    assert response.status_code == 400
    assert response.json()["message"].startswith("body")


def test_verification_is_per_tenant_and_the_admin_sees_all(make_app: AppFactory) -> None:
    app: Starlette = make_app(admin_tokens=frozenset({"root"}))
    alice, bob = AsgiClient(app, "alice"), AsgiClient(app, "bob")
    alice.ok("CreateTask", task_body("build"))
    bob.ok("CreateTask", task_body("build"))
    bob.ok("CreateTask", task_body("test"))
    query = {"method": "CreateTask"}
    assert _count(alice, query)["count"] == 1
    assert _count(bob, query)["count"] == 2
    everyone = _find(AsgiClient(app, "root"), query)["requests"]
    assert len(everyone) == 3
    assert len({entry["tenant"] for entry in everyone}) == 2
    assert _count(AsgiClient(app, "root"), query)["count"] == 3
    # A tenant's near misses come from its own calls only.
    misses = _find(alice, {"match": {"metadata.reference": "^test$"}})["nearMisses"]
    assert len(misses) == 1


def test_verification_needs_a_token(client: AsgiClient) -> None:
    response = client.request("POST", COUNT, json={}, token=None)
    assert response.status_code == 401
