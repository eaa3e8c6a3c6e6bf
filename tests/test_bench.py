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


def test_instruction_counts_come_from_the_callgrind_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/instructions.py divides callgrind's totals by the requests it counted."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import instructions

    profile = tmp_path / "callgrind.out.1"
    profile.write_text(
        "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
        "fn=(1) main\n0 7 1 1 0 0 0 0 0 0\n"
        "totals: 1000 1 1 10 20 30 1 2 3\n",
        encoding="utf-8",
    )
    counts = instructions.totals(profile)
    assert counts["Ir"] == 1000
    assert instructions.per_request(counts, 10) == (100.0, 6.0, 0.6)
    (tmp_path / "empty").write_text("events: Ir\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no totals"):
        instructions.totals(tmp_path / "empty")


@pytest.mark.parametrize(
    ("script", "args", "lines"),
    [
        (
            "bench/stalls.py",
            ["--chain", "300", "--plan", "50", "--starts", "2"],
            ["import a 300-task chain", "GET /_mock/logs", "restart with the chain"],
        ),
        ("bench/memory.py", ["--cycles", "2"], ["start: rss=", "after a reset: rss="]),
        (
            "bench/connections.py",
            ["--count", "6", "--wait", "0", "--readers", "1", "--tasks", "100"],
            ["6 connections opened", "still open", "clients not reading"],
        ),
    ],
    ids=["stalls", "memory", "connections"],
)
def test_hardening_scripts_run_and_print_their_figures(
    script: str, args: list[str], lines: list[str]
) -> None:
    completed = subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for line in lines:
        assert line in completed.stdout, completed.stdout
