"""Throughput and latency of the fake, next to a bare Starlette endpoint and Prism.

Starts each server as a subprocess on a free port of 127.0.0.1, drives it with ``wrk`` at
a fixed number of connections for a fixed time, and prints requests/s, p50 and p99 per
target and method (JSON, and binary ``application/proto`` as the official SDK sends it),
with the ratios fake/bare, fake/prism and proto/json. The scenarios run in interleaved rounds (bare,
fake, Prism, then again); the best round of each is reported, with the median beside it,
since load from elsewhere on a shared machine only ever slows a run down. See ``bench/README.md``.

    python bench/run.py             # 10 s per scenario, 3 rounds
    python bench/run.py --quick     # 3 s per scenario, 1 round

Exit status: 0 when every target that could be started was measured (a missing Prism is
reported, not an error); 1 on a setup error (no wrk, a server that does not start, a
seeding or probe request that fails, a load run that breaks or sees error responses from
the fake or the bare app); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DOCUMENT = ROOT / "openapi" / "openapi.yaml"
PRISM_LOCAL = BENCH / ".prism" / "node_modules" / ".bin" / "prism"
SERVICE = "/gitpod.v1.EnvironmentAutomationService"
HOST = "127.0.0.1"

ENVIRONMENT_ID = "07e03a28-65a5-4d98-b532-8ea67b188048"
READ_TOKEN = "bench-read"  # tenant seeded with the tasks GetTask and ListTasks read
WRITE_TOKEN = "bench-write"  # tenant CreateTask writes into, so reads see a fixed store
JSON = "application/json"
PROTO = "application/proto"
PRISM_TASK_ID = "d2c94c27-3b76-4a42-b88c-95a85e392c68"
SEED_BODY_LIMIT = 64 * 1024 * 1024  # --max-body-bytes for the one big state import
START_TIMEOUT = 60.0
BENCH_MAX_OBJECTS = 100_000_000
SERVER_CPU = 0
CLIENT_CPU = 1


class SetupError(Exception):
    """The benchmark cannot produce figures: a server, a seed or a load run failed."""


class StartError(SetupError):
    """A server did not start (for Prism: a finding, such as a rejected document)."""


# -- results ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Result:
    target: str
    method: str
    requests: int
    seconds: float
    errors: int  # non-2xx/3xx responses plus socket errors and timeouts
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


# CreateTask needs a new metadata.reference per request. The body is built once with this
# placeholder and the load generator writes a reference of the same length over it, so a
# binary body's length prefixes stay right: "<12 hex of the run>-<12-digit counter>".
REFERENCE_LENGTH = 25
PLACEHOLDER = b"R" * REFERENCE_LENGTH


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One method of one target: what to POST, with a unique reference if ``unique``."""

    method: str
    path: str
    token: str | None
    body: bytes
    content_type: str = JSON
    unique_reference: bool = False  # CreateTask: metadata.reference must be new each time

    def body_for(self, prefix: str, counter: int) -> bytes:
        if not self.unique_reference:
            return self.body
        return self.body.replace(PLACEHOLDER, reference(prefix, counter))


def reference(prefix: str, counter: int) -> bytes:
    """A CreateTask reference of exactly REFERENCE_LENGTH bytes (``prefix``: 12 hex)."""
    return f"{prefix}-{counter:012d}".encode()


def create_task_request(reference_text: str) -> dict[str, Any]:
    return {
        "environmentId": ENVIRONMENT_ID,
        "metadata": {"name": "bench task", "reference": reference_text},
        "spec": {"command": "make build"},
    }


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _proto_bytes(method: str, data: Any) -> bytes:
    """``data`` (proto3 JSON) as the official request message of ``method``, serialized."""
    from openapi.dialects import to_binary
    from openapi.methods import METHODS_BY_NAME

    return to_binary(METHODS_BY_NAME[method].request, data)


def rpc_scenarios(
    get_id: str, token: str | None, write_token: str | None, *, proto: bool
) -> list[Scenario]:
    """GetTask, CreateTask and ListTasks in JSON, and with ``proto`` in binary as well."""
    requests = [
        ("GetTask", {"id": get_id}, token, False),
        ("CreateTask", create_task_request(PLACEHOLDER.decode()), write_token, True),
        ("ListTasks", {"pagination": {"pageSize": 25}}, token, False),
    ]
    scenarios = []
    for codec in (JSON, PROTO) if proto else (JSON,):
        for method, data, method_token, unique in requests:
            body = _json_bytes(data) if codec == JSON else _proto_bytes(method, data)
            label = method if codec == JSON else f"{method} (proto)"
            path = f"{SERVICE}/{method}"
            scenarios.append(Scenario(label, path, method_token, body, codec, unique))
    return scenarios


