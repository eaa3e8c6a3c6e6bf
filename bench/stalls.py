"""The worst event-loop stall of the hostile cases: how long one request can hold up others.

A probe thread asks ``GET /_mock/health`` over its own connection, back to back, while one
hostile request runs at a time; the longest probe answer during a case is that case's
stall (the loop serves nothing else meanwhile). Cases, from the hardening reports:

- a ``PUT /_mock/state`` of a long dependsOn chain (``--chain``
  tasks, ~200 bytes each: 19,800 make 4 MiB);
- a restart with that chain in a ``--state`` file (seconds to the first answer);
- StartTask of the ``--plan``-th task of the chain (a plan of that many steps), 20 times
  (the answer, and the server's RSS after);
- one ListTaskExecutions page and one ``GET /_mock/overview`` over those executions;
- a scenario of 1,000 log lines per step, a start on the chain (refused when its plan
  is too big to store) and on its 20th task, and ``GET /_mock/logs`` of the latter.

    python bench/stalls.py                        # the fake's defaults
    python bench/stalls.py --chain 8000 --plan 8000 -- --max-plan-steps 8000  # fake's flags

Figures only: nothing here is a pass/fail test (docs/reliability.md states the promise).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.domain.caller import subject_id_for  # noqa: E402

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
TOKEN = "bench-stalls"
ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"
LISTENING = re.compile(r"mockserver listening on http://(\S+)")


def chain_document(count: int) -> dict[str, Any]:
    """``count`` tasks in one tenant, each depending on the one before."""
    tasks = []
    for i in range(count):
        task: dict[str, Any] = {
            "id": str(uuid.UUID(int=i + 1, version=4)),
            "environmentId": ENV,
            "metadata": {"createdAt": f"2026-01-01T00:00:00.{i:06d}Z"},
        }
        if i:
            task["dependsOn"] = [str(uuid.UUID(int=i, version=4))]
        tasks.append(task)
    return {
        "version": 1,
        "clock": "2026-06-01T00:00:00Z",
        "tenants": {subject_id_for(TOKEN): {"tasks": tasks}},
    }


class Server:
    """``python -m mockserver`` on a free port, with its pid for the RSS."""

    def __init__(self, args: Sequence[str], workdir: Path) -> None:
        self.log = workdir / f"server-{uuid.uuid4().hex[:6]}.log"
        command = [sys.executable, "-m", "mockserver", "--port", "0", "--clock", "manual"]
        command += ["--log-level", "warning", *args]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.began = time.perf_counter()
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
        self.address = ""
        while not self.address:
            match = LISTENING.search(self.log.read_text(errors="replace"))
            if match:
                self.address = match.group(1)
            elif self.process.poll() is not None:
                raise RuntimeError(f"the fake exited: {self.log.read_text()[-2000:]}")
            else:
                time.sleep(0.005)
        while self.call("GET", "/_mock/health")[0] != 200:
            time.sleep(0.005)
        self.started = time.perf_counter() - self.began

    def call(
        self, method: str, path: str, body: object = None, raw: bytes | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.address, timeout=600)
        try:
            payload = raw if raw is not None else None if body is None else json.dumps(body)
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            connection.request(method, path, payload, headers)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:
            return 0, b""
        finally:
            connection.close()

    def rpc(self, method: str, body: object) -> tuple[int, bytes]:
        return self.call("POST", f"{SERVICE}/{method}", body)

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return kilobytes / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Probe:
    """Health checks back to back on one connection; the worst answer since :meth:`reset`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.worst = 0.0
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        connection = http.client.HTTPConnection(self.address, timeout=600)
        while self.running:
            begin = time.perf_counter()
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection.request("GET", "/_mock/health")
                connection.getresponse().read()
            self.worst = max(self.worst, time.perf_counter() - begin)
            time.sleep(0.002)

    def reset(self) -> None:
        time.sleep(0.05)  # let an answer in flight land
        self.worst = 0.0

    def close(self) -> None:
        self.running = False
        self.thread.join(10)


