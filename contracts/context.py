"""What every suite of one run shares: config, document, client, findings, run identity."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from contracts.checks import Check, answered
from contracts.config import SuiteConfig
from contracts.document import Document
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed, Failure, Findings
from contracts.invariants import ExecutionLedger
from contracts.realistic import Shaper
from contracts.saved_requests import saved_example

__all__ = ["BudgetSpent", "Progress", "RunContext", "SliceSpent", "Unit"]

Progress = Callable[[str], None]


class BudgetSpent(BaseException):
    """The campaign's ``--duration`` is over, or ``--fail-fast`` met a failure: stop now.

    A BaseException, like KeyboardInterrupt, so that Hypothesis does not take it for a
    failure of the test (it neither shrinks nor reports it) and it leaves the suite.
    """


class SliceSpent(BudgetSpent):
    """A suite's share of a campaign round is used up: on to the next suite."""


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
    round: int = 0  # a campaign's round (0 in a bounded run)
    # A campaign's end (time.monotonic()), and the flag --fail-fast raises.
    deadline: float | None = None
    slice_end: float | None = None  # the running suite's share of the round ends here
    slice_floor: tuple[str, int] = ("", 0)  # the running suite, and its cases before it
    stopped: threading.Event = field(default_factory=threading.Event, repr=False)
    # Checks every answer gets on top of the suite's own (--max-response-time).
    extra_checks: tuple[Check, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Shapes positive bodies so they reach the logic; counts their 2xx answers per method.
    shaper: Shaper = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.shaper = Shaper(self.document, self.seed, self.run_id)

    def stop_if_interrupted(self) -> None:
        """Leave the suite on Ctrl-C (KeyboardInterrupt) or at the campaign's end."""
        if self.interrupted.is_set():
            raise KeyboardInterrupt
        if self.out_of_time():
            self.stopped.set()
        if self.stopped.is_set():
            raise BudgetSpent
        if self.slice_end is not None and time.monotonic() >= self.slice_end:
            suite, before = self.slice_floor
            # A share never ends before the suite's first case: setting up a suite (its
            # strategies, on a busy machine) must not take a whole share of its own.
            if self.findings.cases.get(suite, 0) > before:
                raise SliceSpent

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def check(self, suite: str, exchange: Exchange, checks: Iterable[Check]) -> list[str]:
        """Run ``checks`` on ``exchange``, record what fails, return the failing names.

        An answer that stayed 429 or 503 through every retry says the server was over a
        limit or down, nothing about the contract: it is counted apart and not checked.
        """
        if exchange.transient:
            self.findings.count_transient(exchange.operation)
            return []
        # No answer (time-out, dropped, not HTTP): the one thing to say about it.
        checks = (answered,) if exchange.transport is not None else (*checks, *self.extra_checks)
        failed: list[str] = []
        for check in checks:
            try:
                check(exchange, self.document)
            except CheckFailed as problem:
                failed.append(problem.check)
                self.fail(
                    suite,
                    exchange.operation,
                    problem,
                    exchange.curl,
                    exchange.dialect.name,
                    exchange=exchange,
                )
        return failed

    def fail(
        self,
        suite: str,
        operation: str,
        problem: CheckFailed,
        curl: str,
        dialect: str = "json",
        exchange: Exchange | None = None,
    ) -> None:
        """Record a failure; with the ``exchange`` that showed it, its outcome and request."""
        self.findings.add(
            Failure(
                suite,
                operation,
                problem.check,
                problem.received,
                problem.expected,
                curl,
                dialect=dialect,
                outcome=exchange.outcome if exchange is not None else "",
                example=(
                    saved_example(exchange, self.client.base_url) if exchange is not None else None
                ),
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
