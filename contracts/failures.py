"""What a check reports when an implementation breaks the contract."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # What the server answered (``500``, ``400 invalid_argument``, ``timeout``), see
    # Exchange.outcome; "" when the failure is not about one answer (a suite's crash).
    outcome: str = ""
    # The request of the reproduction, to replay exactly (see contracts.saved_requests); None
    # when the failure spans several calls.
    example: dict[str, Any] | None = field(default=None, compare=False)
    first_seen: float = 0.0  # seconds into the run when it was first met

    @property
    def signature(self) -> str:
        """What makes two failures the same defect: check, method, outcome, dialect family."""
        return f"{self.check} {self.operation} {self.outcome or '-'} {self.family}"

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

    Failures are deduplicated by suite and :attr:`Failure.signature`: the first example
    is kept, later ones only raise its count, so a systematic defect yields one readable
    entry. ``on_new`` is told of each new signature (``--fail-fast`` stops there).
    """

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    on_new: Callable[[Failure], None] | None = None
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
        key = (failure.suite, failure.signature)
        with self._lock:
            family = failure.family
            self.dialect_failures[family] = self.dialect_failures.get(family, 0) + 1
            known = self._failures.get(key)
            if known is None:
                failure = dataclasses.replace(failure, first_seen=time.monotonic() - self.started)
                self._failures[key] = failure
            else:
                self._failures[key] = dataclasses.replace(known, occurrences=known.occurrences + 1)
        if known is None and self.on_new is not None:
            self.on_new(failure)

    def shrink(
        self,
        suite: str,
        operation: str,
        check: str,
        curl: str,
        example: dict[str, Any] | None = None,
        outcome: str | None = None,
    ) -> None:
        """Replace a failure's reproduction by a smaller one found by shrinking.

        The failure of the same outcome if there is one, else the first one of this
        check on this operation that is not shrunk yet.
        """
        with self._lock:
            candidates = [
                key
                for key, known in self._failures.items()
                if (known.suite, known.operation, known.check) == (suite, operation, check)
            ]
            exact = [k for k in candidates if self._failures[k].outcome == outcome]
            loose = [k for k in candidates if not self._failures[k].shrunk]
            for key in (exact or loose)[:1]:
                known = self._failures[key]
                self._failures[key] = dataclasses.replace(
                    known, curl=curl, shrunk=True, example=example or known.example
                )

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