# -- small helpers ------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(command: list[str], cpu: int, pin: bool) -> list[str]:
    if pin:
        return ["taskset", "-c", str(cpu), *command]
    return command


def can_pin() -> bool:
    """taskset exists and this process may use CPUs 0 and 1."""
    if shutil.which("taskset") is None or not hasattr(os, "sched_getaffinity"):
        return False
    return {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0)


def http(
    url: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    token: str | None = None,
    content_type: str = JSON,
    timeout: float = 120.0,
) -> tuple[int, bytes]:
    """One request with urllib (setup and probes only, never load)."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def post_json(url: str, data: Any, token: str | None) -> Any:
    status, body = http(url, body=json.dumps(data).encode(), token=token)
    if status != 200:
        raise SetupError(f"POST {url}: HTTP {status}: {body[:300]!r}")
    return json.loads(body)


# -- servers ------------------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def _wait_for_line(process: subprocess.Popen[bytes], log_path: Path, pattern: str) -> str:
    """The first match of ``pattern`` in the server's output, once it is printed."""
    deadline = time.monotonic() + START_TIMEOUT
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        match = regex.search(text)
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise SetupError(f"exited with status {process.returncode}:\n{text[-2000:]}")
        time.sleep(0.05)
    raise SetupError(f"did not print {pattern!r} within {START_TIMEOUT:.0f} s")


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log_path.read_text(encoding="utf-8", errors="replace")
            raise SetupError(f"exited with status {process.returncode}:\n{text[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise SetupError(f"did not listen on port {port} within {START_TIMEOUT:.0f} s")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def started(
    name: str,
    command: list[str],
    workdir: Path,
    *,
    url_pattern: str | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """Run ``command`` until the block ends; its URL from its output or from ``port``."""
    log_path = workdir / f"{name}.log"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    server: Server | None = None
    try:
        try:
            if url_pattern is not None:
                url = _wait_for_line(process, log_path, url_pattern)
            else:
                assert port is not None
                _wait_for_port(process, log_path, port)
                url = f"http://{HOST}:{port}"
        except SetupError as error:
            raise StartError(f"{name}: {error}") from None
        server = Server(name, url, process, log_path)
        yield server
    finally:
        stop(server or Server(name, "", process, log_path))


# -- seeding ------------------------------------------------------------------------------


def seed_tasks(url: str, count: int, token: str = READ_TOKEN) -> str:
    """Make ``count`` tasks the whole of ``token``'s tenant, through one ``PUT /_mock/state``
    (which replaces what the tenant held); a task id.

    One task is created over the API to learn the tenant's key and the creator the fake
    records; the rest are copies of it with fresh ids and references, imported at once.
    """
    created = post_json(f"{url}{SERVICE}/CreateTask", create_task_request("seed"), token)
    status, raw = http(f"{url}/_mock/state", method="GET", token=token)
    if status != 200:
        raise SetupError(f"GET /_mock/state: HTTP {status}: {raw[:300]!r}")
    export = json.loads(raw)
    (tenant,) = export["tenants"]
    template = created["task"]
    tasks = []
    for i in range(count):
        task = json.loads(json.dumps(template))
        task["id"] = str(uuid.UUID(int=i + 1, version=4))
        task["metadata"]["reference"] = f"seed-{i:05d}"
        task["metadata"]["name"] = f"Seeded task {i}"
        tasks.append(task)
    document = {
        "version": export["version"],
        "clock": export["clock"],
        "tenants": {tenant: {"tasks": tasks, "executions": []}},
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    status, raw = http(f"{url}/_mock/state", method="PUT", body=body, token=token)
    if status != 200:
        raise SetupError(f"PUT /_mock/state ({len(body)} bytes): HTTP {status}: {raw[:300]!r}")
    page = post_json(f"{url}{SERVICE}/ListTasks", {"pagination": {"pageSize": 25}}, token)
    if len(page.get("tasks", [])) != 25 or not page.get("pagination", {}).get("nextToken"):
        raise SetupError(f"seeding: the first ListTasks page is not a full page: {page!r:.300}")
    got = post_json(f"{url}{SERVICE}/GetTask", {"id": tasks[count // 2]["id"]}, token)
    task_id: str = got["task"]["id"]
    return task_id


# -- load generators ----------------------------------------------------------------------

WRK_SCRIPT = r"""
local path = "@PATH@"
local head = @HEAD@
local tail = @TAIL@
local prefix = "@PREFIX@"
local unique = @UNIQUE@
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "@CONTENT_TYPE@"
@AUTH@

function init(args)
  if not unique then
    request_bytes = wrk.format("POST", path, nil, head)
  end
end

function request()
  if not unique then
    return request_bytes
  end
  counter = counter + 1
  local ref = prefix .. "-" .. string.format("%012d", counter)
  return wrk.format("POST", path, nil, head .. ref .. tail)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %d\n",
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_bytes(data: bytes) -> str:
    """A Lua string literal holding ``data`` exactly (binary bodies included)."""
    return '"' + "".join(f"\\{byte:03d}" for byte in data) + '"'


def wrk_script(scenario: Scenario, prefix: str) -> str:
    """The Lua script for one run; ``prefix`` is 12 characters, so references keep the
    placeholder's length (wrk runs one thread, so one counter makes them unique)."""
    auth = ""
    if scenario.token is not None:
        auth = f'wrk.headers["Authorization"] = "Bearer {scenario.token}"'
    head, _, tail = scenario.body.partition(PLACEHOLDER)
    if not scenario.unique_reference:
        head, tail = scenario.body, b""
    return (
        WRK_SCRIPT.replace("@PATH@", scenario.path)
        .replace("@HEAD@", lua_bytes(head))
        .replace("@TAIL@", lua_bytes(tail))
        .replace("@PREFIX@", prefix)
        .replace("@UNIQUE@", "true" if scenario.unique_reference else "false")
        .replace("@CONTENT_TYPE@", scenario.content_type)
        .replace("@AUTH@", auth)
    )


def run_wrk(
    url: str,
    scenario: Scenario,
    *,
    connections: int,
    seconds: float,
    pin: bool,
    workdir: Path,
    target: str,
) -> Result:
    prefix = uuid.uuid4().hex[:12]
    label = re.sub(r"[^A-Za-z0-9]+", "_", scenario.method)
    script = workdir / f"{target}-{label}-{prefix}.lua"
    script.write_text(wrk_script(scenario, prefix), encoding="utf-8")
    command = pinned(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            f"{url}{scenario.path}",
        ],
        CLIENT_CPU,
        pin,
    )
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"BENCH-RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", completed.stdout)
    if completed.returncode != 0 or match is None:
        raise SetupError(
            f"wrk against {target} {scenario.method} failed (status {completed.returncode}):\n"
            f"{completed.stdout[-1500:]}{completed.stderr[-1500:]}"
        )
    requests, duration_us, errors, p50_us, p99_us = (int(g) for g in match.groups())
    return Result(
        target,
        scenario.method,
        requests,
        duration_us / 1e6,
        errors,
        p50_us / 1000,
        p99_us / 1000,
    )


# -- the run ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    seconds: float
    warmup: float
    connections: int
    tasks: int
    repeat: int
    proto: bool
    pin: bool
    workdir: Path


@dataclasses.dataclass(frozen=True)
class Job:
    """One scenario against one running server; ``prepare``, if any, runs before each of
    its loads (warm-up included)."""

    target: str
    url: str
    scenario: Scenario
    prepare: Callable[[], object] | None = None


@dataclasses.dataclass(frozen=True)
class Summary:
    """The runs of one job over the rounds: medians (over rounds) are the figures, since
    on a shared machine one round can be slowed by others; the best round is shown too."""

    target: str
    method: str
    runs: tuple[Result, ...]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def rps_best(self) -> float:
        return max(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


def load(settings: Settings, job: Job, seconds: float) -> Result:
    if job.prepare is not None:
        job.prepare()
    return run_wrk(
        job.url,
        job.scenario,
        connections=settings.connections,
        seconds=seconds,
        pin=settings.pin,
        workdir=settings.workdir,
        target=job.target,
    )


def probe(url: str, scenario: Scenario, target: str) -> None:
    """One request before the load: it must succeed, or the figures mean nothing."""
    body = scenario.body_for(uuid.uuid4().hex[:12], 0)
    status, raw = http(
        f"{url}{scenario.path}", body=body, token=scenario.token, content_type=scenario.content_type
    )
    if status != 200:
        raise SetupError(f"{target} {scenario.method}: probe got HTTP {status}: {raw[:500]!r}")


def start_bare(stack: contextlib.ExitStack, settings: Settings) -> list[Job]:
    log("bare: starting bench/bare_app.py")
    command = pinned(
        [sys.executable, str(BENCH / "bare_app.py"), "--host", HOST, "--port", "0"],
        SERVER_CPU,
        settings.pin,
    )
    server = stack.enter_context(
        started("bare", command, settings.workdir, url_pattern=r"bare app listening on (\S+)")
    )
    scenario = Scenario("POST /bench", "/bench", None, _json_bytes({"id": PRISM_TASK_ID}))
    probe(server.url, scenario, "bare")
    return [Job("bare", server.url, scenario)]


def start_fake(
    stack: contextlib.ExitStack, settings: Settings, *, durable: bool = False
) -> list[Job]:
    """The fake; ``durable``: with ``--state`` (an SQLite file), measuring CreateTask only,
    the one write of the three methods, to show what committing each write costs."""
    target = "fake+state" if durable else "fake"
    log(f"{target}: starting python -m mockserver")
    arguments = [
        sys.executable,
        "-m",
        "mockserver",
        "--host",
        HOST,
        "--port",
        "0",
        "--clock",
        "manual",
        "--max-body-bytes",
        str(SEED_BODY_LIMIT),
        # CreateTask at full speed for minutes passes the default 100,000 tasks per tenant.
        "--max-tasks",
        str(BENCH_MAX_OBJECTS),
        "--max-objects",
        str(BENCH_MAX_OBJECTS),
    ]
    if durable:
        arguments += ["--state", str(settings.workdir / "state.db")]
    command = pinned(arguments, SERVER_CPU, settings.pin)
    server = stack.enter_context(
        started(target, command, settings.workdir, url_pattern=r"mockserver listening on (\S+)")
    )
    begin = time.perf_counter()
    task_id = seed_tasks(server.url, settings.tasks)
    log(f"{target}: seeded {settings.tasks} tasks in {time.perf_counter() - begin:.1f} s")
    jobs = []
    for scenario in rpc_scenarios(task_id, READ_TOKEN, WRITE_TOKEN, proto=settings.proto):
        if durable and scenario.method != "CreateTask":
            continue
        probe(server.url, scenario, target)
        # Every CreateTask load starts from the same tenant of --tasks tasks: otherwise
        # each load would write into the tasks of all loads before it (some 200,000 by the
        # last round), and the later rounds and the binary scenario, which runs after the
        # JSON one, would measure a larger store than the first.
        prepare = (
            functools.partial(seed_tasks, server.url, settings.tasks, WRITE_TOKEN)
            if scenario.unique_reference
            else None
        )
        jobs.append(Job(target, server.url, scenario, prepare))
    return jobs


def start_proxy(stack: contextlib.ExitStack, settings: Settings, fake: list[Job]) -> list[Job]:
    """The validating proxy (``python -m contracts proxy``) in front of the fake of this
    run, for the same scenarios: what judging every exchange adds to a call. It runs on
    the server's CPU beside the fake, as it would beside a deployment it guards."""
    if not fake:
        raise SetupError("proxy: the proxy target measures the fake's scenarios; add fake")
    log("proxy: starting python -m contracts proxy in front of the fake")
    command = pinned(
        [
            sys.executable, "-m", "contracts", "proxy", "--upstream", fake[0].url,
            "--host", HOST, "--port", "0",
        ],
        SERVER_CPU,
        settings.pin,
    )  # fmt: skip
    server = stack.enter_context(
        started(
            "proxy", command, settings.workdir, url_pattern=r"contracts proxy listening on (\S+)"
        )
    )
    jobs = []
    for job in fake:
        probe(server.url, job.scenario, "proxy")
        jobs.append(Job("proxy", server.url, job.scenario, job.prepare))
    return jobs


def proxy_violations(url: str) -> int:
    """How many violations the proxy reported over the run (the fake conforms: 0)."""
    status, raw = http(f"{url}/_contracts/violations", method="GET")
    if status != 200:
        raise SetupError(f"proxy: GET /_contracts/violations got HTTP {status}")
    return len(json.loads(raw)["violations"])


def proxy_costs(summaries: Sequence[Summary]) -> list[str]:
    """Per method: the latency the proxy adds (p50, p99) and its req/s beside direct."""
    direct = {s.method: s for s in summaries if s.target == "fake"}
    lines = []
    for s in summaries:
        fake = direct.get(s.method)
        if s.target != "proxy" or fake is None or fake.rps <= 0:
            continue
        lines.append(
            f"proxy {s.method}: {s.p50_ms - fake.p50_ms:+.2f} ms p50,"
            f" {s.p99_ms - fake.p99_ms:+.2f} ms p99; {s.rps:,.0f} req/s through it,"
            f" {fake.rps:,.0f} direct ({s.rps / fake.rps:.2f}x)"
        )
    return lines


def find_prism() -> str | None:
    if PRISM_LOCAL.exists():
        return str(PRISM_LOCAL)
    return shutil.which("prism")


def prism_version(prism: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([prism, "--version"], capture_output=True, text=True, timeout=60)
        return out.stdout.strip()
    return "?"


def start_prism(
    stack: contextlib.ExitStack, settings: Settings, prism: str, notes: list[str]
) -> list[Job]:
    """Prism's jobs; none, with the reason in ``notes``, when it cannot serve the document.

    ``-v error`` keeps Prism from logging every request (the fake and the bare app do not
    log requests either); request validation is on regardless of the log level.
    """
    log(f"prism: starting {prism} mock {DOCUMENT.relative_to(ROOT)}")
    port = free_port()
    command = pinned(
        [prism, "mock", str(DOCUMENT), "-p", str(port), "-h", HOST, "-v", "error"],
        SERVER_CPU,
        settings.pin,
    )
    try:
        server = stack.enter_context(started("prism", command, settings.workdir, port=port))
    except StartError as error:
        notes.append(f"prism: did not start: {error}")
        return []
    jobs = []
    # JSON only: Prism serves the document, which describes no binary encoding.
    for scenario in rpc_scenarios(PRISM_TASK_ID, READ_TOKEN, READ_TOKEN, proto=False):
        try:
            probe(server.url, scenario, "prism")
        except SetupError as error:
            notes.append(f"prism: {scenario.method} skipped: {error}")
            continue
        jobs.append(Job("prism", server.url, scenario))
    return jobs


# -- report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu_model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": nproc or str(os.cpu_count()),
        "cpu": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def package_versions() -> str:
    from importlib import metadata

    parts = []
    for name in ("uvicorn", "starlette", "uvloop", "httptools"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} -")
    return ", ".join(parts)


def _ratio(a: Summary | None, b: Summary | None) -> str:
    if a is None or b is None or b.rps <= 0:
        return "-"
    return f"{a.rps / b.rps:.2f}"


def _json_twin(method: str) -> str:
    return method.removesuffix(" (proto)")


def table(summaries: Sequence[Summary]) -> str:
    bare = next((s for s in summaries if s.target == "bare"), None)
    prism = {s.method: s for s in summaries if s.target == "prism"}
    fake_json = {s.method: s for s in summaries if s.target == "fake"}
    rows = [
        "| target | method | req/s (median) | best round | p50 (ms) | p99 (ms) | errors"
        " | fake/bare | fake/prism | proto/json |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        fake = s.target == "fake"
        proto = s.method.endswith("(proto)")
        vs_bare = _ratio(s, bare) if fake else "-"
        vs_prism = _ratio(s, prism.get(_json_twin(s.method))) if fake else "-"
        vs_json = _ratio(s, fake_json.get(_json_twin(s.method))) if fake and proto else "-"
        rows.append(
            f"| {s.target} | {s.method} | {s.rps:,.0f} | {s.rps_best:,.0f}"
            f" | {s.p50_ms:.2f} | {s.p99_ms:.2f} | {s.errors} | {vs_bare} | {vs_prism}"
            f" | {vs_json} |"
        )
    return "\n".join(rows)


def verdicts(summaries: Sequence[Summary]) -> list[str]:
    """The targets of issue 11, on medians: each fake method >= 0.6x bare, >= 3x Prism with
    a lower p99 (Prism's figure for the same method in JSON), binary >= 0.8x JSON."""
    bare = next((s for s in summaries if s.target == "bare"), None)
    prism = {s.method: s for s in summaries if s.target == "prism"}
    fake = [s for s in summaries if s.target == "fake"]
    by_method = {s.method: s for s in fake}
    lines = []

    def line(name: str, pairs: list[tuple[str, float, bool]]) -> None:
        if pairs:
            verdict = "met" if all(ok for _, _, ok in pairs) else "NOT met"
            detail = ", ".join(f"{method} {value:.2f}" for method, value, _ in pairs)
            lines.append(f"{name}: {verdict} ({detail})")

    if bare is not None and bare.rps > 0:
        line(
            "fake >= 0.6x bare",
            [(s.method, s.rps / bare.rps, s.rps >= 0.6 * bare.rps) for s in fake],
        )
    vs_prism = [(s, prism.get(_json_twin(s.method))) for s in fake]
    line(
        "fake >= 3x Prism",
        [(s.method, s.rps / p.rps, s.rps >= 3 * p.rps) for s, p in vs_prism if p and p.rps > 0],
    )
    line(
        "fake p99 / Prism p99 < 1",
        [(s.method, s.p99_ms / p.p99_ms, s.p99_ms < p.p99_ms) for s, p in vs_prism if p],
    )
    twins = [(s, by_method.get(_json_twin(s.method))) for s in fake if s.method.endswith("(proto)")]
    line(
        "proto >= 0.8x JSON",
        [(s.method, s.rps / j.rps, s.rps >= 0.8 * j.rps) for s, j in twins if j and j.rps > 0],
    )
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="requests/s and p50/p99 of the fake, a bare Starlette endpoint and Prism",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="measured time per scenario and round (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 s per scenario, 1 s warm-up, 1 round"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        metavar="SECONDS",
        help="unmeasured load before each scenario's first round (default: 2, 1 with --quick)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="ROUNDS",
        help="rounds over all scenarios, interleaved; the best and the median are reported"
        " (default: 3, 1 with --quick)",
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent connections (default: 32)"
    )
    parser.add_argument(
        "--tasks", type=int, default=10_000, help="tasks seeded for ListTasks (default: 10000)"
    )
    parser.add_argument(
        "--targets",
        default="bare,fake,fake+state,prism,proxy",
        help="comma-separated subset of bare,fake,fake+state,prism,proxy; fake+state is the"
        " fake with --state, measured on CreateTask; proxy is the validating proxy in front"
        " of the fake, on the fake's scenarios (default: %(default)s)",
    )
    parser.add_argument(
        "--no-proto",
        action="store_true",
        help="JSON only: skip the binary (application/proto) scenarios of the fake",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    return parser


def durable_write_cost(summaries: Sequence[Summary]) -> tuple[float, float, float] | None:
    """(req/s with --state, req/s without, µs per write) of CreateTask, medians.

    The fake serves from one thread, so 1 / (req/s) is its time per request; the
    difference is what committing a write adds."""
    rates = {s.target: s.rps for s in summaries if s.method == "CreateTask"}
    durable, plain = rates.get("fake+state"), rates.get("fake")
    if not durable or not plain:
        return None
    return durable, plain, (1 / durable - 1 / plain) * 1e6


def wrk_version() -> str | None:
    """``wrk 4.1.0 ...`` when wrk is installed, else None."""
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return f"wrk {out[1] if len(out) > 1 else '?'}"


def run_rounds(settings: Settings, jobs: Sequence[Job]) -> list[Summary]:
    runs: dict[tuple[str, str], list[Result]] = {}
    for round_no in range(settings.repeat):
        log(f"round {round_no + 1}/{settings.repeat}")
        for job in jobs:
            if round_no == 0 and settings.warmup > 0:
                load(settings, job, settings.warmup)
            result = load(settings, job, settings.seconds)
            log(
                f"  {job.target:<6} {job.scenario.method:<19} {result.rps:9.0f} req/s"
                f"  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                + (f"  ERRORS {result.errors}" if result.errors else "")
            )
            runs.setdefault((job.target, job.scenario.method), []).append(result)
    return [Summary(target, method, tuple(rs)) for (target, method), rs in runs.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else args.duration
    warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    targets = {t.strip() for t in args.targets.split(",") if t.strip()}
    known = {"bare", "fake", "fake+state", "prism", "proxy"}
    if not targets <= known:
        parser.error(f"--targets: unknown {sorted(targets - known)}")
    if seconds < 1 or warmup < 0 or args.connections < 1 or args.tasks < 25 or repeat < 1:
        parser.error("need --duration >= 1, --warmup >= 0, --connections >= 1, --tasks >= 25")

    client = wrk_version()
    if client is None:
        log("wrk is not installed: apt-get update && apt-get install -y wrk (Debian/Ubuntu)")
        return 1
    pin = not args.no_pin and can_pin()
    if not args.no_pin and not pin:
        log("taskset or CPUs 0 and 1 are not available: server and client are not pinned")

    info = machine()
    load_before = os.getloadavg()[0]
    prism = find_prism() if "prism" in targets else None
    notes: list[str] = []
    if "prism" in targets and prism is None:
        notes.append(
            "prism: not installed (npm install --prefix bench/.prism @stoplight/prism-cli); skipped"
        )
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, contextlib.ExitStack() as stack:
        settings = Settings(
            seconds=seconds,
            warmup=warmup,
            connections=args.connections,
            tasks=args.tasks,
            repeat=repeat,
            proto=not args.no_proto,
            pin=pin,
            workdir=Path(tmp),
        )
        try:
            jobs: list[Job] = []
            if "bare" in targets:
                jobs += start_bare(stack, settings)
            fake_jobs: list[Job] = []
            if "fake" in targets or "proxy" in targets:
                fake_jobs = start_fake(stack, settings)
            if "fake" in targets:
                jobs += fake_jobs
            if "fake+state" in targets:
                jobs += start_fake(stack, settings, durable=True)
            if prism is not None:
                jobs += start_prism(stack, settings, prism, notes)
            proxy_jobs = start_proxy(stack, settings, fake_jobs) if "proxy" in targets else []
            jobs += proxy_jobs
            summaries = run_rounds(settings, jobs)
            if proxy_jobs:
                notes.append(f"proxy: {proxy_violations(proxy_jobs[0].url)} violation(s) reported")
        except SetupError as error:
            log(f"setup error: {error}")
            return 1
    load_after = os.getloadavg()[0]

    print()
    print(f"date: {info['date']}")
    print(f"machine: nproc={info['nproc']}, CPU: {info['cpu']}, {info['platform']}")
    print(f"python: {info['python']} ({package_versions()})")
    if prism is not None:
        print(f"prism: {prism_version(prism)}")
    print(
        f"load: {client}, {settings.connections} connections, "
        f"{seconds:g} s per scenario, {repeat} interleaved round(s), medians reported, "
        f"{warmup:g} s warm-up; "
        + (
            f"server on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU} (taskset)"
            if pin
            else "not pinned"
        )
    )
    print(f"ListTasks: first page of 25 out of {settings.tasks} tasks")
    print(f"1-min load average: {load_before:.2f} before, {load_after:.2f} after")
    print()
    print(table(summaries))
    for note in notes:
        print(f"\n{note}")
    print()
    for verdict in verdicts(summaries):
        print(verdict)
    for cost in proxy_costs(summaries):
        print(cost)
    write_cost = durable_write_cost(summaries)
    if write_cost is not None:
        durable_rps, plain_rps, cost_us = write_cost
        cost = (
            f"each acknowledged write costs about {cost_us:.0f} µs more"
            " (committed to SQLite before the response)"
            if cost_us > 0
            else "no cost measurable above this run's noise"
        )
        print(
            f"\n--state: CreateTask at {durable_rps:.0f} req/s with it,"
            f" {plain_rps:.0f} without; {cost}"
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "client": client,
                    "pinned": pin,
                    "seconds": seconds,
                    "rounds": repeat,
                    "connections": settings.connections,
                    "tasks": settings.tasks,
                    "load_average": [load_before, load_after],
                    "results": [
                        {
                            "target": s.target,
                            "method": s.method,
                            "rps_median": s.rps,
                            "rps_best": s.rps_best,
                            "p50_ms": s.p50_ms,
                            "p99_ms": s.p99_ms,
                            "errors": s.errors,
                            "runs": [dataclasses.asdict(r) for r in s.runs],
                        }
                        for s in summaries
                    ],
                    "notes": notes,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    bad = [s for s in summaries if s.errors and s.target in ("fake", "fake+state", "bare", "proxy")]
    if bad:
        log("error responses from " + ", ".join(f"{s.target} {s.method}" for s in bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
