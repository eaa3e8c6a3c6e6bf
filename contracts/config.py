"""How a contract run is configured: one frozen value, built by the CLI or the pytest plugin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urlsplit

from contracts.dialects import DIALECTS

__all__ = [
    "CAMPAIGN_ROUND_EXAMPLES",
    "DEFAULT_MAX_EXAMPLES",
    "HUNTS",
    "READ_ONLY_SUITES",
    "SUITES",
    "SuiteConfig",
    "version",
]

SUITES: tuple[str, ...] = ("positive", "negative", "auth", "stateful", "lifecycle", "callers")
# The stateful suite follows links from CreateTask, so it cannot run read-only.
READ_ONLY_SUITES: tuple[str, ...] = ("positive", "negative", "auth", "lifecycle", "callers")
DEFAULT_MAX_EXAMPLES = 100
_DISTRIBUTION = "ona-automation-fake"  # the package that ships the suite (pyproject.toml)
# Under --duration each round gives every suite and operation at most this many cases,
# so that a short budget still reaches every operation before it starts again.
CAMPAIGN_ROUND_EXAMPLES = 20
# What --hunt can steer generation towards (hypothesis.target).
HUNTS: tuple[str, ...] = ("slow",)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def version() -> str:
    """The installed version of the suite, or "unknown" when run from a bare source tree."""
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class SuiteConfig:
    """Everything a run needs to know about the implementation under test.

    ``token``: sent as ``Authorization: Bearer``; None makes up a random one per run (a
    server that partitions state by token then isolates the run). ``seed``: None picks one,
    which the report prints so the run can be repeated. ``schema``: a path or URL of the
    OpenAPI document, else the one committed with the ``openapi`` package.

    Against a real deployment: ``environment_ids`` are the environments tasks are created
    in (else random ids, right for a fake that accepts any); ``keep`` leaves what the run
    created instead of cleaning it up; ``read_only`` calls only the methods without side
    effects; ``rate_limit`` caps requests per second; ``retries`` is how often a transient
    ``resource_exhausted`` (429) or ``unavailable`` (503) is retried before the call counts
    as failing transiently. ``operations``, when given, narrows the generated suites
    (positive, negative, auth) to these operation ids, so a campaign can be split into
    one job per operation (the pytest plugin does, for pytest-xdist). ``dialects``: the
    families of :mod:`contracts.dialects` each case draws one from (default all).

    ``second_token``: a second caller, with no access to what the run creates; only with
    it does the ``callers`` suite check object-level authorization (the suite never
    guesses a second principal).

    A campaign: ``duration`` (seconds), when given, repeats rounds of every suite with
    fresh seeds until it is spent (each round at most ``CAMPAIGN_ROUND_EXAMPLES`` cases per
    operation, fewer if ``max_examples`` says so); ``fail_fast`` stops at the first failure;
    ``max_response_time`` (milliseconds) makes a slower answer a ``response_time``
    failure; ``hunt`` (``("slow",)``) steers generation towards slow and large answers;
    ``database`` is a directory that keeps failing examples and the last report between
    campaigns (None: nothing is kept).
    """

    base_url: str
    token: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    workers: int = 1
    only: tuple[str, ...] = SUITES
    lifecycle_timeout: float = 30.0
    schema: str | None = None
    request_timeout: float = 30.0
    environment_ids: tuple[str, ...] = ()
    keep: bool = False
    read_only: bool = False
    rate_limit: float | None = None
    retries: int = 5
    operations: tuple[str, ...] = ()
    second_token: str | None = None
    dialects: tuple[str, ...] = DIALECTS
    duration: float | None = None
    fail_fast: bool = False
    max_response_time: float | None = None
    hunt: tuple[str, ...] = ()
    database: str | None = None

    def __post_init__(self) -> None:
        unknown = [suite for suite in self.only if suite not in SUITES]
        if unknown:
            raise ValueError(f"unknown suite(s) {', '.join(unknown)}; choose from {SUITES}")
        strange = [name for name in self.dialects if name not in DIALECTS]
        if strange or not self.dialects:
            raise ValueError(
                f"unknown dialect(s) {', '.join(strange) or '(none)'}; choose from "
                f"{','.join(DIALECTS)}"
            )
        if self.max_examples < 1:
            raise ValueError("max_examples must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base URL {self.base_url!r} is not an http(s) URL with a host, "
                "e.g. http://127.0.0.1:8080"
            )
        bad = [env for env in self.environment_ids if not _UUID.match(env)]
        if bad:
            raise ValueError(f"environment id(s) {', '.join(map(repr, bad))} are not UUIDs")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ValueError("rate_limit must be a positive number of requests per second")
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if self.second_token is not None and not self.second_token.strip():
            raise ValueError("the second token is empty")
        if self.second_token is not None and self.second_token == self.token:
            raise ValueError("the second token must name another caller than --token")
        if self.duration is not None and not self.duration > 0:
            raise ValueError("duration must be a positive number of seconds")
        if self.max_response_time is not None and not self.max_response_time > 0:
            raise ValueError("max_response_time must be a positive number of milliseconds")
        odd = [name for name in self.hunt if name not in HUNTS]
        if odd:
            raise ValueError(f"unknown hunt(s) {', '.join(odd)}; choose from {','.join(HUNTS)}")
        if self.read_only and "stateful" in self.only and self.only != SUITES:
            raise ValueError("the stateful suite creates tasks; it cannot run read-only")

    @property
    def suites(self) -> tuple[str, ...]:
        """The suites this run executes: ``only``, less those a read-only run cannot do."""
        if self.read_only:
            return tuple(suite for suite in self.only if suite in READ_ONLY_SUITES)
        return self.only

    @property
    def round_examples(self) -> int:
        """Cases per operation and suite in one pass (a campaign's round is shorter)."""
        if self.duration is None:
            return self.max_examples
        return min(self.max_examples, CAMPAIGN_ROUND_EXAMPLES)