@contextlib.contextmanager
def measured(probe: Probe, name: str) -> Iterator[dict[str, Any]]:
    figures: dict[str, Any] = {}
    probe.reset()
    begin = time.perf_counter()
    yield figures
    figures["seconds"] = round(time.perf_counter() - begin, 3)
    time.sleep(0.05)
    figures["worst_stall_ms"] = round(probe.worst * 1000, 1)
    print(f"{name:34} " + "  ".join(f"{key}={value}" for key, value in figures.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=19_800, help="tasks in the chain")
    parser.add_argument(
        "--plan",
        type=int,
        default=1000,
        help="start the task this far down the chain (its plan has this many steps;"
        " 1,000 is the fake's --max-plan-steps default)",
    )
    parser.add_argument("--starts", type=int, default=20, help="StartTask calls on the chain")
    parser.add_argument("fake_args", nargs="*", help="flags for the fake (after --)")
    args = parser.parse_args(argv)
    document = chain_document(args.chain)
    raw = json.dumps(document, separators=(",", ":")).encode()
    tasks = document["tenants"][subject_id_for(TOKEN)]["tasks"]
    last = tasks[min(args.plan, len(tasks)) - 1]["id"]
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        state = workdir / "state.db"
        server = Server(["--state", str(state), *args.fake_args], workdir)
        probe = Probe(server.address)
        try:
            with measured(probe, f"import a {args.chain}-task chain") as figures:
                status, _ = server.call("PUT", "/_mock/state", raw=raw)
                figures.update(status=status, request_mb=round(len(raw) / 2**20, 1))
            rss_before = server.rss_mb()
            with measured(probe, f"StartTask x{args.starts}, {args.plan} steps") as figures:
                answers: dict[str, int] = {}
                for _ in range(args.starts):
                    status, body = server.rpc("StartTask", {"id": last})
                    code = "ok" if status == 200 else json.loads(body or b"{}").get("code", status)
                    answers[str(code)] = answers.get(str(code), 0) + 1
                figures.update(answers=answers)
                figures.update(rss_mb=f"{rss_before:.0f}->{server.rss_mb():.0f}")
            server.call("POST", "/_mock/clock/advance", {"seconds": 3600})
            with measured(probe, "ListTaskExecutions first page") as figures:
                status, body = server.rpc("ListTaskExecutions", {})
                items = len(json.loads(body).get("taskExecutions", [])) if status == 200 else 0
                figures.update(status=status, items=items, mb=round(len(body) / 2**20, 2))
            with measured(probe, "GET /_mock/overview") as figures:
                status, body = server.call("GET", "/_mock/overview")
                figures.update(status=status, mb=round(len(body) / 2**20, 2))
            scenario = {"rules": [{"logs": [f"line {i} " + "x" * 40 for i in range(1000)]}]}
            server.call("PUT", "/_mock/scenario", scenario)
            with measured(probe, "StartTask of it, 1,000 lines a step") as figures:
                status, body = server.rpc("StartTask", {"id": last})
                figures.update(status=status)
            status, body = server.rpc("StartTask", {"id": tasks[19]["id"]})
            execution = json.loads(body).get("taskExecution", {}).get("id") if status == 200 else ""
            server.call("POST", "/_mock/clock/advance", {"seconds": 10**6})
            with measured(probe, "GET /_mock/logs, 20 steps") as figures:
                if execution:
                    status, body = server.call("GET", f"/_mock/logs/{execution}")
                    figures.update(status=status, mb=round(len(body) / 2**20, 2))
                else:
                    figures.update(start=f"StartTask answered {status}")
                figures.update(rss_mb=round(server.rss_mb()))
        finally:
            probe.close()
            server.stop()
        restarted = Server(["--state", str(state), *args.fake_args], workdir)
        print(f"{'restart with the chain':34} seconds_to_first_answer={restarted.started:.2f}")
        restarted.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
