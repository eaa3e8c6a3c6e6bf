"""Broken servers for campaigns: two defects at once, a slow method, a cost that grows.

Each wraps the fake's ASGI app (see :func:`tests.contracts.mutants.serve`). They speak
JSON only; the campaign tests run in the JSON dialect. What a server did is counted on
the server's side (``Tally``), so a test can assert what the campaign sent without
relying on timing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.contracts.mutants import Mutant

__all__ = [
    "Costly",
    "Tally",
    "longest_text",
    "two_defects",
]

Json = Any


@dataclass
class Tally:
    """What a broken server saw: the requests' bodies in order, the costly ones."""

    bodies: list[tuple[str, Json]] = field(default_factory=list)
    costly: int = 0  # requests over the cost threshold (answered slowly)
    most_units: int = 0  # the largest cost of any request
    lock: threading.Lock = field(default_factory=threading.Lock)


def _crash_on_filter(exchange: Any) -> None:
    request = exchange.request
    if exchange.operation == "ListTasks" and isinstance(request, dict) and request.get("filter"):
        exchange.status, exchange.short_circuit = 500, True
        exchange.response = {"code": "internal", "message": "boom"}


def _crash_on_extra_field(exchange: Any) -> None:
    body = exchange.request
    if exchange.operation == "GetTaskExecution" and isinstance(body, dict) and set(body) - {"id"}:
        exchange.status, exchange.short_circuit = 500, True
        exchange.response = {"code": "internal", "message": "boom"}


def two_defects(tally: Tally | None = None) -> Mutant:
    """ListTasks crashes on any filter; GetTaskExecution on any field besides ``id``."""

    def before(exchange: Any) -> None:
        if tally is not None:
            with tally.lock:
                tally.bodies.append((exchange.operation, exchange.request))
        _crash_on_filter(exchange)
        _crash_on_extra_field(exchange)

    return Mutant("two_defects", "positive", "not_a_server_error", before=before)


def longest_text(body: Json) -> int:
    """The length of the longest string anywhere in a JSON value."""
    if isinstance(body, str):
        return len(body)
    if isinstance(body, dict):
        return max([0, *(longest_text(v) for v in body.values())])
    if isinstance(body, list):
        return max([0, *(longest_text(v) for v in body)])
    return 0


class Costly:
    """ASGI middleware: a server whose work on ``operation`` grows with its content.

    ``units(body)`` is the work a request costs (e.g. quadratic in its length);
    above ``threshold`` units the answer takes ``delay`` seconds, below it none: a step,
    not a slope, so no test depends on measuring small times.
    """

    def __init__(
        self,
        app: Any,
        *,
        operations: frozenset[str],
        units: Callable[[bytes], int],
        threshold: int,
        delay: float,
        tally: Tally,
    ) -> None:
        self.app = app
        self.operations = operations
        self.units = units
        self.threshold = threshold
        self.delay = delay
        self.tally = tally

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        operation = str(scope.get("path", "")).rsplit("/", 1)[-1]
        if scope["type"] != "http" or operation not in self.operations:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        units = self.units(raw)
        with self.tally.lock:
            self.tally.most_units = max(self.tally.most_units, units)
            if units > self.threshold:
                self.tally.costly += 1
        if units > self.threshold:
            await asyncio.sleep(self.delay)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                later: dict[str, Any] = await receive()
                return later
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


def list_items(body: Json) -> int:
    """How many items all the lists in a JSON value hold together."""
    if isinstance(body, dict):
        return sum(list_items(value) for value in body.values())
    if isinstance(body, list):
        return len(body) + sum(list_items(item) for item in body)
    return 0
