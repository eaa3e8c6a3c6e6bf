"""Each way hostile input once got a 500, answered now with the Connect error it deserves."""

from __future__ import annotations

import base64
import json

from gitpod.v1 import environment_automation_pb2 as pb

from mockserver.domain.paging import MAX_TOKEN_CHARS
from mockserver.domain.timestamps import format_timestamp, parse_timestamp
from mockserver.http.codecs import MAX_DEPTH
from tests.support.asgi import SERVICE_PATH, AsgiClient, connect_error

_JSON = {"Content-Type": "application/json"}
_ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"


def _post(client: AsgiClient, method: str, body: bytes, query: str = "") -> object:
    return client.request("POST", f"{SERVICE_PATH}/{method}{query}", content=body, headers=_JSON)


def test_query_page_size_with_a_unicode_digit_is_invalid_argument(client: AsgiClient) -> None:
    response = _post(client, "ListTasks", b"{}", "?pageSize=%C2%B2")
    assert connect_error(response, 400, "invalid_argument").startswith("pagination.pageSize")


def test_query_page_size_of_5000_digits_is_invalid_argument(client: AsgiClient) -> None:
    response = _post(client, "ListTasks", b"{}", "?pageSize=" + "9" * 5000)
    message = connect_error(response, 400, "invalid_argument")
    assert message.startswith("pagination.pageSize")
    assert len(message) < 1000


def test_page_token_of_nested_brackets_is_invalid_argument(client: AsgiClient) -> None:
    token = base64.urlsafe_b64encode(b"[" * 3000).decode()
    response = client.rpc("ListTasks", {"pagination": {"token": token}})
    assert "pagination.token" in connect_error(response, 400, "invalid_argument")


def test_short_page_token_of_nested_brackets_is_invalid_argument(client: AsgiClient) -> None:
    token = base64.urlsafe_b64encode(b"[" * 300).decode()
    assert len(token) <= MAX_TOKEN_CHARS
    response = client.rpc("ListTaskExecutions", {"pagination": {"token": token}})
    assert "pagination.token" in connect_error(response, 400, "invalid_argument")


def test_deep_nesting_inside_a_known_field_is_invalid_argument(client: AsgiClient) -> None:
    body = b'{"filter":' + b"[" * 950 + b"]" * 950 + b"}"
    message = connect_error(_post(client, "ListTasks", body), 400, "invalid_argument")
    assert f"nested more than {MAX_DEPTH} levels deep" in message


def test_deep_nesting_message_names_the_field(client: AsgiClient) -> None:
    body = b'{"filter":' + b"[" * 300 + b"]" * 300 + b"}"
    message = connect_error(_post(client, "ListTasks", body), 400, "invalid_argument")
    assert "filter[0][0][0]" in message


def test_nesting_at_the_limit_still_reaches_the_validator(client: AsgiClient) -> None:
    body = b'{"x":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert client.ok("ListTasks", json.loads(body)) == {"pagination": {}}


def test_deeply_nested_ignored_field_leaves_the_journal_readable(client: AsgiClient) -> None:
    body = b'{"x":' + b"[" * 960 + b"]" * 960 + b"}"
    connect_error(_post(client, "ListTasks", body), 400, "invalid_argument")
    journal = client.request("GET", "/_mock/requests")
    assert journal.status_code == 200, journal.text
    assert journal.json()["requests"][-1]["code"] == "invalid_argument"


def test_binary_create_with_timestamp_out_of_range_is_invalid_argument(
    client: AsgiClient,
) -> None:
    message = pb.CreateTaskRequest(
        environment_id=_ENV, metadata=pb.TaskMetadata(name="a", reference="a")
    )
    message.metadata.created_at.seconds = 2**62
    message.metadata.created_at.nanos = -1
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/CreateTask",
        content=message.SerializeToString(),
        headers={"Content-Type": "application/proto"},
    )
    assert "created_at" in connect_error(response, 400, "invalid_argument")


def _put_scenario(client: AsgiClient, body: bytes) -> object:
    return client.request("PUT", "/_mock/scenario", content=body)


def test_scenario_pattern_of_500_brackets_is_invalid_argument(client: AsgiClient) -> None:
    body = json.dumps({"rules": [{"match": {"reference": "[" * 500}}]}).encode()
    message = connect_error(_put_scenario(client, body), 400, "invalid_argument")
    assert "rules[0].match.reference: invalid regular expression" in message


def test_scenario_pattern_with_a_huge_repeat_does_not_fail_the_server(
    client: AsgiClient,
) -> None:
    body = json.dumps({"rules": [{"match": {"reference": "a{99999999999}"}}]}).encode()
    assert _put_scenario(client, body).status_code in (200, 400)  # type: ignore[attr-defined]


def test_scenario_nested_thousands_deep_is_invalid_argument(client: AsgiClient) -> None:
    message = connect_error(_put_scenario(client, b"[" * 5000), 400, "invalid_argument")
    assert "invalid YAML" in message


def test_catastrophic_pattern_matches_in_linear_time(client: AsgiClient) -> None:
    body = json.dumps({"rules": [{"match": {"name": "^(a+)+$"}, "outcome": "fail"}]})
    assert _put_scenario(client, body.encode()).status_code == 200  # type: ignore[attr-defined]
    task = client.ok(
        "CreateTask",
        {"environmentId": _ENV, "metadata": {"name": "a" * 5000 + "!", "reference": "r"}},
    )["task"]
    # With backtracking this start would take longer than the age of the universe.
    client.ok("StartTask", {"id": task["id"]})


def test_scenario_duration_beyond_the_state_limit_is_invalid_argument(
    client: AsgiClient,
) -> None:
    body = json.dumps({"rules": [{"duration": 1e12}]}).encode()
    assert "duration" in connect_error(_put_scenario(client, body), 400, "invalid_argument")


def test_timestamps_past_year_9999_are_written_as_the_last_instant() -> None:
    last = parse_timestamp("9999-12-31T23:59:59.999999Z")
    assert format_timestamp(last + 10**18) == "9999-12-31T23:59:59.999999Z"


def test_scenario_duration_of_400_digits_is_invalid_argument(client: AsgiClient) -> None:
    body = b'{"rules": [{"duration": 1' + b"0" * 400 + b"}]}"
    assert "duration" in connect_error(_put_scenario(client, body), 400, "invalid_argument")
