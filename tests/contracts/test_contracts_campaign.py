"""Campaigns: time-boxed, deduplicated by signature, remembered, hunting slow requests.

Every test runs against a real listening server (the fake, or one of the broken servers
of ``mutants_campaign``) with a budget of a few seconds. What the campaign sent is
counted by the server itself, so no assertion depends on how fast this machine is.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import SuiteConfig, run
from contracts.dialects import JSON_POST, Dialect
from contracts.exchange import MAX_GET_URL, Client, _transport_failure
from contracts.merge import merge_reports
from contracts.progress import ProgressMeter
from contracts.report import Report, shard_path
from openapi.dialects import build_get_query
from tests.contracts.mutants import serve
from tests.contracts.mutants_campaign import Costly, Tally, list_items, two_defects
from tests.contracts.test_contracts_plugin import _plugin_args
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = [pytest.mark.e2e]

_JSON = ("json",)


def _by_check(report: Report, check: str) -> dict[str, Any]:
    """The failures of ``check`` by method, asserting each method appears once."""
    found = [f for f in report.failures if f.check == check]
    methods = [f.operation for f in found]
    assert len(methods) == len(set(methods)), report.summary()
    return {f.operation: f for f in found}


def test_campaign_reports_two_defects_once_each_with_a_shrunk_reproduction() -> None:
    with serve(two_defects()) as url:
        report = run(
            SuiteConfig(
                base_url=url,
                duration=4,
                seed=5,
                only=("positive",),
                operations=("GetTaskExecution", "ListTasks"),
                dialects=_JSON,
            ),
            progress=None,
        )
    crashes = _by_check(report, "not_a_server_error")
    assert set(crashes) == {"GetTaskExecution", "ListTasks"}, report.summary()
    for failure in crashes.values():
        assert failure.signature == f"not_a_server_error {failure.operation} 500 internal json"
        assert failure.shrunk, failure.render()
        assert failure.curl.startswith("curl ")
        assert failure.example is not None
    # Many failing cases, one entry per signature.
    assert sum(f.occurrences for f in crashes.values()) > len(crashes)
    assert report.rounds >= 2
    listed = report.to_json()["failures"]
    signatures = [entry["signature"] for entry in listed]
    assert len(signatures) == len(set(signatures))
    assert {"signature", "check", "method", "count", "reproduction", "example"} <= set(listed[0])
    assert report.exit_status == 1


def _cli(
    *args: str, cwd: Path = REPO_ROOT, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "contracts", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
    return finished, time.monotonic() - started


def test_campaign_stops_within_seconds_of_its_duration(mock_url: str, tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    finished, took = _cli("--base-url", mock_url, "--duration", "10", "--report", str(report_file))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads(report_file.read_text())
    assert report["failures"] == [] and report["previous"] == {"still_failing": [], "fixed": []}
    assert report["duration"] == 10 and report["rounds"] >= 1
    # Every suite took part (each gets a share of a round, and at least one case), and
    # the run ended near its budget (generous: a busy machine,
    # the interpreter's start, the document's load and the cleanup come on top).
    assert set(report["cases"]) == {"positive", "negative", "auth", "stateful", "lifecycle"}
    assert report["seconds"] < 10 + 15
    assert took < 10 + 45
    assert "campaign: " in finished.stderr  # the progress line (not a TTY: one at the end)
    assert "Campaign against" in finished.stdout


def test_campaign_database_replays_the_earlier_failure_first(tmp_path: Path) -> None:
    database = str(tmp_path / "db")
    config = SuiteConfig(
        base_url="http://127.0.0.1:1",  # replaced per server below
        duration=2,
        seed=11,
        only=("positive",),
        operations=("ListTasks",),
        dialects=_JSON,
        database=database,
    )

    def campaign(url: str) -> Report:
        return run(dataclasses.replace(config, base_url=url), progress=None)

    with serve(two_defects()) as url:
        first = campaign(url)
    crash = _by_check(first, "not_a_server_error")["ListTasks"]
    assert first.previous == {"still_failing": [], "fixed": []}
    assert (tmp_path / "db" / "examples").is_dir()

    tally = Tally()
    with serve(two_defects(tally)) as url:
        second = campaign(url)
    # The pre-flight's ListTasks and GetTask, then the saved failing request, before
    # anything new.
    assert crash.example is not None
    assert [operation for operation, _ in tally.bodies[:2]] == ["ListTasks", "GetTask"]
    assert tally.bodies[2] == ("ListTasks", crash.example["message"])
    # A crash breaks three checks at once: three signatures, all still there.
    earlier = sorted({failure.signature for failure in first.failures})
    assert crash.signature in earlier
    assert second.previous == {"still_failing": earlier, "fixed": []}
    assert f"{len(earlier)} still failing, 0 fixed" in second.summary()

    with serve(None) as url:
        third = campaign(url)
    assert third.ok, third.summary()
    assert third.previous == {"still_failing": [], "fixed": earlier}


def test_campaign_without_database_keeps_nothing(mock_url: str, tmp_path: Path) -> None:
    finished, _ = _cli(
        "--base-url",
        mock_url,
        "--duration",
        "2",
        "--only",
        "positive",
        "--dialects",
        "json",
        cwd=tmp_path,
    )
    assert finished.returncode == 0, finished.stderr
    assert list(tmp_path.iterdir()) == []  # no .hypothesis/ directory, nothing at all


def _slow(operations: set[str], units: Any, threshold: int, delay: float, tally: Tally) -> Any:
    return functools.partial(
        Costly,
        operations=frozenset(operations),
        units=units,
        threshold=threshold,
        delay=delay,
        tally=tally,
    )


def test_slower_than_max_response_time_fails_response_time() -> None:
    tally = Tally()
    config = SuiteConfig(
        base_url="http://127.0.0.1:1",  # replaced below
        max_examples=2,
        seed=1,
        only=("positive",),
        operations=("GetTask",),
        dialects=_JSON,
    )
    with serve(None, wrap=_slow({"GetTask"}, lambda raw: 1, 0, 0.5, tally)) as url:
        unbounded = run(dataclasses.replace(config, base_url=url), progress=None)
        bounded = run(
            dataclasses.replace(config, base_url=url, max_response_time=250), progress=None
        )
    assert unbounded.ok, unbounded.summary()  # slow, but nothing asked for speed
    slow = _by_check(bounded, "response_time")["GetTask"]
    assert slow.signature.startswith("response_time GetTask ")
    assert "an answer within 250 ms" in slow.expected
    assert tally.costly > 0


_ITEMS = 120  # list items in one request past which the quadratic server slows down


def _quadratic(raw: bytes) -> int:
    try:
        return list_items(json.loads(raw)) ** 2
    except ValueError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hunt_slow_finds_what_a_plain_run_of_the_same_length_does_not(seed: int) -> None:
    # CreateTask's cost is quadratic in the list items of the request; past 120 items
    # (14,400 units) an answer takes 0.4 s, below it none. A plain run of 40 cases stays
    # far below (at most 60 items over seeds 1..8); the hunt grows the lists past it.
    results = {}
    for hunt in ((), ("slow",)):
        tally = Tally()
        wrap = _slow({"CreateTask"}, _quadratic, _ITEMS**2, 0.4, tally)
        with serve(None, wrap=wrap) as url:
            report = run(
                SuiteConfig(
                    base_url=url,
                    max_examples=40,
                    seed=seed,
                    only=("positive",),
                    operations=("CreateTask",),
                    dialects=_JSON,
                    max_response_time=200,
                    hunt=hunt,
                ),
                progress=None,
            )
        results[hunt] = (tally, report)
    plain, plain_report = results[()]
    hunted, hunt_report = results[("slow",)]
    assert plain.costly == 0, plain_report.summary()
    assert hunted.costly > 0, hunt_report.summary()
    # One signature per outcome (a 200, or a 400 for a dependency that does not exist),
    # each slow for its size; the first one the search met again is shrunk.
    slow = [f for f in hunt_report.failures if f.check == "response_time"]
    assert {f.operation for f in slow} == {"CreateTask"}, hunt_report.summary()
    # Shrinking is not asserted here: the positive suite's shaper (contracts.realistic)
    # gives each case a unique reference and draws dependencies from the tasks created so
    # far, so a case sent again is not the same request and Hypothesis cannot always shrink
    # it; test_campaign_reports_two_defects_once_each_with_a_shrunk_reproduction proves it.


def test_a_time_out_is_a_failure_with_its_own_signature() -> None:
    tally = Tally()
    # GetTaskExecution: the pre-flight sends ListTasks and GetTask, which must answer.
    with serve(None, wrap=_slow({"GetTaskExecution"}, lambda raw: 1, 0, 3.0, tally)) as url:
        report = run(
            SuiteConfig(
                base_url=url,
                max_examples=1,
                seed=1,
                only=("positive",),
                operations=("GetTaskExecution",),
                dialects=_JSON,
                request_timeout=0.5,
            ),
            progress=None,
        )
    timeout = _by_check(report, "answered")["GetTaskExecution"]
    assert timeout.signature == "answered GetTaskExecution timeout json"
    assert "no answer (timeout" in timeout.received
    assert not [f for f in report.failures if f.check == "suite_ran_to_completion"]


def test_transport_errors_are_told_apart() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/x")
    dropped = httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=request
    )
    garbled = httpx.RemoteProtocolError("illegal status line: bytearray(b'HELLO')", request=request)
    assert _transport_failure(httpx.ReadTimeout("timed out", request=request)) == "timeout"
    assert _transport_failure(dropped) == "dropped"
    assert _transport_failure(httpx.ReadError("reset", request=request)) == "dropped"
    assert _transport_failure(garbled) == "malformed"


def _shard(signature: str, count: int, **extra: Any) -> dict[str, Any]:
    return {
        "seed": 1,
        "cases": {"positive": 10},
        "requests": 12,
        "exit_status": 1,
        "failures": [
            {"signature": signature, "check": "c", "method": "M", "count": count, **extra}
        ],
        "previous": {"still_failing": [], "fixed": ["old M 500 json"]},
    }


def test_merge_lists_each_signature_once(tmp_path: Path) -> None:
    one = _shard("c M 500 json", 2, shrunk=False, first_seen=1.0, reproduction="curl a")
    two = _shard("c M 500 json", 3, shrunk=True, first_seen=5.0, reproduction="curl b")
    two["failures"].append({"signature": "old M 500 json", "count": 1})
    merged = merge_reports([one, two])
    assert [(f["signature"], f["count"]) for f in merged["failures"]] == [
        ("c M 500 json", 5),
        ("old M 500 json", 1),
    ]
    assert merged["failures"][0]["reproduction"] == "curl b"  # the shrunk one
    assert merged["previous"] == {"still_failing": ["old M 500 json"], "fixed": []}
    assert merged["cases"] == {"positive": 20} and merged["exit_status"] == 1
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, shard in zip(paths, (one, two), strict=True):
        path.write_text(json.dumps(shard))
    out = tmp_path / "merged.json"
    finished, _ = _cli("merge", *map(str, paths), "-o", str(out))
    assert finished.returncode == 1, finished.stderr
    assert json.loads(out.read_text())["failures"] == merged["failures"]
    assert "2 distinct failure(s) from 2 report(s)" in finished.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    finished, _ = _cli("merge", str(broken))
    assert finished.returncode == 2 and "is not JSON" in finished.stderr


def test_shard_reports_are_named_for_the_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert shard_path("out/report.json") == Path("out/report.json")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert shard_path("out/report.json") == Path("out/report.gw3.json")


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("CONTRACTS_CAMPAIGN_SECONDS"),
    reason="a long campaign: set CONTRACTS_CAMPAIGN_SECONDS (e.g. 600) to run it",
)
def test_the_fake_passes_a_long_campaign(tmp_path: Path) -> None:
    seconds = os.environ["CONTRACTS_CAMPAIGN_SECONDS"]
    # CONTRACTS_CAMPAIGN_REPORT keeps the report for its figures.
    report_file = Path(os.environ.get("CONTRACTS_CAMPAIGN_REPORT") or tmp_path / "campaign.json")
    with ServerProcess(
        "--clock", "real", "--pending-delay", "0.1", "--step-duration", "0.2"
    ) as server:
        finished, _ = _cli(
            "--base-url",
            server.url,
            "--duration",
            seconds,
            "--report",
            str(report_file),
            timeout=float(seconds) + 300,
        )
    report = json.loads(report_file.read_text())
    assert finished.returncode == 0, finished.stdout
    assert report["failures"] == [] and report["rounds"] >= 2


def test_fail_fast_stops_a_campaign_at_its_first_failure() -> None:
    with serve(two_defects()) as url:
        report = run(
            SuiteConfig(
                base_url=url,
                duration=120,
                fail_fast=True,
                seed=5,
                only=("positive",),
                operations=("ListTasks",),
                dialects=_JSON,
            ),
            progress=None,
        )
    assert not report.ok and report.exit_status == 1
    assert report.rounds == 1 and report.seconds < 60, report.summary()


def test_replay_sends_a_reports_requests_again(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    with serve(two_defects()) as url:
        report = run(
            SuiteConfig(
                base_url=url,
                max_examples=5,
                seed=5,
                only=("positive",),
                operations=("ListTasks",),
                dialects=_JSON,
            ),
            progress=None,
        )
        report.write_json(report_file)
        finished, _ = _cli("replay", str(report_file), "--base-url", url)
    crash = _by_check(report, "not_a_server_error")["ListTasks"]
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert f"still failing   {crash.signature}" in finished.stdout
    with serve(None) as url:
        finished, _ = _cli("replay", str(report_file), "--base-url", url)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"fixed           {crash.signature}" in finished.stdout


def test_progress_says_time_rate_and_failures() -> None:
    stream = io.StringIO()
    with ProgressMeter(60, lambda: (42, 2), stream=stream, every=0.01):
        time.sleep(0.05)
    lines = stream.getvalue().splitlines()
    assert lines, "no progress line"
    assert re.fullmatch(
        r"campaign: \d+ s elapsed, \d+ s left, 42 cases \([\d.]+/s\), 2 distinct failure\(s\)",
        lines[-1],
    )
    assert "\r" not in stream.getvalue()  # not a terminal: whole lines, for CI logs


def test_pytest_xdist_workers_write_their_own_reports(mock_url: str, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
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
            "-n",
            "2",
            "--contracts-base-url",
            mock_url,
            "--contracts-only",
            "auth",
            "--contracts-dialects",
            "json",
            "--contracts-duration",
            "9",
            "--contracts-report",
            "report.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = sorted(path.name for path in tmp_path.glob("report*.json"))
    assert written == ["report.gw0.json", "report.gw1.json"], result.stdout
    merged = merge_reports([json.loads((tmp_path / name).read_text()) for name in written])
    assert merged["failures"] == [] and merged["cases"]["auth"] > 0


def test_a_read_too_long_for_a_get_url_is_posted(mock_url: str) -> None:
    # --hunt slow grows lists; a grown ListTasks drawn as Connect GET would be an URL
    # no server takes. Connect clients then POST in the same codec; so does the suite.
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(25)]
    body = {
        "filter": {
            "taskIds": ids,
            "environmentIds": ids,
            "taskReferences": [f"{n:02d}" + "r" * 126 for n in range(25)],
            "phases": ["TASK_EXECUTION_PHASE_RUNNING"] * 25,
        },
        # An unknown field, grown as the hunt grows them: ignored, as proto3 JSON says.
        "unknownPadding": ["p" * 100] * 20,
    }
    get = Dialect("get", "json")
    with Client(mock_url, "contracts-long-get") as client:
        short = client.send("test", "ListTaskExecutions", {}, dialect=get)
        long = client.send("test", "ListTaskExecutions", body, dialect=get)
        query = build_get_query("json", json.dumps(body).encode())
    assert (short.http_method, short.status) == ("GET", 200)
    assert len(query) > MAX_GET_URL
    assert (long.http_method, long.dialect, long.status) == ("POST", JSON_POST, 200)
