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
    understood it (called only for entries whose method and code fit, or for near misses).
    """
    findings = Findings()
    wanted_fields = bool(query.match.fields)
    candidates: list[NearMiss] = []
    for index, entry in enumerate(entries):
        if (query.method is not None and entry.method != query.method) or (
            query.code is not None and entry.code != query.code
        ):
            candidates.append(NearMiss(index, ()))  # judged in full only if needed
            continue
        if not wanted_fields:
            findings.matched.append(index)
        elif entry.request_truncated:
            findings.unknown.append(index)
        elif query.match.matches(understood(entry)):
            findings.matched.append(index)
        else:
            candidates.append(NearMiss(index, ()))
    if not findings.matched and near_misses > 0:
        findings.near_misses = _closest(query, entries, understood, candidates, near_misses)
    return findings


def _closest(
    query: JournalQuery,
    entries: Sequence[JournalEntry],
    understood: Callable[[JournalEntry], JsonObject],
    candidates: list[NearMiss],
    limit: int,
) -> list[NearMiss]:
    judged = []
    for candidate in candidates:
        entry = entries[candidate.index]
        request = None if entry.request_truncated else understood(entry)
        judged.append(NearMiss(candidate.index, query.misses(entry, request)))
    # Closest first: the right method before a wrong one (a call of another method is
    # rarely the one meant), then the fewest failed parts, then the newest.
    judged.sort(
        key=lambda near: (
            any(miss.part == "method" for miss in near.misses),
            len(near.misses),
            -near.index,
        )
    )
    return judged[:limit]


def _from_field(miss: FieldMiss) -> Miss:
    return Miss(f"match.{miss.path}", miss.pattern, miss.value)
