"""The in-process benchmark runs and prints a row per request kind (no timing asserted:
figures belong to the benchmark, not to pass/fail tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    "bare POST /bench",
    "GetTask",
    "CreateTask",
    "ListTasks",
    "GetTask (proto)",
    "CreateTask (proto)",
    "ListTasks (proto)",
]


@pytest.mark.parametrize("mode", [[], ["--cold"]], ids=["warm", "cold"])
def test_inprocess_benchmark_prints_every_request_kind(mode: list[str]) -> None:
    command = [sys.executable, "bench/inprocess.py", "--requests", "30", "--batches", "1"]
    completed = subprocess.run(
        [*command, "--tasks", "30", *mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [line.split(" | ")[0].strip("| ") for line in completed.stdout.splitlines()]
    assert [row for row in rows if row in ROWS] == ROWS
    assert ("cold caches" in completed.stdout) == bool(mode)
