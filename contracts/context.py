"""What every suite of one run shares: config, document, client, findings, run identity."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from contracts.checks import Check
from contracts.config import SuiteConfig
from contracts.document import Document
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed, Failure, Findings
from contracts.invariants import ExecutionLedger
from contracts.realistic import Shaper

__all__ = ["Progress", "RunContext", "Unit"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    """One reported test: an operation of a fuzz suite, or a scenario."""

    suite: str
    name: str
    seconds: float
    requests: int


@dataclass
class RunContext:
    config: SuiteConfig
    document: Document
    client: Client
    findings: Findings
    ledger: ExecutionLedger
    seed: int
    progress: Progress
    # Unique per run, so that runs sharing one server and one token never collide.
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    environment_ids: tuple[str, ...] = field(
        default_factory=lambda: tuple(str(uuid.uuid4()) for _ in range(3))
    )
    units: list[Unit] = field(default_factory=list)
    # The caller named by --second-token, when given (the callers suite needs one).
    second_client: Client | None = None
    # Set on Ctrl-C, so that worker threads stop too (only the main thread sees the signal).
    interrupted: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Shapes positive bodies so they reach the logic; counts their 2xx answers per method.
    shaper: Shaper = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.shaper = Shaper(self.document, self.seed, self.run_id)

    def stop_if_interrupted(self) -> None:
        if self.interrupted.is_set():
            raise KeyboardInterrupt

    def check(self, suite: str, exchange: Exchange, checks: Iterable[Check]) -> list[str]:
        """Run ``checks`` on ``exchange``, record what fails, return the failing names.

        An answer that stayed 429 or 503 through every retry says the server was over a
        limit or down, nothing about the contract: it is counted apart and not checked.
        """
        if exchange.transient:
            self.findings.count_transient(exchange.operation)
            return []
        failed: list[str] = []
        for check in checks:
            try:
                check(exchange, self.document)
            except CheckFailed as problem:
                failed.append(problem.check)
                self.fail(suite, exchange.operation, problem, exchange.curl, exchange.dialect.name)
        return failed

    def fail(
        self, suite: str, operation: str, problem: CheckFailed, curl: str, dialect: str = "json"
    ) -> None:
        self.findings.add(
            Failure(
                suite,
                operation,
                problem.check,
                problem.received,
                problem.expected,
                curl,
                dialect=dialect,
            )
        )

    @contextlib.contextmanager
    def unit(self, suite: str, name: str) -> Iterator[None]:
        """Time one reported test; count the requests sent meanwhile (roughly, in parallel)."""
        started = time.monotonic()
        before = self.findings.requests
        try:
            yield
        finally:
            unit = Unit(suite, name, time.monotonic() - started, self.findings.requests - before)
            with self._lock:
                self.units.append(unit)
