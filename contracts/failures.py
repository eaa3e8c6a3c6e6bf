"""What a check reports when an implementation breaks the contract."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

__all__ = ["CheckFailed", "Failure", "Findings"]


class CheckFailed(Exception):
    """Raised by a check: what was received, and what the contract expects instead."""

    def __init__(self, check: str, received: str, expected: str) -> None:
        super().__init__(f"{check}: Received: {received} / Expected: {expected}")
        self.check = check
        self.received = received
        self.expected = expected


@dataclass(frozen=True)
class Failure:
    """One broken promise, with a command that reproduces it."""

    suite: str
    operation: str
    check: str
    received: str
    expected: str
    curl: str
    occurrences: int = 1
    shrunk: bool = False  # curl is the smallest generated case that still fails
    dialect: str = "json"  # the dialect of the first example (see contracts.dialects)

    @property
    def family(self) -> str:
        """The ``--dialects`` name of the example's dialect (``get`` for ``get (proto)``)."""
        return self.dialect.split(" ", 1)[0]

    def render(self) -> str:
        how = "Reproduce with (shrunk to a minimal case):" if self.shrunk else "Reproduce with:"
        where = "" if self.dialect == "json" else f" (in {self.dialect})"
        return (
            f"[{self.suite}] {self.operation}{where}: {self.check}"
            + (f" (seen {self.occurrences} times)" if self.occurrences > 1 else "")
            + f"\n    Received: {self.received}\n    Expected: {self.expected}"
            + f"\n    {how}\n        {self.curl}"
        )


@dataclass
class Findings:
    """Thread-safe collector of failures and of the requests the suites sent.

    Failures are deduplicated by suite, operation and check: the first example is kept,
    later ones only raise its count, so a systematic defect yields one readable entry.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _failures: dict[tuple[str, str, str], Failure] = field(default_factory=dict)
    requests: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    # Calls still answered 429 or 503 after every retry, by operation: not verdicts.
    transient: dict[str, int] = field(default_factory=dict)
    # Suites that could not judge anything, and why: reported as not run, never as passed.
    skipped: dict[str, str] = field(default_factory=dict)
    # By dialect family: requests sent in it, and failed checks on their answers.
    dialect_requests: dict[str, int] = field(default_factory=dict)
    dialect_cases: dict[str, int] = field(default_factory=dict)  # generated cases only
    dialect_failures: dict[str, int] = field(default_factory=dict)

    def add(self, failure: Failure) -> None:
        key = (failure.suite, failure.operation, failure.check)
        with self._lock:
            family = failure.family
            self.dialect_failures[family] = self.dialect_failures.get(family, 0) + 1
            known = self._failures.get(key)
            if known is None:
                self._failures[key] = failure
            else:
                self._failures[key] = dataclasses.replace(known, occurrences=known.occurrences + 1)

    def shrink(self, suite: str, operation: str, check: str, curl: str) -> None:
        """Replace a failure's reproduction by a smaller one found by shrinking."""
        key = (suite, operation, check)
        with self._lock:
            known = self._failures.get(key)
            if known is not None:
                self._failures[key] = dataclasses.replace(known, curl=curl, shrunk=True)

    def count_request(self, family: str = "json") -> None:
        with self._lock:
            self.requests += 1
            self.dialect_requests[family] = self.dialect_requests.get(family, 0) + 1

    def count_transient(self, operation: str) -> None:
        with self._lock:
            self.transient[operation] = self.transient.get(operation, 0) + 1

    def skip(self, suite: str, reason: str) -> None:
        with self._lock:
            self.skipped[suite] = reason

    def count_case(self, suite: str, family: str | None = None) -> None:
        """One case of ``suite``; of the dialect ``family`` too, when it drew one."""
        with self._lock:
            self.cases[suite] = self.cases.get(suite, 0) + 1
            if family is not None:
                self.dialect_cases[family] = self.dialect_cases.get(family, 0) + 1

    @property
    def failures(self) -> list[Failure]:
        with self._lock:
            return list(self._failures.values())

    def failed_checks(self) -> set[str]:
        return {failure.check for failure in self.failures}
