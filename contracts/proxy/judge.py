"""Judging one proxied exchange with the suite's own checks, per caller.

Nothing here decides what conforms: the checks are those of :mod:`contracts.checks` and
:mod:`contracts.invariants`, applied to an :class:`~contracts.exchange.Exchange` built from
the proxied request and response. This module only picks which apply (as the suites do)
and keeps the promises across calls apart for each caller, so that two clients' traffic
never make each other look wrong.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from contracts.checks import (
    COMMON_CHECKS,
    Check,
    invalid_request_rejected,
    missing_token_rejected,
    protocol_refusal,
    request_schema_conformance,
    valid_request_accepted,
)
from contracts.document import Document
from contracts.exchange import Exchange
from contracts.failures import CheckFailed
from contracts.invariants import DeletedTaskLedger, ExecutionLedger, TaskLedger

__all__ = ["CLIENT", "SERVER", "Judge", "Violation", "caller_key"]

SERVER = "server"
CLIENT = "client"


@dataclass(frozen=True)
class Violation:
    """A broken promise seen in proxied traffic: the server's, or the client's request's."""

    side: str  # SERVER or CLIENT
    check: str
    method: str
    dialect: str
    message: str  # "Received: ... / Expected: ..."
    curl: str  # a reproduction, the token replaced by a shell variable

    def to_json(self) -> dict[str, str]:
        return {
            "side": self.side,
            "check": self.check,
            "method": self.method,
            "dialect": self.dialect,
            "message": self.message,
            "curl": self.curl,
        }


def caller_key(authorization: str | None) -> str | None:
    """Who calls, without keeping the token: a hash of the header (``None``: no token)."""
    if not authorization or not authorization.strip():
        return None
    return hashlib.sha256(authorization.strip().encode("utf-8")).hexdigest()


class _Promises:
    """One caller's view across calls: its executions, its tasks and those it deleted."""

    def __init__(self) -> None:
        self.executions = ExecutionLedger()
        self.tasks = TaskLedger()
        self.deleted = DeletedTaskLedger()

    def observe(self, exchange: Exchange) -> list[CheckFailed]:
        return (
            self.executions.observe(exchange)
            + self.tasks.observe(exchange)
            + self.deleted.observe(exchange)
        )


class Judge:
    """Applies the suite's checks to exchanges; thread-safe."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._lock = threading.Lock()
        self._callers: dict[str | None, _Promises] = {}

    def _promises(self, caller: str | None) -> _Promises:
        with self._lock:
            found = self._callers.get(caller)
            if found is None:
                found = self._callers[caller] = _Promises()
            return found

    def judge(self, exchange: Exchange, caller: str | None) -> list[Violation]:
        """Every violation ``exchange`` shows: the client's first, then the server's."""
        violations: list[Violation] = []

        def run(side: str, check: Check) -> None:
            try:
                check(exchange, self.document)
            except CheckFailed as problem:
                violations.append(self._violation(side, problem, exchange))

        request_valid = True
        try:
            request_schema_conformance(exchange, self.document)
        except CheckFailed as problem:
            request_valid = False
            violations.append(self._violation(CLIENT, problem, exchange))
        if exchange.transient:
            # Over a limit or briefly down: says nothing about the contract (as in the suite).
            return violations
        for check in (*COMMON_CHECKS, protocol_refusal):
            run(SERVER, check)
        if caller is None:
            run(SERVER, missing_token_rejected)
        elif not request_valid:
            run(SERVER, invalid_request_rejected)
        elif exchange.error_code != "unauthenticated":
            # A token the server does not know is the caller's business, not a violation.
            run(SERVER, valid_request_accepted)
        violations += [
            self._violation(SERVER, broken, exchange)
            for broken in self._promises(caller).observe(exchange)
        ]
        return violations

    @staticmethod
    def _violation(side: str, problem: CheckFailed, exchange: Exchange) -> Violation:
        return Violation(
            side=side,
            check=problem.check,
            method=exchange.operation,
            dialect=exchange.dialect.name,
            message=f"Received: {problem.received} / Expected: {problem.expected}",
            curl=exchange.curl,
        )
