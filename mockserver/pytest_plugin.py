"""The pytest plugin (entry point ``ona_mockserver``): a shared fake, a tenant per test.

Installing the package is enough::

    def test_build_fails(mockserver):
        mockserver.set_scenario("rules: [{outcome: fail}]")
        task = mockserver.call("CreateTask", {...})["task"]
        ...
        mockserver.advance(10)

- ``mockserver_url`` (session): the URL of one fake for the whole run. ``--mockserver-url``
  names a running one; otherwise the plugin starts one on a manual clock (in process, or
  under pytest-xdist one process that every worker shares) and stops it at the end.
- ``mockserver`` (function): a :class:`~mockserver.testing.MockClient` for a fresh tenant
  (a new bearer token), so tests never see each other's data, scenario, faults or clock,
  and need no reset. ``mockserver.sdk()`` is a ready official-SDK client.
- A failing test that used ``mockserver`` gets a report section, "mockserver journal":
  its tenant's calls, one line each, newest last.
- ``@pytest.mark.mockserver(scenario=..., faults=[...], seed=N)``, or the same keywords as
  ``request.param`` (``@pytest.mark.parametrize("mockserver", [{...}], indirect=True)``),
  start the test with that scenario. ``seed=N`` gives the test a token derived from ``N``
  and the test's id, so on the plugin's seeded server its ids repeat on every run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.journal_text import journal_text
from mockserver.testing import MockClient, MockServer

__all__ = ["mockserver", "mockserver_url"]

_RENDEZVOUS = "ona-mockserver"
_BANNER = "mockserver listening on "
_START_TIMEOUT = 30.0
_OPTIONS = ("scenario", "faults", "seed")
_CLIENT = pytest.StashKey[MockClient]()  # the test's tenant, for the report on failure


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ona-mockserver", "Ona task API fake (mockserver)")
    group.addoption(
        "--mockserver-url",
        metavar="URL",
        help="use this running fake instead of starting one",
    )
    group.addoption(
        "--mockserver-seed",
        type=int,
        default=0,
        metavar="N",
        help="--seed of the fake the plugin starts (default: %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockserver(scenario=None, faults=None, seed=None): start the test's mockserver "
        "tenant with this scenario (YAML or dict), these faults, a seeded token",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """A ``--mockserver-url`` nobody answers at stops the run with one line, instead of
    an httpx traceback under every test (checked once, by the controller under xdist)."""
    config = session.config
    given = config.getoption("--mockserver-url")
    if given and not hasattr(config, "workerinput"):
        url = given.rstrip("/")
        problem = _unreachable(url)
        if problem is not None:
            raise pytest.UsageError(f"--mockserver-url {url}: {problem}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller (or a run without xdist) stops a server the workers shared."""
    if hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no":
        return
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return
    with contextlib.suppress(OSError, ValueError):
        info = json.loads((factory.getbasetemp() / _RENDEZVOUS / "server.json").read_text())
        os.kill(int(info["pid"]), signal.SIGTERM)


@pytest.fixture(scope="session")
def mockserver_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of the fake every test of the run shares."""
    given = request.config.getoption("--mockserver-url")
    seed: int = request.config.getoption("--mockserver-seed")
    if given:
        yield given.rstrip("/")
    elif hasattr(request.config, "workerinput"):
        # xdist: worker basetemps are <run basetemp>/popen-gwN, so their parent is shared.
        yield _shared_server(tmp_path_factory.getbasetemp().parent / _RENDEZVOUS, seed)
    else:
        with MockServer(clock="manual", seed=seed) as server:
            yield server.url


@pytest.fixture
def mockserver(mockserver_url: str, request: pytest.FixtureRequest) -> Iterator[MockClient]:
    """A client of the shared fake for a tenant of this test's own."""
    options = _options(request)
    seed = options.get("seed")
    if seed is None:
        token = f"pytest-{uuid.uuid4().hex}"
    else:
        digest = hashlib.sha256(f"{seed}/{request.node.nodeid}".encode()).hexdigest()[:24]
        token = f"pytest-{seed}-{digest}"
    client = MockClient(mockserver_url, token)
    request.node.stash[_CLIENT] = client
    try:
        if seed is not None:
            client.reset()  # a rerun of the same test starts from nothing again
        if options.get("scenario") is not None:
            client.set_scenario(options["scenario"])
        if options.get("faults") is not None:
            client.faults(*options["faults"])
        yield client
        # Free the tenant's memory on a long-lived shared server.
        with contextlib.suppress(httpx.HTTPError):
            client.reset()
    finally:
        client.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report carries its tenant's journal (read before the fixture's
    teardown resets the tenant)."""
    report = yield
    client = item.stash.get(_CLIENT, None)
    if client is not None and report.failed and report.when == "call":
        try:
            text = journal_text(client.journal())
        except httpx.HTTPError as error:
            text = f"(could not read the journal: {error})"
        report.sections.append((f"mockserver journal (token {client.token})", text))
    return report


def _unreachable(url: str) -> str | None:
    """Why a fake at ``url`` cannot be used, or ``None`` when it answers."""
    try:
        response = httpx.get(f"{url}/_mock/health", timeout=5)
    except httpx.HTTPError as error:
        return f"no mockserver answers there ({type(error).__name__}: {error})"
    if response.status_code != 200:
        return f"GET /_mock/health answered HTTP {response.status_code}: is this a mockserver?"
    return None


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mockserver"))):
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, Mapping):
        options.update(param)
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise pytest.UsageError(
            f"mockserver: unknown option(s) {sorted(unknown)}; expected {list(_OPTIONS)}"
        )
    return options


def _shared_server(root: Path, seed: int) -> str:
    """The URL of the run's one fake process, started by whichever worker comes first."""
    root.mkdir(parents=True, exist_ok=True)
    info_path = root / "server.json"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if info_path.exists():
                url: str = json.loads(info_path.read_text())["url"]
                if _healthy(url):
                    return url
            url, pid = _start_process(root, seed)
            info_path.write_text(json.dumps({"url": url, "pid": pid}))
            return url
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _start_process(root: Path, seed: int) -> tuple[str, int]:
    out = root / "server.out"
    with out.open("w") as stdout, (root / "server.err").open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockserver",
                "--port",
                "0",
                "--clock",
                "manual",
                "--seed",
                str(seed),
                "--no-request-log",
                "--log-level",
                "warning",
            ],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a worker's Ctrl-C must not stop the others' server
        )
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if line.startswith(_BANNER):
                return line[len(_BANNER) :].strip(), process.pid
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"the shared mockserver did not start: {(root / 'server.err').read_text()}")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_mock/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
