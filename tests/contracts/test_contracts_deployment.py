"""Real-deployment mode, against the fake playing a deployment (see ``deployment.py``)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from contracts import SuiteConfig, run
from contracts.__main__ import main
from contracts.exchange import retry_delay
from contracts.runner import SetupError
from tests.contracts.deployment import Deployment, Fault, serve_deployment
from tests.support.server_process import REPO_ROOT

pytestmark = [pytest.mark.e2e]

TOKEN = "deployment-token"
ENVS = (str(uuid.uuid4()), str(uuid.uuid4()))
_SERVICE = "gitpod.v1.EnvironmentAutomationService"
_READS = {"GetTask", "ListTasks", "GetTaskExecution", "ListTaskExecutions"}


def _config(url: str, **changes: object) -> SuiteConfig:
    settings: dict[str, object] = {
        "base_url": url,
        "token": TOKEN,
        "environment_ids": ENVS,
        "max_examples": 3,
        "seed": 5,
        "lifecycle_timeout": 10,
    }
    settings.update(changes)
    return SuiteConfig(**settings)  # type: ignore[arg-type]


def _leftovers(url: str) -> tuple[list[object], list[object]]:
    """The tasks, and the unfinished executions, the token's tenant still has."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    tasks = httpx.post(f"{url}/{_SERVICE}/ListTasks", json={}, headers=headers).json()
    executions = httpx.post(f"{url}/{_SERVICE}/ListTaskExecutions", json={}, headers=headers)
    running = [
        e
        for e in executions.json().get("taskExecutions", [])
        if e["status"]["phase"] in ("TASK_EXECUTION_PHASE_PENDING", "TASK_EXECUTION_PHASE_RUNNING")
    ]
    return tasks.get("tasks", []), running


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "contracts", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


@pytest.mark.slow
def test_deployment_run_creates_in_the_given_environments_and_cleans_up() -> None:
    deployment = Deployment(environments=frozenset(ENVS))
    with serve_deployment(deployment, tokens=frozenset({TOKEN})) as (url, _):
        report = run(_config(url), progress=None)
        assert report.ok, report.summary()
        assert report.cleanup is not None and report.cleanup.tasks_created > 0
        assert not report.cleanup.left_tasks and not report.cleanup.left_executions
        assert _leftovers(url) == ([], [])
    # Every task the run created landed in a given environment: none was refused.
    assert ("CreateTask", 404) not in deployment.calls
    assert ("CreateTask", 200) in deployment.calls


def test_deployment_keep_leaves_what_the_run_created() -> None:
    with serve_deployment(Deployment(environments=frozenset(ENVS))) as (url, _):
        report = run(_config(url, only=("lifecycle",), keep=True), progress=None)
        assert report.ok, report.summary()
        tasks, _ = _leftovers(url)
    assert report.cleanup is not None and report.cleanup.kept
    assert len(tasks) == report.cleanup.tasks_created - 1  # the lifecycle deleted one itself
    assert "left in place (--keep)" in report.summary()


