"""``--hunt slow``: steer a campaign towards the requests that cost a server most.

Two parts, both driven by Hypothesis' targeted search (``hypothesis.target``):

* every answer reports three scores: the request's size, the answer's time and size.
  Hypothesis keeps the cases that scored highest and mutates them, climbing.
* each generated case also draws a growth, 0 to ``MAX_DOUBLINGS``: every list in the
  body is repeated to 2**growth times its length (more ``env`` items, a longer
  ``dependsOn``, longer filters), up to ``MAX_GROWN_ITEMS`` items, as far as the
  document still accepts the request.
  Hypothesis cannot climb the length of a string or a list it drew from a schema (it
  climbs numbers and booleans), but it climbs this number well; and when the grown case
  fails it shrinks the number too, to the smallest growth that still fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import hypothesis

from contracts.exchange import Exchange

__all__ = ["MAX_DOUBLINGS", "MAX_GROWN_ITEMS", "Grown", "aim_at_cost", "grown"]

MAX_DOUBLINGS = 6  # lists up to 64 times their drawn length...
# ...and up to this many items: a large list, not one a server may refuse as too large
# (the fake refuses more than 1,000 items, a limit the document does not state).
MAX_GROWN_ITEMS = 256
# A grown body stays well below any server's request limit (the fake's default: 4 MiB).
_MAX_GROWN_BYTES = 256 * 1024


class Grown:
    """A generated case and how many times its lists are doubled before it is sent."""

    def __init__(self, case: Any, doublings: int) -> None:
        self.case = case
        self.doublings = doublings

    @property
    def body(self) -> Any:
        return self.case.body


def _repeat_lists(value: Any, factor: int) -> Any:
    if isinstance(value, dict):
        return {key: _repeat_lists(item, factor) for key, item in value.items()}
    if isinstance(value, list):
        items = [_repeat_lists(item, factor) for item in value]
        return (items * factor)[: max(len(items), MAX_GROWN_ITEMS)]
    return value


def grown(body: object, doublings: int, accepted: Callable[[object], bool]) -> object:
    """``body`` with its lists repeated 2**doublings times, or as few doublings as keep it
    ``accepted`` (valid on the wire) and small; ``body`` itself when none do."""
    for step in range(doublings, 0, -1):
        candidate = _repeat_lists(body, 2**step)
        size = len(json.dumps(candidate, ensure_ascii=False))
        if size <= _MAX_GROWN_BYTES and accepted(candidate):
            return candidate
    return body


def aim_at_cost(exchange: Exchange) -> None:
    """Score a generated case: the request's size, the answer's time, the answer's size.

    The request's size is a target of its own because a cost that grows with the input
    shows in the time only once the input is large (a step, or noise below it).
    """
    hypothesis.target(float(len(exchange.request_body)), label="request bytes")
    if exchange.transport is None:
        hypothesis.target((exchange.received_at - exchange.sent_at) * 1000, label="response ms")
        hypothesis.target(float(len(exchange.content)), label="response bytes")
