"""The pytest plugin tells a user what went wrong: a failed test's journal, a dead URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a pytest run per test

_USER_TESTS = """
def test_passes(mockserver):
    mockserver.call("ListTasks", {})


def test_fails_on_verify(mockserver):
    mockserver.call("CreateTask", {
        "environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048",
        "metadata": {"name": "Test", "reference": "test"},
    })
    mockserver.verify("CreateTask", match={"metadata.reference": "^build$"}, times=1)
"""


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip


def test_plugin_failed_test_reports_its_tenants_journal(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(_USER_TESTS)
    result = _pytest(tmp_path, "test_user.py")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "1 failed, 1 passed" in out
    # The section of the failed test, and no other tenant's calls in it.
    header = next(line for line in out.splitlines() if "mockserver journal (token pytest-" in line)
    section = out.split(header, 1)[1].split("\n=", 1)[0]
    assert section.strip().splitlines() == [
        '1  00:00:00  CreateTask -> ok  {"environmentId":"07e03a28-65a5-4d98-b532-8ea67b188048",'
        '"metadata":{"name":"Test","reference":"test"}}'
    ]
    assert "ListTasks" not in section
    # verify's message shows the near miss and what it failed.
    assert 'match.metadata.reference: expected /^build$/, was "test"' in out
    assert out.count("mockserver journal (token") == 1  # the passing test has none


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_plugin_unreachable_url_is_one_line(tmp_path: Path, xdist: list[str]) -> None:
    (tmp_path / "test_user.py").write_text(_USER_TESTS)
    with socket.socket() as bound:  # bound, never listening: the port refuses connections
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        result = _pytest(tmp_path, "test_user.py", "--mockserver-url", url, *xdist)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ERROR: --mockserver-url {url}: no mockserver answers there")
    assert "Traceback" not in result.stdout + result.stderr
