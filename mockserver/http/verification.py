"""Verification: which journaled calls fit a pattern, and the closest ones when none do.

A :class:`JournalQuery` is what ``POST /_mock/requests/find`` and ``/count`` take::

    {"method": "CreateTask", "code": "ok", "match": {"metadata.reference": "^build$"}}

every key optional. ``match`` is the dotted-path RE2 form fault rules use (one parser,
:func:`~mockserver.domain.faults.parse_request_match`), applied to the request as the fake
understood it: decoded from whatever codec carried it, then normalized to lowerCamel
names, as the domain and fault rules saw it.

A request the journal was too large to keep cannot be matched field by field. Such an
entry, when it fits ``method`` and ``code``, is *unknown*: never counted as a match, never
silently left out; :class:`Findings` lists it apart, so a caller can tell "0" from "0, but
2 calls could not be checked". Without ``match`` nothing is unknown.

Cost: a query with ``match`` decodes the requests of the entries whose method and code fit
(~30 µs each): over a full journal of 10,000 CreateTask calls, ~0.3 s on a 2-core machine
at load average 10; without ``match``, ~1 ms. The control API is test tooling, so this runs
on the event loop, as ``GET /_mock/requests`` (which decodes every entry) does.

No Starlette here: the control API turns the query's errors and the findings into HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.domain import JsonObject
from mockserver.domain.faults import CONNECT_CODES, FieldMiss, RequestMatch, parse_request_match
from mockserver.domain.methods import METHOD_NAMES
from mockserver.http.journal import JournalEntry

__all__ = [
    "NEAR_MISSES",
    "QUERY_KEYS",
    "Findings",
    "JournalQuery",
    "Miss",
    "NearMiss",
    "QueryError",
    "find",
]

QUERY_KEYS = ("method", "code", "match")
NEAR_MISSES = 3  # how many of the closest entries a fruitless find answers
_CODES = ("ok", *CONNECT_CODES)


class QueryError(ValueError):
    """A malformed query; the message starts with the offending field."""


@dataclass(frozen=True, slots=True)
class Miss:
    """One part of the query an entry failed: ``part`` is ``method``, ``code`` or
    ``match.<path>``; ``expected`` what the query asked, ``actual`` what the entry had."""

    part: str
    expected: str
    actual: Any

    def to_json(self) -> JsonObject:
        return {"part": self.part, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which calls to look for; ``None`` (or an empty match) means "any"."""

    method: str | None = None
    code: str | None = None
    match: RequestMatch = field(default_factory=RequestMatch)

    @classmethod
    def parse(cls, raw: object) -> JournalQuery:
        """The query a request body gives; :class:`QueryError` names the bad field."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise QueryError(
                'body: expected an object such as {"method": "CreateTask", "code": "ok", '
                '"match": {"metadata.reference": "^build$"}}'
            )
        for key in raw:
            if key not in QUERY_KEYS:
                raise QueryError(f"{key}: unknown field (expected one of: {', '.join(QUERY_KEYS)})")
        method = raw.get("method")
        if method == "*":
            method = None
        if method is not None and method not in METHOD_NAMES:
            raise QueryError(
                f'method: {method!r} is not a method (expected "*" or one of: '
                f"{', '.join(METHOD_NAMES)})"
            )
        code = raw.get("code")
        if code is not None and code not in _CODES:
            raise QueryError(
                f'code: {code!r} is not "ok" or a Connect code ({", ".join(CONNECT_CODES)})'
            )
        try:
            match = parse_request_match(raw.get("match"), "match")
        except ValueError as error:
            raise QueryError(str(error)) from None
        return cls(method, code, match)

    def misses(self, entry: JournalEntry, request: JsonObject | None) -> tuple[Miss, ...]:
        """What of the query ``entry`` fails; ``request`` is its request as understood
        (``None``: not kept, so ``match`` is not judged)."""
        found: list[Miss] = []
        if self.method is not None and entry.method != self.method:
            found.append(Miss("method", self.method, entry.method))
        if self.code is not None and entry.code != self.code:
            found.append(Miss("code", self.code, entry.code))
        if request is not None:
            found.extend(_from_field(miss) for miss in self.match.misses(request))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An entry that failed the query, and what of it it failed."""

    index: int  # where the entry stands in the searched sequence
    misses: tuple[Miss, ...]


@dataclass(slots=True)
class Findings:
    """Indexes into the searched entries, oldest first."""

    matched: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)  # too large to judge; see the module
    near_misses: list[NearMiss] = field(default_factory=list)  # only when nothing matched


def find(
    query: JournalQuery,
    entries: Sequence[JournalEntry],
    understood: Callable[[JournalEntry], JsonObject],
    *,
    near_misses: int = NEAR_MISSES,
) -> Findings:
    """The entries that fit ``query``; ``understood`` gives an entry's request as the fake
    understood it. Requests are decoded only where ``match`` needs them, each once.
    """
    findings = Findings()
    wanted_fields = bool(query.match.fields)
    near: list[NearMiss] = []  # the right method, judged in full already
    right_method: list[int] = []  # the right method, but not the code: judged if needed
    other_method: list[int] = []
    for index, entry in enumerate(entries):
        if query.method is not None and entry.method != query.method:
            other_method.append(index)
        elif query.code is not None and entry.code != query.code:
            right_method.append(index)
        elif not wanted_fields:
            findings.matched.append(index)
        elif entry.request_truncated:
            findings.unknown.append(index)
        else:
            request = understood(entry)
            if query.match.matches(request):
                findings.matched.append(index)
            else:
                near.append(NearMiss(index, query.misses(entry, request)))
    if findings.matched or near_misses <= 0:
        return findings
    near += [_judge(query, entries, index, understood) for index in right_method]
    if len(near) < near_misses:
        # An entry of another method ranks after every one of the right method, so
        # those are read only when the right method gives too few.
        near += [_judge(query, entries, index, understood) for index in other_method]
    # Closest first: the right method before a wrong one (a call of another method is
    # rarely the one meant), then the fewest failed parts, then the newest.
    near.sort(
        key=lambda miss: (
            any(part.part == "method" for part in miss.misses),
            len(miss.misses),
            -miss.index,
        )
    )
    findings.near_misses = near[:near_misses]
    return findings


def _judge(
    query: JournalQuery,
    entries: Sequence[JournalEntry],
    index: int,
    understood: Callable[[JournalEntry], JsonObject],
) -> NearMiss:
    entry = entries[index]
    request = None if entry.request_truncated else understood(entry)
    return NearMiss(index, query.misses(entry, request))


def _from_field(miss: FieldMiss) -> Miss:
    return Miss(f"match.{miss.path}", miss.pattern, miss.value)