def test_deployment_random_environments_are_a_setup_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve_deployment(Deployment(environments=frozenset(ENVS))) as (url, _):
        status = main(["--base-url", url, "--token", TOKEN, "--only", "lifecycle"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    # Progress lines, then one line saying what is wrong; no traceback.
    last = err.strip().splitlines()[-1]
    assert last.startswith("contracts: error: CreateTask in environment")
    assert "--environment-id" in last
    assert "Traceback" not in err


def test_deployment_unknown_environment_id_is_a_setup_problem() -> None:
    with serve_deployment(Deployment(environments=frozenset(ENVS))) as (url, _):
        other = str(uuid.uuid4())
        with pytest.raises(SetupError, match=f"CreateTask in environment {other}"):
            run(_config(url, only=("lifecycle",), environment_ids=(other,)), progress=None)


def test_deployment_refused_token_is_a_setup_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_deployment(Deployment(), tokens=frozenset({TOKEN})) as (url, _):
        status = main(["--base-url", url, "--token", "not-the-token"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.strip() == (
        f"contracts: error: {url} refuses the token (HTTP 401 unauthenticated on ListTasks); "
        "check --token"
    )


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


def test_deployment_transient_errors_are_retried() -> None:
    deployment = Deployment(
        environments=frozenset(ENVS),
        faults=[Fault("ListTasks", 503, 2), Fault("CreateTask", 429, 2), Fault("GetTask", 503, 1)],
    )
    with serve_deployment(deployment) as (url, _):
        report = run(_config(url, only=("lifecycle",)), progress=None)
    assert report.ok, report.summary()
    assert report.conclusive and report.exit_status == 0
    assert report.retried == 5
    assert deployment.calls.count(("ListTasks", 503)) == 2
    assert "5 retried after 429/503" in report.summary()


def test_deployment_method_that_keeps_failing_is_no_verdict() -> None:
    deployment = Deployment(faults=[Fault("GetTask", 503, 10**6)])
    with serve_deployment(deployment) as (url, _):
        report = run(_config(url, only=("positive",), retries=1), progress=None)
    assert report.ok, report.summary()  # not a contract failure
    assert report.transient.get("GetTask", 0) > 0
    assert set(report.transient) == {"GetTask"}
    assert report.exit_status == 2
    assert "NO VERDICT" in report.summary()


def test_deployment_rate_limit_keeps_under_the_servers_limit() -> None:
    deployment = Deployment(environments=frozenset(ENVS), rate_per_second=20)
    with serve_deployment(deployment) as (url, _):
        report = run(_config(url, only=("lifecycle",), rate_limit=12, retries=0), progress=None)
    assert report.ok, report.summary()
    assert not [call for call in deployment.calls if call[1] == 429]


def test_deployment_read_only_calls_only_reads() -> None:
    deployment = Deployment(environments=frozenset(ENVS))
    with serve_deployment(deployment) as (url, _):
        report = run(_config(url, read_only=True), progress=None)
    assert report.ok, report.summary()
    assert {method for method, _ in deployment.calls} == _READS
    assert report.config.suites == ("positive", "negative", "auth", "lifecycle")
    assert report.cleanup is not None and report.cleanup.tasks_created == 0


def test_deployment_manual_clock_gets_a_hint() -> None:
    with serve_deployment(Deployment(), clock="manual") as (url, _):
        report = run(
            _config(url, only=("lifecycle",), environment_ids=(), lifecycle_timeout=0.5),
            progress=None,
        )
    assert "execution_reaches_terminal_phase" in report.failed_checks
    assert "may be on a manual clock" in report.summary()
    assert report.cleanup is not None and not report.cleanup.left_tasks


@pytest.mark.slow
def test_deployment_ctrl_c_cleans_up(tmp_path: Path) -> None:
    deployment = Deployment(environments=frozenset(ENVS))
    with serve_deployment(deployment) as (url, _):
        env_args = [arg for env in ENVS for arg in ("--environment-id", env)]
        process = _cli(
            "--base-url",
            url,
            "--token",
            TOKEN,
            "--only",
            "lifecycle,positive",
            "--max-examples",
            "50",
            *env_args,
        )
        deadline = time.monotonic() + 60
        while ("CreateTask", 200) not in deployment.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        tasks, running = _leftovers(url)
    assert process.returncode == 130, out + err
    assert "INTERRUPTED" in out
    assert "all cleaned up" in out
    assert (tasks, running) == ([], [])


def test_retry_delay_honours_retry_after_else_backs_off() -> None:
    assert retry_delay(1, "3") == 3.0
    assert retry_delay(4, "0") == 0.0
    assert retry_delay(1, "3600") == 60.0  # honoured up to a minute
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_delay(1, later) <= 30
    assert [retry_delay(n, None) for n in (1, 2, 3, 10)] == [0.25, 0.5, 1.0, 8.0]
    assert retry_delay(2, "soon") == 0.5  # unreadable: back off as without one
