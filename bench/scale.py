"""Start-up time and the cost of reads at scale: what a heavy user of the fake waits for.

Measures, each as the median of several runs (see ``bench/README.md``):

- start-up to "listening" (the line ``mockserver`` prints once it serves) and to the first
  answered request: empty, and with a ``--state`` store of ``--tasks`` tasks (the first
  start migrates a JSON export into it and is reported on its own); Prism's start-up on
  the same document for comparison when it is installed;
- at ``--tasks`` tasks, the latency of a ListTasks first page (25) unfiltered and with each
  kind of filter, and their ratio to the unfiltered page (the target: within 1.5x);
- ``GET /_mock/state`` of that tenant, the first call and later ones.

    python bench/scale.py              # 100,000 tasks
    python bench/scale.py --tasks 20000 --runs 3

Sequential requests over one keep-alive connection; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.domain.caller import subject_id_for  # noqa: E402

PRISM_LOCAL = ROOT / "bench" / ".prism" / "node_modules" / ".bin" / "prism"
SERVICE = "/gitpod.v1.EnvironmentAutomationService"
HOST = "127.0.0.1"
TOKEN = "bench-scale"
ENV_A = "07e03a28-65a5-4d98-b532-8ea67b188048"
ENV_B = "17e03a28-65a5-4d98-b532-8ea67b188048"
ENV_NONE = "27e03a28-65a5-4d98-b532-8ea67b188048"
LISTENING = re.compile(r"mockserver listening on (\S+)")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def state_document(count: int) -> dict[str, Any]:
    """``count`` tasks in one tenant, alternating between two environments, one
    millisecond apart, each with its own reference."""
    creator = {"id": subject_id_for(TOKEN), "principal": "PRINCIPAL_USER"}
    start = 1_767_225_600  # 2026-01-01T00:00:00Z
    tasks = []
    for i in range(count):
        seconds, millis = divmod(i, 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + seconds))
        tasks.append(
            {
                "id": str(uuid.UUID(int=i + 1, version=4)),
                "environmentId": ENV_A if i % 2 else ENV_B,
                "metadata": {
                    "createdAt": f"{stamp}.{millis:03d}Z",
                    "creator": creator,
                    "name": f"Task {i}",
                    "reference": f"task-{i:06d}",
                },
                "spec": {"command": f"make step-{i}"},
            }
        )
    return {
        "version": 1,
        "clock": "2026-06-01T00:00:00Z",
        "tenants": {subject_id_for(TOKEN): {"tasks": tasks, "executions": []}},
    }


@contextlib.contextmanager
def server(state: Path | None, workdir: Path) -> Iterator[tuple[float, float, str]]:
    """A fake on a free port: (seconds to "listening", seconds to a first answer, URL)."""
    command = [sys.executable, "-m", "mockserver", "--port", "0", "--clock", "manual"]
    command += ["--log-level", "warning"]
    if state is not None:
        command += ["--state", str(state)]
    out = workdir / f"server-{uuid.uuid4().hex[:6]}.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    begin = time.perf_counter()
    with out.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        url = ""
        while not url:
            match = LISTENING.search(out.read_text(errors="replace"))
            if match:
                url = match.group(1)
            elif process.poll() is not None:
                raise RuntimeError(f"the fake exited: {out.read_text()[-2000:]}")
            else:
                time.sleep(0.005)
        listening = time.perf_counter() - begin
        while True:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
                connection.request("GET", "/_mock/health")
                if connection.getresponse().status == 200:
                    break
            time.sleep(0.002)
        answered = time.perf_counter() - begin
        yield listening, answered, url
    finally:
        # SIGKILL: the store is already committed; a graceful stop is not what is measured.
        process.send_signal(signal.SIGKILL)
        process.wait()


def prism_startup(workdir: Path) -> float | None:
    """Seconds from spawn to Prism's first answer on the same document, if installed."""
    prism = str(PRISM_LOCAL) if PRISM_LOCAL.exists() else shutil.which("prism")
    if prism is None:
        return None
    port = 21_900 + os.getpid() % 90
    document = ROOT / "openapi" / "openapi.yaml"
    begin = time.perf_counter()
    process = subprocess.Popen(
        [prism, "mock", str(document), "-p", str(port), "-h", HOST, "-v", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = begin + 60
        while time.perf_counter() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, port, timeout=5)
                connection.request("GET", "/")
                connection.getresponse().read()
                return time.perf_counter() - begin
            time.sleep(0.01)
        return None
    finally:
        process.terminate()
        process.wait()


class Client:
    """Sequential requests on one keep-alive connection."""

    def __init__(self, url: str) -> None:
        self.connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=120)

    def call(self, method: str, path: str, body: Any = None) -> tuple[float, bytes]:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        begin = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - begin
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {raw[:300]!r}")
        return elapsed, raw


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], float], count: int) -> float:
    return median_ms([action() for _ in range(count)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/scale.py", description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="default: %(default)s")
    parser.add_argument("--runs", type=int, default=5, help="start-ups per case (default: 5)")
    parser.add_argument("--requests", type=int, default=50, help="per list case (default: 50)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        # --state is an SQLite store that migrates a JSON export on its first start.
        state = workdir / "state.db"
        state.write_text(json.dumps(state_document(args.tasks)), encoding="utf-8")
        log(f"state export: {args.tasks} tasks, {state.stat().st_size / 1e6:.1f} MB of JSON")
        load_before = os.getloadavg()[0]

        rows: list[tuple[str, str]] = []
        with server(state, workdir) as (listening, answered, _):
            rows.append(
                (
                    f"first start with --state: migrating the JSON export of {args.tasks:,} tasks",
                    f"{listening * 1000:,.0f} ms / {answered * 1000:,.0f} ms",
                )
            )
        empty: list[tuple[float, float]] = []
        full: list[tuple[float, float]] = []
        for run in range(args.runs):  # interleaved: empty, then with the state file
            log(f"start-up run {run + 1}/{args.runs}")
            with server(None, workdir) as (listening, answered, _):
                empty.append((listening, answered))
            with server(state, workdir) as (listening, answered, _):
                full.append((listening, answered))
        for name, runs in (("empty", empty), (f"{args.tasks:,} tasks (--state)", full)):
            rows.append(
                (
                    f"start-up, {name}: to listening / to first answer",
                    f"{median_ms([r[0] for r in runs]):,.0f} ms / "
                    f"{median_ms([r[1] for r in runs]):,.0f} ms",
                )
            )
        prism = [p for p in (prism_startup(workdir) for _ in range(min(args.runs, 3))) if p]
        if prism:
            rows.append(("start-up, Prism 5 on the same document", f"{median_ms(prism):,.0f} ms"))

        with server(state, workdir) as (_, _, url):
            client = Client(url)
            lists = {
                "unfiltered": {},
                "environment (half the tasks)": {"environmentIds": [ENV_A]},
                "environment with no task": {"environmentIds": [ENV_NONE]},
                "one reference": {"references": [f"task-{args.tasks // 2:06d}"]},
                "a reference in no task": {"references": ["nowhere"]},
                "environment and reference": {
                    "environmentIds": [ENV_A, ENV_B],
                    "references": ["task-000007"],
                },
            }
            path = f"{SERVICE}/ListTasks"
            unfiltered = 0.0
            for name, filters in lists.items():
                body = {"filter": filters, "pagination": {"pageSize": 25}}
                client.call("POST", path, body)  # the first read renders the page's tasks
                cost = median_ms([client.call("POST", path, body)[0] for _ in range(args.requests)])
                if name == "unfiltered":
                    unfiltered = cost
                ratio = f" ({cost / unfiltered:.2f}x unfiltered)" if name != "unfiltered" else ""
                rows.append((f"ListTasks first page, {name}", f"{cost:.2f} ms{ratio}"))
            first, raw = client.call("GET", "/_mock/state")
            later = timed(lambda: client.call("GET", "/_mock/state")[0], 3)
            rows.append(
                (
                    f"GET /_mock/state ({len(raw) / 1e6:.0f} MB): first call / later calls",
                    f"{first * 1000:,.0f} ms / {later:,.0f} ms",
                )
            )
        load_after = os.getloadavg()[0]

    print(f"\n{args.tasks:,} tasks; medians of {args.runs} start-ups, {args.requests} list calls;")
    print(f"1-min load average {load_before:.2f} before, {load_after:.2f} after\n")
    print("| measure | result |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
