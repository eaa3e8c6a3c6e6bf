"""The pytest plugin: ``--contracts-base-url`` adds one test per suite to a session."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_USER_TESTS = """
import pytest
from contracts.pytest_plugin import contract_tests

test_contracts = contract_tests(["auth", "lifecycle"])
"""


def _plugin_args() -> list[str]:
    """Load the plugin as users get it: by its entry point when installed, else by name."""
    installed = any(ep.name == "ona_contracts" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "contracts.pytest_plugin"]


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *_plugin_args(),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_plugin_adds_a_test_per_suite(mock_url: str, tmp_path: Path) -> None:
    result = _pytest(
        tmp_path,
        "--contracts-base-url",
        mock_url,
        "--contracts-only",
        "auth,lifecycle",
        "--contracts-max-examples",
        "3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # One test per operation of the generated suites (9 for auth), one per sequence suite.
    assert "10 passed" in result.stdout


def test_plugin_contract_tests_use_the_base_url_fixture(mock_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(_USER_TESTS)
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\n"
        f"def contracts_base_url() -> str:\n    return {mock_url!r}\n"
    )
    result = _pytest(tmp_path, "--contracts-max-examples", "3", "test_mine.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_plugin_reports_a_setup_problem_in_one_line(tmp_path: Path) -> None:
    result = _pytest(
        tmp_path, "--contracts-base-url", "http://127.0.0.1:9", "--contracts-only", "lifecycle"
    )
    assert result.returncode == 1
    assert "contracts: cannot reach http://127.0.0.1:9" in result.stdout


def test_plugin_contract_tests_honour_contracts_only(mock_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(_USER_TESTS)
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\n"
        f"def contracts_base_url() -> str:\n    return {mock_url!r}\n"
    )
    result = _pytest(tmp_path, "--contracts-only", "auth", "--contracts-max-examples", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout


def test_plugin_failure_names_the_pytest_seed_option(tmp_path: Path) -> None:
    from tests.contracts.mutants import MUTANTS, serve

    mutant = next(m for m in MUTANTS if m.name == "token_not_required")
    with serve(mutant) as url:
        result = _pytest(
            tmp_path,
            "--contracts-base-url",
            url,
            "--contracts-only",
            "auth",
            "--contracts-seed",
            "3",
            "-k",
            "GetTask]",
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "missing_token_rejected" in result.stdout
    assert "Repeat with --contracts-seed 3." in result.stdout
    assert "--seed 3" not in result.stdout.replace("--contracts-seed 3", "")
