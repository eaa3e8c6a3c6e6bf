"""The journal as the web view reads it: each call's duration and headers (never a
credential), a filter and pages, a curl command per call, the scenario as YAML."""

from __future__ import annotations

from typing import Any

import pytest
from gitpod.v1 import environment_automation_pb2 as pb

from mockserver.http import journal_page
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import SERVICE_PATH, AsgiClient, connect_error
from tests.support.factories import MISSING, task_body

TOKEN = "test-token"


def _journal(client: AsgiClient, query: str = "") -> dict[str, Any]:
    response = client.request("GET", "/_mock/requests" + query)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _methods(answer: dict[str, Any]) -> list[str]:
    return [entry["method"] for entry in answer["requests"]]


def test_journal_entry_has_duration_http_method_and_headers(client: AsgiClient) -> None:
    client.ok("ListTasks", {}, headers={"X-Trace": "abc"})
    [entry] = _journal(client)["requests"]
    assert entry["id"] == 1
    assert isinstance(entry["durationMs"], float) and entry["durationMs"] >= 0
    assert entry["httpMethod"] == "POST"
    headers = entry["requestHeaders"]
    assert headers["x-trace"] == "abc"
    assert headers["content-type"] == "application/json"


def test_journal_headers_never_show_a_credential(client: AsgiClient) -> None:
    client.ok(
        "ListTasks",
        {},
        headers={
            "Cookie": "session=s3cret",
            "Proxy-Authorization": "Basic cHJveHk=",
            "X-Forwarded-Authorization": f"Bearer {TOKEN}",  # the token under another name
        },
    )
    response = client.request("GET", "/_mock/requests")
    assert TOKEN not in response.text
    assert "s3cret" not in response.text and "cHJveHk=" not in response.text
    headers = response.json()["requests"][0]["requestHeaders"]
    for name in ("authorization", "cookie", "proxy-authorization", "x-forwarded-authorization"):
        assert headers[name] == "[redacted]"


def test_journal_headers_count_against_the_byte_limits(make_app: AppFactory) -> None:
    client = AsgiClient(make_app())
    client.ok("ListTasks", {})
    small = client.app.state.journal.total_bytes  # type: ignore[attr-defined]
    client.request("DELETE", "/_mock/requests")
    client.ok("ListTasks", {}, headers={"X-Big": "x" * 4000})
    assert client.app.state.journal.total_bytes >= small + 4000  # type: ignore[attr-defined]


def test_journal_connect_get_records_its_method_and_query(client: AsgiClient) -> None:
    response = client.request(
        "GET", f"{SERVICE_PATH}/ListTasks?encoding=json&message=%7B%7D&connect=v1"
    )
    assert response.status_code == 200, response.text
    [entry] = _journal(client)["requests"]
    assert entry["httpMethod"] == "GET"
    assert entry["query"] == "encoding=json&message=%7B%7D&connect=v1"


def _mixed_journal(client: AsgiClient) -> None:
    client.ok("CreateTask", task_body("build"))
    client.rpc("GetTask", {"id": MISSING})  # not_found
    client.ok("ListTasks", {})
    client.ok("CreateTask", task_body("lint"))


def test_journal_filters_by_method_code_and_text(client: AsgiClient) -> None:
    _mixed_journal(client)
    assert _methods(_journal(client, "?method=CreateTask")) == ["CreateTask", "CreateTask"]
    assert _methods(_journal(client, "?method=createtask")) == ["CreateTask", "CreateTask"]
    assert _methods(_journal(client, "?code=not_found")) == ["GetTask"]
    assert _methods(_journal(client, "?code=error")) == ["GetTask"]
    assert _methods(_journal(client, "?code=ok")) == ["CreateTask", "ListTasks", "CreateTask"]
    # Text: case-insensitive, in the request or the response.
    [lint] = _journal(client, "?q=MAKE%20LINT")["requests"]
    assert lint["request"]["metadata"]["reference"] == "lint"
    assert _methods(_journal(client, "?q=not%20found")) == ["GetTask"]
    assert _journal(client, "?method=ListTasks&code=error")["requests"] == []


def test_journal_pages_back_from_the_newest(client: AsgiClient) -> None:
    for size in range(7):
        client.ok("ListTasks", {"pagination": {"pageSize": size + 1}})

    def sizes(answer: dict[str, Any]) -> list[int]:
        return [e["request"]["pagination"]["pageSize"] for e in answer["requests"]]

    newest = _journal(client, "?limit=3")
    assert sizes(newest) == [5, 6, 7]  # the newest three, oldest first
    assert newest["total"] == 7
    older = _journal(client, f"?limit=3&before={newest['older']}")
    assert sizes(older) == [2, 3, 4]
    oldest = _journal(client, f"?limit=3&before={older['older']}")
    assert sizes(oldest) == [1]
    assert oldest["older"] is None  # nothing left
    # Without a limit the answer is the whole journal, as before paging existed.
    assert "older" not in _journal(client) and len(_journal(client)["requests"]) == 7


