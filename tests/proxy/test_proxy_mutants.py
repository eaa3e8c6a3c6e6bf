"""In front of broken servers (the suite's own mutants), the proxy names the broken check:
in the answer's header, at ``/_contracts/violations``, in the JUnit report and in its exit
status. A client's invalid request is reported as the client's, apart."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from openapi import METHODS_BY_NAME
from openapi.dialects import to_binary
from tests.contracts.mutants import MUTANTS, Mutant, serve
from tests.contracts.mutants_dialects import DIALECT_MUTANTS, WireRewrite
from tests.support.factories import ENV, MISSING, task_body
from tests.support.proxy_process import ProxyProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
Drive = Callable[[httpx.Client], httpx.Response]


def _rpc(client: httpx.Client, method: str, body: object) -> httpx.Response:
    return client.post(f"{SERVICE}/{method}", json=body)


def _created(client: httpx.Client, reference: str) -> str:
    response = _rpc(client, "CreateTask", task_body(reference))
    assert response.status_code == 200, response.text
    return str(response.json()["task"]["id"])


def _start_and_read(client: httpx.Client) -> httpx.Response:
    execution = _rpc(client, "StartTask", {"id": _created(client, "start")})
    execution_id = execution.json()["taskExecution"]["id"]
    # The mutants' fake runs on a real clock: 0.1 s pending, 0.2 s per step.
    _rpc(client, "GetTaskExecution", {"id": execution_id})
    time.sleep(0.6)
    _rpc(client, "GetTaskExecution", {"id": execution_id})
    return _rpc(client, "GetTaskExecution", {"id": execution_id})


def _read_deleted(client: httpx.Client) -> httpx.Response:
    task_id = _created(client, "doomed")
    assert _rpc(client, "DeleteTask", {"id": task_id}).status_code == 200
    return _rpc(client, "GetTask", {"id": task_id})


# mutant name -> the traffic that shows its defect, and the check the proxy must name.
SCENARIOS: dict[str, tuple[Drive, str]] = {
    "renamed_enum_value": (
        lambda client: _rpc(client, "StartTask", {"id": _created(client, "queued")}),
        "response_schema_conformance",
    ),
    "missing_required_field": (
        lambda client: _rpc(client, "CreateTask", task_body("lost")),
        "response_schema_conformance",
    ),
    "server_error_on_valid_input": (
        lambda client: _rpc(client, "ListTasks", {"filter": {"environmentIds": [ENV]}}),
        "not_a_server_error",
    ),
    "wrong_status_for_code": (
        lambda client: _rpc(client, "GetTask", {"id": MISSING}),
        "connect_error_consistency",
    ),
    "deleted_task_readable": (_read_deleted, "deleted_task_not_found"),
    "finished_running_again": (_start_and_read, "terminal_phase_is_final"),
    "status_version_decreases": (_start_and_read, "status_version_monotonic"),
    "token_not_required": (
        lambda client: httpx.post(
            f"{str(client.base_url).rstrip('/')}{SERVICE}/ListTasks", json={}
        ),
        "missing_token_rejected",
    ),
    "invalid_id_accepted": (
        lambda client: _rpc(client, "GetTask", {"id": "not-a-uuid"}),
        "invalid_request_rejected",
    ),
}
BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    return tmp_path / "junit.xml"


def _proxy(upstream: str, junit: Path) -> ProxyProcess:
    return ProxyProcess("--upstream", upstream, "--junit-xml", str(junit))


@pytest.fixture
def client_for() -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(url: str) -> httpx.Client:
        client = httpx.Client(
            base_url=url, headers={"Authorization": "Bearer proxy-mutants"}, timeout=10.0
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_proxy_names_the_broken_check(
    name: str, junit: Path, client_for: Callable[[str], httpx.Client]
) -> None:
    drive, check = SCENARIOS[name]
    mutant: Mutant = BY_NAME[name]
    mutant.state.clear()
    with serve(mutant) as upstream, _proxy(upstream, junit) as proxy:
        client = client_for(proxy.url)
        answer = drive(client)
        header = answer.headers.get("x-contract-violations", "")
        assert header.split("; ", 1)[0] not in ("", "0"), header
        assert "x-contract-violations" in answer.headers["access-control-expose-headers"]
        reported = httpx.get(f"{proxy.url}/_contracts/violations").json()["violations"]
        status, summary = proxy.finish()
        logged = proxy.output()
    server = [v for v in reported if v["side"] == "server"]
    assert check in {v["check"] for v in server}, reported
    named = next(v for v in server if v["check"] == check)
    assert named["curl"].startswith("curl ") and named["dialect"] == "json"
    assert f"server violation: {named['method']} [json] {check}" in logged
    assert "proxy-mutants" not in str(reported) + summary + logged  # the token never shows
    assert f"server {named['method']}: {check}" in summary
    assert status == 1, summary
    assert f'type="{check}"' in junit.read_text()


def test_proxy_reports_an_invalid_request_as_the_clients(
    junit: Path, client_for: Callable[[str], httpx.Client]
) -> None:
    with serve(None) as upstream, _proxy(upstream, junit) as proxy:
        client = client_for(proxy.url)
        answer = _rpc(client, "CreateTask", {"environmentId": "nope", "metadata": {"name": ""}})
        assert answer.status_code == 400
        assert answer.headers["x-contract-violations"] == "1; request_schema_conformance"
        reported = httpx.get(f"{proxy.url}/_contracts/violations").json()["violations"]
        status, summary = proxy.finish(signal.SIGINT)  # Ctrl-C ends it as SIGTERM does
    assert [(v["side"], v["check"], v["method"]) for v in reported] == [
        ("client", "request_schema_conformance", "CreateTask")
    ]
    # The server's 400 to it is right, so the run passes: the client broke the contract.
    assert status == 0, summary
    assert "0 server violation(s), 1 client violation(s)" in summary


def test_proxy_names_a_refused_dialect(junit: Path) -> None:
    mutant = next(m for m in DIALECT_MUTANTS if m.name == "binary_refused")
    body = to_binary(METHODS_BY_NAME["CreateTask"].request, task_body("binary"))
    with (
        serve(None, wrap=lambda app: WireRewrite(app, mutant)) as upstream,
        _proxy(upstream, junit) as proxy,
    ):
        answer = httpx.post(
            f"{proxy.url}{SERVICE}/CreateTask",
            content=body,
            headers={"Content-Type": "application/proto", "Authorization": "Bearer binary"},
        )
        status, summary = proxy.finish()
    assert answer.status_code == 415
    assert answer.headers["x-contract-violations"].endswith("; dialect_supported")
    assert "server CreateTask: dialect_supported" in summary and status == 1
