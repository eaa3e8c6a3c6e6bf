"""Browser requests to the control routes: cross-site request forgery and DNS rebinding.

A browser request carries ``Origin`` or ``Sec-Fetch-Site``; those are judged by where they
come from and which host they name. Every other request works as it always did.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.config import ServerConfig
from mockserver.http.origin import BrowserPolicy, host_name
from tests.support.asgi import AsgiClient, connect_error
from tests.support.factories import task_body

EVIL = "http://evil.example"
HOST = "127.0.0.1:8080"  # what a browser sends for the fake at http://127.0.0.1:8080
OWN = f"http://{HOST}"
TEXT = {"Content-Type": "text/plain"}


def _client(**config: Any) -> AsgiClient:
    return AsgiClient(create_app(ServerConfig(clock="manual", **config)), token=None)


def _send(
    client: AsgiClient, method: str, path: str, host: str = HOST, **headers: str
) -> httpx.Response:
    sent = {"Host": host, **{key.replace("_", "-"): value for key, value in headers.items()}}
    return client.request(method, path, content=b"{}", headers=sent)


def _tasks(client: AsgiClient) -> int:
    listed = client.ok("ListTasks", {}, token="keeper")
    return len(listed.get("tasks", []))


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("localhost:8080", "localhost"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8080", "::1"),
        ("::1", "::1"),
        ("fake:8080", "fake"),
    ],
)
def test_host_name_drops_the_port_and_case(host: str, name: str) -> None:
    assert host_name(host) == name


def test_the_hosts_the_fake_answers_to() -> None:
    policy = BrowserPolicy.build(
        bound_host="0.0.0.0",
        public_url="https://fake.example.com:9000",
        allowed_hosts=["ci-fake"],
        cors_origins=["*"],
    )
    for host in ("localhost:1", "app.localhost", "127.0.0.1:8080", "[::1]:80", "10.0.0.7:80"):
        assert policy.answers_to(host), host
    for host in ("fake.example.com", "ci-fake:8080"):
        assert policy.answers_to(host), host
    for host in ("evil.example", "localhost.evil.example:8080", "0.0.0.0.evil", ""):
        assert not policy.answers_to(host), host
    assert policy.origins == {"https://fake.example.com:9000"}  # never "*"


@pytest.mark.parametrize("route", ["/_mock/reset", "/_mock/clock/advance"])
def test_a_simple_request_from_another_origin_is_refused_and_has_no_effect(route: str) -> None:
    client = _client()
    client.ok("CreateTask", task_body(), token="keeper")
    response = _send(client, "POST", route, Origin=EVIL, **TEXT)
    message = connect_error(response, 403, "permission_denied")
    assert message.startswith(f"POST {route} from a page of {EVIL} is refused")
    assert f"--cors-origin {EVIL}" in message
    assert _tasks(client) == 1
    assert client.request("GET", "/_mock/clock").json()["now"] == "2026-01-01T00:00:00Z"


def test_a_listed_cors_origin_does_not_let_other_origins_in() -> None:
    client = _client(cors_origins=("http://localhost:3000",))
    client.ok("CreateTask", task_body(), token="keeper")
    refused = _send(client, "POST", "/_mock/reset", Origin=EVIL, **TEXT)
    connect_error(refused, 403, "permission_denied")
    assert _tasks(client) == 1
    listed = _send(client, "POST", "/_mock/reset", Origin="http://localhost:3000", **TEXT)
    assert listed.status_code == 200, listed.text
    assert _tasks(client) == 0


def test_cors_any_origin_opens_the_api_but_not_the_control_routes() -> None:
    client = _client(cors_origins=("*",))
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "PUT"}
    control = client.request("OPTIONS", "/_mock/scenario", headers={"Host": HOST, **preflight})
    connect_error(control, 403, "permission_denied")
    assert "access-control-allow-origin" not in control.headers
    api = client.request(
        "OPTIONS",
        "/gitpod.v1.EnvironmentAutomationService/CreateTask",
        headers={"Host": HOST, "Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert api.status_code == 200
    assert api.headers["access-control-allow-origin"] == "*"
    put = _send(client, "PUT", "/_mock/scenario", Origin=EVIL)
    connect_error(put, 403, "permission_denied")
    read = _send(client, "GET", "/_mock/state", Origin=EVIL)
    connect_error(read, 403, "permission_denied")


def test_a_page_under_another_host_name_is_refused_dns_rebinding() -> None:
    client = _client()
    scenario = b'{"faults": [{"method": "*", "code": "internal"}]}'
    rebound = "attacker.example:8080"
    for headers in (
        {"Origin": f"http://{rebound}"},  # the page believes itself same-origin
        {"Sec-Fetch-Site": "same-origin"},
    ):
        response = client.request(
            "PUT", "/_mock/scenario", content=scenario, headers={"Host": rebound, **headers}
        )
        message = connect_error(response, 403, "permission_denied")
        assert "DNS rebinding" in message
        assert "--allowed-host attacker.example" in message
    assert client.request("GET", "/_mock/scenario").json()["faults"] == []
    page = client.request("GET", "/_mock/ui", headers={"Host": rebound, "Sec-Fetch-Site": "none"})
    connect_error(page, 403, "permission_denied")


def test_an_allowed_host_and_the_public_url_host_are_answered() -> None:
    client = _client(allowed_hosts=("fake",), public_url="https://fake.example.com")
    for host in ("fake:8080", "fake.example.com"):
        origin = "https://fake.example.com" if "example" in host else f"http://{host}"
        response = _send(client, "POST", "/_mock/reset", host=host, Origin=origin)
        assert response.status_code == 200, response.text
    anyone = _client(allowed_hosts=("*",))
    rebound = _send(anyone, "POST", "/_mock/reset", host="x.test", Origin="http://x.test")
    assert rebound.status_code == 200


@pytest.mark.parametrize(
    ("fetch_site", "status"),
    [("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200)],
)
def test_sec_fetch_site_alone_judges_a_state_changing_request(fetch_site: str, status: int) -> None:
    response = _send(_client(), "POST", "/_mock/reset", Sec_Fetch_Site=fetch_site, **TEXT)
    assert response.status_code == status, response.text


def test_the_web_view_keeps_working_from_its_own_origin() -> None:
    client = _client()
    browser = {"Origin": OWN, "Sec-Fetch-Site": "same-origin"}
    page = _send(client, "GET", "/_mock/ui", Sec_Fetch_Site="none")
    assert page.status_code == 200
    linked = _send(client, "GET", "/_mock/ui", Sec_Fetch_Site="cross-site")  # a link to it
    assert linked.status_code == 200
    reset = client.request("POST", "/_mock/reset", headers={"Host": HOST, **browser})
    assert reset.status_code == 200, reset.text


def test_requests_that_are_not_from_a_browser_are_not_judged() -> None:
    """curl, the SDKs, the pytest plugin, a CI job reaching http://fake:8080."""
    client = _client(cors_origins=("*",))
    for host in ("fake:8080", "attacker.example", HOST):
        response = _send(client, "POST", "/_mock/reset", host=host, **TEXT)
        assert response.status_code == 200, response.text


def test_the_api_is_not_judged() -> None:
    """An API call acts on its own bearer token's tenant, which a hostile page cannot know."""
    client = _client()
    response = client.request(
        "POST",
        "/gitpod.v1.EnvironmentAutomationService/ListTasks",
        json={},
        headers={"Host": "evil.example", "Origin": EVIL, "Authorization": "Bearer page"},
    )
    assert response.status_code == 200