def test_journal_page_cursor_survives_new_calls_and_a_clear(client: AsgiClient) -> None:
    for _ in range(4):
        client.ok("ListTasks", {})
    page = _journal(client, "?limit=2")
    ids = [e["id"] for e in page["requests"]]
    client.ok("ListTasks", {})  # a new call does not shift the older page
    assert [e["id"] for e in _journal(client, f"?limit=2&before={ids[0]}")["requests"]] == [1, 2]
    client.request("DELETE", "/_mock/requests")
    client.ok("ListTasks", {})
    assert _journal(client)["requests"][0]["id"] == 6  # ids never repeat


def test_journal_page_looks_at_a_bounded_number_of_entries(
    client: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_page, "SCAN_BUDGET", 3)
    client.ok("CreateTask", task_body("build"))
    for _ in range(5):
        client.ok("ListTasks", {})
    first = _journal(client, "?limit=10&method=CreateTask")
    assert first["requests"] == []  # three entries looked at, no match among them
    second = _journal(client, f"?limit=10&method=CreateTask&before={first['older']}")
    assert _methods(second) == ["CreateTask"]
    assert second["older"] is None


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?method=Nope", "method"),
        ("?code=teapot", "code"),
        ("?limit=0", "limit"),
        ("?limit=x", "limit"),
        ("?before=-1", "before"),
        ("?sort=asc", "unknown parameter"),
    ],
)
def test_journal_page_rejects_a_bad_parameter(client: AsgiClient, query: str, words: str) -> None:
    message = connect_error(
        client.request("GET", "/_mock/requests" + query), 400, "invalid_argument"
    )
    assert words in message


def test_journal_page_applies_to_the_operators_view_of_every_tenant(
    make_app: AppFactory,
) -> None:
    client = AsgiClient(make_app(admin_tokens=("admin-1",)))
    client.ok("ListTasks", {}, token="tenant-a")
    client.ok("CreateTask", task_body("build"), token="tenant-b")
    client.ok("ListTasks", {}, token="tenant-b")
    every = client.request("GET", "/_mock/requests?method=ListTasks&limit=1", token="admin-1")
    [entry] = every.json()["requests"]
    assert entry["id"] == 3 and "tenant" in entry
    alone = client.request("GET", "/_mock/requests?method=ListTasks", token="tenant-a").json()
    assert [e["id"] for e in alone["requests"]] == [1]


def test_journal_curl_of_another_tenants_call_is_not_found(client: AsgiClient) -> None:
    client.ok("ListTasks", {}, token="tenant-a")
    elsewhere = client.request("GET", "/_mock/requests/1/curl", token="tenant-b")
    connect_error(elsewhere, 404, "not_found")
    text = client.request("GET", "/_mock/requests/1/curl", token="tenant-a").text
    assert text.startswith("curl ") and "$TOKEN" in text and "tenant-a" not in text


def test_journal_curl_of_a_request_it_did_not_keep_says_why(client: AsgiClient) -> None:
    client.ok("ListTasks", {"x": "y" * 100_000})
    message = connect_error(
        client.request("GET", "/_mock/requests/1/curl"), 400, "failed_precondition"
    )
    assert "kept only its size" in message


def test_scenario_reads_back_as_yaml(client: AsgiClient) -> None:
    assert client.request("GET", "/_mock/scenario?format=yaml").text == ""
    scenario = b"latency:\n  GetTask: 0.5\nrules:\n- match: {reference: ^build$}\n  outcome: fail\n"
    assert client.request("PUT", "/_mock/scenario", content=scenario).status_code == 200
    response = client.request("GET", "/_mock/scenario?format=yaml")
    assert response.headers["content-type"].startswith("application/yaml")
    again = client.request("PUT", "/_mock/scenario", content=response.content)
    assert again.json() == client.request("GET", "/_mock/scenario").json()
    assert "GetTask: 0.5" in response.text
    connect_error(client.request("GET", "/_mock/scenario?format=xml"), 400, "invalid_argument")


def test_binary_request_is_journaled_with_its_content_type(client: AsgiClient) -> None:
    body = pb.ListTasksRequest().SerializeToString()
    headers = {"Content-Type": "application/proto"}
    response = client.request("POST", f"{SERVICE_PATH}/ListTasks", content=body, headers=headers)
    assert response.status_code == 200
    [entry] = _journal(client)["requests"]
    assert entry["requestHeaders"]["content-type"] == "application/proto"


def test_scenario_error_names_the_line_it_is_about(client: AsgiClient) -> None:
    scenario = b"latency: {GetTask: 1}\nrules:\n- outcome: explode\n"
    message = connect_error(
        client.request("PUT", "/_mock/scenario", content=scenario), 400, "invalid_argument"
    )
    assert message.endswith("got 'explode' (line 3)")
    broken = client.request("PUT", "/_mock/scenario", content=b"rules: [\n")
    assert connect_error(broken, 400, "invalid_argument").count("line ") == 1  # YAML's own


def test_journal_headers_hide_even_a_short_token_elsewhere(client: AsgiClient) -> None:
    client.ok("ListTasks", {}, token="ab", headers={"X-Echo": "ab", "X-Other": "xyz"})
    response = client.request("GET", "/_mock/requests", token="ab")
    headers = response.json()["requests"][0]["requestHeaders"]
    assert headers["x-echo"] == "[redacted]" and headers["x-other"] == "xyz"
