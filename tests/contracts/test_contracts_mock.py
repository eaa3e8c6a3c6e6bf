"""The whole suite against the fake as a real listening process: it conforms."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contracts import SuiteConfig, run
from contracts.__main__ import main

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_SEED = ("--seed", "1")


def _junit(path: Path) -> tuple[str, str]:
    return ("--junit-xml", str(path))


def test_contracts_default_run_passes_against_the_mock(mock_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "contracts.junit.xml"
    started = time.monotonic()
    result = subprocess.run(
        # A fixed seed keeps the test deterministic; the default run is otherwise unchanged.
        [sys.executable, "-m", "contracts", "--base-url", mock_url, *_SEED, *_junit(junit)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    # A figure, not a verdict: the machine may be busy (the README quotes a measurement).
    print(f"default run: {elapsed:.0f} s; {result.stdout.splitlines()[-4]}")
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [suite.get("name") for suite in suites] == [
        "positive",
        "negative",
        "auth",
        "stateful",
        "lifecycle",
        "callers",
    ]
    assert all(suite.get("failures") == "0" for suite in suites)
    # Without --second-token the callers suite did not run, and says so: skipped, not passed.
    assert [suite.get("skipped") for suite in suites] == ["0"] * 5 + ["1"]


def test_contracts_seed_repeats_the_generated_requests(mock_url: str) -> None:
    config = SuiteConfig(base_url=mock_url, max_examples=5, seed=1234, only=("negative",))
    first, second = run(config, progress=None), run(config, progress=None)
    assert first.ok and second.ok
    assert first.requests == second.requests
    assert first.seed == second.seed == 1234


def test_contracts_workers_run_operations_in_parallel(mock_url: str) -> None:
    report = run(
        SuiteConfig(base_url=mock_url, max_examples=5, workers=3, only=("positive", "auth")),
        progress=None,
    )
    assert report.ok, report.summary()


def test_contracts_cli_unreachable_server_is_a_setup_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["--base-url", "http://127.0.0.1:9", "--only", "auth", "--max-examples", "1"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("contracts: error: cannot reach http://127.0.0.1:9")
    assert len(err.strip().splitlines()) == 1  # one line, no traceback


def test_contracts_cli_rejects_an_unknown_suite() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", "http://127.0.0.1:9", "--only", "everything"])
    assert exit_info.value.code == 2
