"""Real-deployment mode, against the fake playing a deployment.

One fake process knows only two environments (``--environment``) and a few tokens
(``--token``); each test is a tenant of its own (its token), with its own scenario
``faults``. The suite runs as users run it (CLI or :func:`contracts.run`); what it did is
read back from the fake: the tenant's tasks and executions, and its request journal.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from contracts import SuiteConfig, run
from contracts.__main__ import main
from contracts.exchange import retry_delay
from contracts.runner import SetupError
from mockserver.testing import MockClient
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = [pytest.mark.e2e]

ENVS = (str(uuid.uuid4()), str(uuid.uuid4()))
TOKENS = tuple(f"deployment-{n}" for n in range(16))
_READS = {"GetTask", "ListTasks", "GetTaskExecution", "ListTaskExecutions"}
_UNFINISHED = {"TASK_EXECUTION_PHASE_PENDING", "TASK_EXECUTION_PHASE_RUNNING"}
_tokens = itertools.cycle(TOKENS)


def _deployment_args(clock: str) -> list[str]:
    args = ["--clock", clock, "--pending-delay", "0.1", "--step-duration", "0.2"]
    args += [arg for env in ENVS for arg in ("--environment", env)]
    args += [arg for token in TOKENS for arg in ("--token", token)]
    return args


@pytest.fixture(scope="module")
def deployment_url() -> Iterator[str]:
    """The fake as a deployment: real clock, two environments, an allow-list of tokens."""
    with ServerProcess(*_deployment_args("real")) as server:
        yield server.url


@pytest.fixture
def tenant(deployment_url: str) -> Iterator[MockClient]:
    """A tenant of its own (a token of the allow-list, reset), for one test."""
    client = MockClient(deployment_url, next(_tokens))
    client.reset()
    yield client
    client.close()


def _config(tenant: MockClient, **changes: Any) -> SuiteConfig:
    settings: dict[str, Any] = {
        "base_url": tenant.url,
        "token": tenant.token,
        "environment_ids": ENVS,
        "max_examples": 3,
        "seed": 5,
        "lifecycle_timeout": 10,
    }
    settings.update(changes)
    return SuiteConfig(**settings)


def _leftovers(tenant: MockClient) -> tuple[list[Any], list[Any]]:
    """The tasks, and the unfinished executions, the tenant still has."""
    tasks = tenant.call("ListTasks", {"pagination": {"pageSize": 100}}).get("tasks", [])
    executions = tenant.call("ListTaskExecutions", {"pagination": {"pageSize": 100}})
    running = [
        e for e in executions.get("taskExecutions", []) if e["status"]["phase"] in _UNFINISHED
    ]
    return tasks, running


def _calls(tenant: MockClient) -> list[tuple[str, int | None]]:
    return [(entry["method"], entry["httpStatus"]) for entry in tenant.journal()]


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "contracts", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    # A shell without job control starts background commands with SIGINT ignored, and a
    # child inherits that: the CLI would never see the Ctrl-C the test sends it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env_args() -> list[str]:
    return [arg for env in ENVS for arg in ("--environment-id", env)]


@pytest.mark.slow
def test_deployment_run_creates_in_the_given_environments_and_cleans_up(
    tenant: MockClient,
) -> None:
    report = run(_config(tenant), progress=None)
    assert report.ok, report.summary()
    assert report.cleanup is not None and report.cleanup.tasks_created > 0
    assert not report.cleanup.left_tasks and not report.cleanup.left_executions
    assert "all cleaned up" in report.summary()
    assert _leftovers(tenant) == ([], [])
    calls = _calls(tenant)
    # Every task the run created landed in a given environment: none was refused for it
    # (a CreateTask may get 404 for a dependency that names no task, which the lifecycle
    # suite asks on purpose).
    assert ("CreateTask", 200) in calls
    refused = [
        entry["response"]
        for entry in tenant.journal()
        if entry["method"] == "CreateTask" and entry["httpStatus"] == 404
    ]
    assert not [body for body in refused if "environment" in str(body.get("message"))]


def test_deployment_keep_leaves_what_the_run_created(tenant: MockClient) -> None:
    report = run(_config(tenant, only=("lifecycle",), keep=True), progress=None)
    assert report.ok, report.summary()
    tasks, _ = _leftovers(tenant)
    assert report.cleanup is not None and report.cleanup.kept
    assert len(tasks) == report.cleanup.tasks_created - 1  # the lifecycle deleted one itself
    assert "left in place (--keep)" in report.summary()


def test_deployment_random_environments_are_a_setup_problem(
    tenant: MockClient, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--base-url", tenant.url, "--token", tenant.token, "--only", "lifecycle"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    # Progress lines, then one line saying what is wrong; no traceback.
    last = err.strip().splitlines()[-1]
    assert last.startswith("contracts: error: CreateTask in environment")
    assert "--environment-id" in last
    assert "Traceback" not in err
    assert _leftovers(tenant)[0] == []


def test_deployment_unknown_environment_id_is_a_setup_problem(tenant: MockClient) -> None:
    other = str(uuid.uuid4())
    with pytest.raises(SetupError, match=f"CreateTask in environment {other}"):
        run(_config(tenant, only=("lifecycle",), environment_ids=(other,)), progress=None)


def test_deployment_refused_token_is_a_setup_problem(
    deployment_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--base-url", deployment_url, "--token", "not-the-token"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.strip() == (
        f"contracts: error: {deployment_url} refuses the token (HTTP 401 unauthenticated on "
        "ListTasks); check --token"
    )


def test_deployment_no_token_is_a_setup_problem(
    deployment_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--base-url", deployment_url])
    err = capsys.readouterr().err
    assert status == 2
    assert "pass a token it accepts with --token" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--base-url", "localhost:8080"], "is not an http(s) URL with a host"),
        (["--base-url", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9"),
        (["--schema", "/nonexistent/openapi.yaml"], "cannot read the schema"),
        (["--schema", "README.md"], "schema README.md"),
        (["--environment-id", "not-a-uuid"], "are not UUIDs"),
    ],
)
def test_deployment_setup_problems_exit_2_with_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--base-url" not in arguments:
        arguments = ["--base-url", "http://127.0.0.1:9", *arguments]
    status = main(arguments)
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


def test_deployment_wrong_base_path_is_a_setup_problem(
    tenant: MockClient, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--base-url", f"{tenant.url}/api", "--token", tenant.token])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"contracts: error: no EnvironmentAutomationService at {tenant.url}/api")


def test_deployment_transient_errors_are_retried(tenant: MockClient) -> None:
    tenant.faults(
        {"method": "ListTasks", "code": "unavailable", "times": 2, "retry_after": 0},
        {"method": "CreateTask", "code": "resource_exhausted", "times": 2, "retry_after": 0},
        {"method": "GetTask", "code": "unavailable", "times": 1},
    )
    report = run(_config(tenant, only=("lifecycle",)), progress=None)
    assert report.ok, report.summary()
    assert report.conclusive and report.exit_status == 0
    assert report.retried == 5
    calls = _calls(tenant)
    assert calls.count(("ListTasks", 503)) == 2
    assert calls.count(("CreateTask", 429)) == 2
    assert "5 retried after 429/503" in report.summary()


def test_deployment_rate_limited_run_passes_by_retrying(tenant: MockClient) -> None:
    tenant.faults({"method": "*", "rate_limit": {"requests": 10, "per": 0.5}})
    report = run(_config(tenant, only=("lifecycle",)), progress=None)
    assert report.ok, report.summary()
    assert report.retried > 0  # the bucket ran dry, and the suite waited as told
    assert report.exit_status == 0


def test_deployment_rate_limit_option_keeps_under_the_servers_limit(tenant: MockClient) -> None:
    tenant.faults({"method": "*", "rate_limit": {"requests": 5, "per": 0.25}})
    report = run(_config(tenant, only=("lifecycle",), rate_limit=15, retries=0), progress=None)
    assert report.ok, report.summary()
    assert [call for call in _calls(tenant) if call[1] == 429] == []


def test_deployment_method_that_keeps_failing_is_no_verdict(tenant: MockClient) -> None:
    tenant.faults({"method": "GetTask", "code": "unavailable", "times": 10**6})
    report = run(_config(tenant, only=("positive",), retries=1), progress=None)
    assert report.ok, report.summary()  # not a contract failure
    assert set(report.transient) == {"GetTask"}
    assert report.exit_status == 2
    assert "NO VERDICT" in report.summary()


def test_deployment_read_only_calls_only_reads(tenant: MockClient) -> None:
    report = run(_config(tenant, read_only=True), progress=None)
    assert report.ok, report.summary()
    assert {method for method, _ in _calls(tenant)} == _READS
    assert report.config.suites == ("positive", "negative", "auth", "lifecycle", "callers")
    assert report.cleanup is not None and report.cleanup.tasks_created == 0


def test_deployment_manual_clock_gets_a_hint() -> None:
    with (
        ServerProcess(*_deployment_args("manual")) as server,
        contextlib.closing(MockClient(server.url, TOKENS[0])) as client,
    ):
        config = _config(client, only=("lifecycle",), lifecycle_timeout=0.5)
        report = run(config, progress=None)
        tasks, running = _leftovers(client)
    assert "execution_reaches_terminal_phase" in report.failed_checks
    assert "may be on a manual clock" in report.summary()
    assert 'MockServer(clock="real")' in report.summary()  # and how to fix it
    assert (tasks, running) == ([], [])  # stopped and deleted all the same


@pytest.mark.slow
def test_deployment_ctrl_c_cleans_up(tenant: MockClient) -> None:
    # GetTask runs after CreateTask; slowed down, it keeps the run going well past the
    # first created task, so the interrupt lands mid-run however fast the machine is.
    tenant.set_scenario({"latency": {"GetTask": 0.05}})
    process = _cli(
        "--base-url",
        tenant.url,
        "--token",
        tenant.token,
        "--only",
        "positive,lifecycle",
        "--max-examples",
        "50",
        *_env_args(),
    )
    deadline = time.monotonic() + 60
    while ("CreateTask", 200) not in _calls(tenant) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert "INTERRUPTED" in out
    assert "lifecycle      - cases   not run" in out  # never "0 cases ok"
    assert "all cleaned up" in out
    assert _leftovers(tenant) == ([], [])


def test_retry_delay_honours_retry_after_else_backs_off() -> None:
    assert retry_delay(1, "3") == 3.0
    assert retry_delay(4, "0") == 0.0
    assert retry_delay(1, "3600") == 60.0  # honoured up to a minute
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_delay(1, later) <= 30
    assert [retry_delay(n, None) for n in (1, 2, 3, 10)] == [0.25, 0.5, 1.0, 8.0]
    assert retry_delay(2, "soon") == 0.5  # unreadable: back off as without one
