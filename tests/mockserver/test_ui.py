"""The web view's HTTP side: the page, its assets and the overview it polls. What the page
does with them is proven in a real browser (tests/e2e/test_webview.py)."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from mockserver.http.ui import ASSETS, UI_PATH
from tests.mockserver.conftest import AppFactory
from tests.support.asgi import AsgiClient, connect_error
from tests.support.factories import task_body
from tests.support.server_process import REPO_ROOT


def _asset(name: str) -> bytes:
    return (resources.files("mockserver") / "ui" / name).read_bytes()


def test_ui_root_redirects_to_the_view(client: AsgiClient) -> None:
    response = client.request("GET", "/", token=None)
    assert response.status_code == 302
    assert response.headers["location"] == UI_PATH


@pytest.mark.parametrize("path", [UI_PATH, UI_PATH + "/"])
def test_ui_page_is_served_without_a_token(client: AsgiClient, path: str) -> None:
    response = client.request("GET", path, token=None)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == _asset("index.html")
    assert f'src="{UI_PATH}/app.js"' in response.text
    assert f'href="{UI_PATH}/style.css"' in response.text


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_ui_assets_are_served_from_the_package(client: AsgiClient, name: str) -> None:
    response = client.request("GET", f"{UI_PATH}/{name}", token=None)
    assert response.status_code == 200
    assert response.headers["content-type"] == ASSETS[name]
    assert response.content == _asset(name)


def test_ui_every_file_of_the_page_is_served() -> None:
    """A module app.js imports but the server does not know would be a 404 in the page."""
    folder = resources.files("mockserver") / "ui"
    assert {entry.name for entry in folder.iterdir() if entry.is_file()} == set(ASSETS)


def test_ui_assets_are_package_data() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = pyproject["tool"]["setuptools"]["package-data"]["mockserver"]
    assert {f"ui/{name}" for name in ASSETS} <= set(listed)


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_ui_assets_load_nothing_from_elsewhere(name: str) -> None:
    text = _asset(name).decode("utf-8")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), "an external URL"
    assert "@import" not in text


def test_ui_unknown_asset_is_a_connect_not_found(client: AsgiClient) -> None:
    for path in (f"{UI_PATH}/nope.js", f"{UI_PATH}/..%2Fapp.py"):
        connect_error(client.request("GET", path, token=None), 404, "not_found")


def test_ui_responses_forbid_foreign_and_inline_script(client: AsgiClient) -> None:
    for path in (UI_PATH, *(f"{UI_PATH}/{name}" for name in ASSETS)):
        headers = client.request("GET", path, token=None).headers
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["connect-src"] == "'self'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


SCRIPTS = sorted(name for name in ASSETS if name.endswith(".js"))


def _scripts() -> str:
    return "\n".join(_asset(name).decode("utf-8") for name in SCRIPTS)


def test_ui_script_builds_the_page_from_text_never_from_markup() -> None:
    # Data (a task named "<script>", say) must never be parsed as HTML; the browser test
    # shows it is not, and this keeps the scripts from growing a way to do it.
    script = _scripts()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "DOMParser", "createContextualFragment"):  # fmt: skip
        assert sink not in script, sink


def test_ui_script_sends_the_token_only_in_the_authorization_header() -> None:
    script = _scripts()
    assert '"Bearer " + state.token' in script
    # The only other uses of the token: storage in this tab, and the URL fragment it is
    # taken from (and then removed from).
    uses = re.findall(r".*\b(?:state\.)?token\b.*", script)
    assert not [line for line in uses if re.search(r"fetch\(|\?token|&token", line)]
    assert "history.replaceState" in script
    assert "localStorage" not in script and "document.cookie" not in script


# -- the overview ----------------------------------------------------------------------


def test_ui_overview_needs_the_tenants_token(make_app: AppFactory) -> None:
    client = AsgiClient(make_app(tokens=frozenset({"alice"})), token="alice")
    connect_error(client.request("GET", "/_mock/overview", token=None), 401, "unauthenticated")
    connect_error(client.request("GET", "/_mock/overview", token="bob"), 401, "unauthenticated")
    # A token in the URL is not a credential: it would land in access logs.
    response = client.request("GET", "/_mock/overview?token=alice", token=None)
    connect_error(response, 401, "unauthenticated")
    assert client.request("GET", "/_mock/overview").status_code == 200


def test_ui_overview_refuses_the_operators_token(make_app: AppFactory) -> None:
    # The page would show no tenant while its Reset button wiped every one.
    client = AsgiClient(make_app(admin_tokens=frozenset({"root"})), token="root")
    message = connect_error(client.request("GET", "/_mock/overview"), 403, "permission_denied")
    assert "tenant's token" in message


def test_ui_overview_shows_the_tenant_and_is_not_journaled(client: AsgiClient) -> None:
    build = client.ok("CreateTask", task_body("build"))["task"]
    test = client.ok("CreateTask", task_body("test", dependsOn=[build["id"]]))["task"]
    started = client.ok("StartTask", {"id": test["id"]})["taskExecution"]
    client.ok("CreateTask", task_body("other"), token="someone-else")
    client.request("POST", "/_mock/clock/advance", json={"seconds": 2})

    overview = client.request("GET", "/_mock/overview").json()
    assert overview["now"] == "2026-01-01T00:00:02Z"
    # In the API's list order (creation time, then id): both were created at 00:00:00.
    assert [t["id"] for t in overview["tasks"]] == sorted([build["id"], test["id"]])
    assert test in overview["tasks"]
    assert overview["tasksTotal"] == 2
    [item] = overview["executions"]
    read = client.ok("GetTaskExecution", {"id": started["id"]})["taskExecution"]
    assert item["execution"] == read
    first_step = read["spec"]["plan"][0]["steps"][0]["id"]
    # PENDING for 1 s, then Build runs from 00:00:01, still running at 00:00:02.
    assert item["steps"] == [{"id": first_step, "startedAt": "2026-01-01T00:00:01Z"}]
    assert overview["executionsTotal"] == 1
    assert [r["method"] for r in overview["requests"]] == ["CreateTask", "CreateTask", "StartTask"]
    assert overview["requests"][2]["response"] == {"taskExecution": started}
    assert overview["requestsTotal"] == 3
    assert overview["subject"] == started["metadata"]["creator"]["id"]
    again = client.request("GET", "/_mock/overview").json()
    # One more: GetTaskExecution. Reading the overview is not an API call.
    assert again["requestsTotal"] == 4


def test_ui_overview_of_an_empty_tenant(client: AsgiClient) -> None:
    overview = client.request("GET", "/_mock/overview", token="nobody").json()
    assert overview["tasks"] == overview["executions"] == overview["requests"] == []
    assert overview["tasksTotal"] == overview["executionsTotal"] == overview["requestsTotal"] == 0
