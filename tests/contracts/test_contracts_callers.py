"""The callers suite: a second caller may neither read, change nor list the first's tasks.

Against the fake (tokens are tenants, so any second token is a principal with no access)
the suite passes, cleans up, and says when it did not run; against each broken variant
in :mod:`tests.contracts.mutants_callers` it fails and names the check that caught it.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import SuiteConfig, run
from contracts.preflight import SetupError
from contracts.suites.callers import NOT_RUN
from mockserver.testing import MockClient
from tests.contracts.mutants import Mutant, serve
from tests.contracts.mutants_callers import CALLER_MUTANTS, SINGLE_DEFECT
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = [pytest.mark.e2e]

_SECOND = "contracts-second-caller"


def _callers(url: str, **changes: object) -> SuiteConfig:
    settings: dict[str, object] = {
        "base_url": url,
        "only": ("callers",),
        "second_token": _SECOND,
        "seed": 1,
    }
    settings.update(changes)
    return SuiteConfig(**settings)  # type: ignore[arg-type]


def test_callers_pass_against_the_fake_and_clean_up(mock_url: str) -> None:
    report = run(_callers(mock_url), progress=None)
    assert report.ok, report.summary()
    assert report.cases == {"callers": 1} and not report.skipped
    assert report.cleanup is not None and report.cleanup.tasks_created == 1
    assert not report.cleanup.left_tasks and not report.cleanup.left_executions
    # The second caller really called every id-taking method and listed.
    assert report.requests >= 20


def test_callers_without_a_second_token_say_not_run(mock_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "contracts.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts",
            "--base-url",
            mock_url,
            "--only",
            "callers",
            "--junit-xml",
            str(junit),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("callers"))
    assert line.split("cases", 1)[1].strip().startswith("NOT RUN: no --second-token")
    assert f"Not checked (not run): callers: {NOT_RUN}." in result.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "1"
    assert suite.find("testcase/skipped") is not None


def test_callers_read_only_probes_what_the_first_caller_lists(mock_url: str) -> None:
    owner = MockClient(mock_url, "contracts-callers-owner")
    owner.reset()
    try:
        env = "0b0c9f54-5b8e-4e0a-9a44-3f1c6b7d2e10"
        task = owner.call(
            "CreateTask",
            {"environmentId": env, "metadata": {"name": "Owned", "reference": "owned"}},
        )["task"]
        owner.call("StartTask", {"id": task["id"]})
        second = MockClient(mock_url, "contracts-callers-read-only-second")
        second.reset()
        report = run(
            _callers(mock_url, token=owner.token, second_token=second.token, read_only=True),
            progress=None,
        )
        assert report.ok and not report.skipped, report.summary()
        assert report.cases == {"callers": 1}
        methods = {entry["method"] for entry in second.journal()}
        second.close()
        assert {"GetTask", "GetTaskExecution", "ListTasks"} <= methods
        assert methods <= {"GetTask", "GetTaskExecution", "ListTasks", "ListTaskExecutions"}
        # Read-only: the second caller only read; the owner's task and execution are as
        # they were, and nothing was created.
        assert report.cleanup is not None and report.cleanup.tasks_created == 0
        assert owner.call("GetTask", {"id": task["id"]})["task"] == task
    finally:
        owner.reset()
        owner.close()


def test_callers_read_only_with_nothing_to_probe_says_not_run(mock_url: str) -> None:
    report = run(_callers(mock_url, token="contracts-callers-empty", read_only=True), progress=None)
    assert report.ok and report.exit_status == 0
    assert "nothing to probe" in report.skipped["callers"]
    assert "NOT RUN" in report.summary()


def test_callers_second_token_must_differ_from_the_first() -> None:
    with pytest.raises(ValueError, match="another caller"):
        SuiteConfig(base_url="http://127.0.0.1:9", token="same", second_token="same")


@pytest.mark.slow
@pytest.mark.parametrize("mutant", CALLER_MUTANTS, ids=[m.name for m in CALLER_MUTANTS])
def test_callers_broken_authorization_is_caught(mutant: Mutant) -> None:
    with serve(mutant) as url:
        report = run(_callers(url), progress=None)
    assert not report.ok, f"{mutant.name} went unnoticed"
    assert mutant.check in report.failed_checks, report.summary()
    if mutant.name in SINGLE_DEFECT:
        assert report.failed_checks == {mutant.check}, report.summary()
    assert all(failure.suite == "callers" for failure in report.failures)
    # The second caller's requests are reproduced with its token kept out of the report.
    denied = [f for f in report.failures if f.check == "other_caller_denied"]
    assert all("$CONTRACTS_SECOND_TOKEN" in f.curl and _SECOND not in f.curl for f in denied)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "outcome"),
    [((), "1 skipped"), (("--contracts-second-token", _SECOND), "1 passed")],
)
def test_callers_in_pytest_need_the_second_token_option(
    mock_url: str, tmp_path: Path, extra: tuple[str, ...], outcome: str
) -> None:
    from tests.contracts.test_contracts_plugin import _pytest

    args = ("--contracts-base-url", mock_url, "--contracts-only", "callers", "-rs", *extra)
    result = _pytest(tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcome in result.stdout
    assert (NOT_RUN in result.stdout) == (not extra)  # -rs shows why it was skipped


_ENV = "6a1f0d7e-2b4c-4d8e-9f10-3a5b7c9d1e2f"


@pytest.fixture(scope="module")
def deployment_url() -> Iterator[str]:
    """The fake as a deployment: one environment, an allow-list of two callers."""
    args = ["--clock", "real", "--pending-delay", "0.1", "--step-duration", "0.2"]
    with ServerProcess(*args, "--environment", _ENV, "--token", "owner", "--token", _SECOND) as s:
        yield s.url


def test_callers_against_a_deployment_with_two_known_callers(deployment_url: str) -> None:
    config = _callers(deployment_url, token="owner", environment_ids=(_ENV,))
    report = run(config, progress=None)
    assert report.ok and not report.skipped, report.summary()
    owner = MockClient(deployment_url, "owner")
    try:
        assert owner.call("ListTasks", {}).get("tasks", []) == []  # all cleaned up
    finally:
        owner.close()


def test_callers_second_token_the_server_refuses_is_a_setup_problem(deployment_url: str) -> None:
    config = _callers(deployment_url, token="owner", second_token="stranger")
    with pytest.raises(SetupError, match="refuses the second token"):
        run(config, progress=None)


def test_callers_that_cannot_probe_say_so_and_give_no_verdict(deployment_url: str) -> None:
    owner = MockClient(deployment_url, "owner")
    owner.reset()
    owner.faults({"method": "StartTask", "code": "unavailable", "times": 100})
    try:
        report = run(
            _callers(deployment_url, token="owner", environment_ids=(_ENV,), retries=0),
            progress=None,
        )
    finally:
        owner.reset()
        owner.close()
    assert report.ok and report.exit_status == 2, report.summary()
    assert report.skipped["callers"].startswith("could not probe: StartTask kept answering")
    assert "NOT RUN: could not probe" in report.summary()
