"""``GET /_mock/requests`` with a filter and a page: the query, read and applied.

``method``, ``code`` and ``q`` narrow the journal; ``limit`` asks for the newest matches
only, and ``before`` for those older than an entry's ``id`` (the cursor the answer's
``older`` gives). With ``limit`` the work per request is bounded: at most
:data:`SCAN_BUDGET` entries are looked at, newest first; if the budget runs out first, the
answer has fewer matches and ``older`` says where to go on from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import parse_qsl

import orjson

from mockserver.http.connect import ConnectError
from mockserver.http.journal import JournalEntry
from openapi.errors import Code
from openapi.methods import METHODS

__all__ = ["MAX_LIMIT", "SCAN_BUDGET", "JournalPage"]

MAX_LIMIT: Final = 1000  # entries in one answer
SCAN_BUDGET: Final = 5000  # entries looked at for one answer (a text search decodes each)
_PARAMETERS: Final = ("method", "code", "q", "before", "limit")
_METHOD_NAMES: Final = {method.name.lower(): method.name for method in METHODS}
_CODES: Final = frozenset(code.name for code in Code) | {"ok", "dropped", "error"}

T = TypeVar("T")


def _bad(message: str) -> ConnectError:
    return ConnectError(Code.invalid_argument, message)


def _positive(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
        raise _bad(f"{name} must be a positive integer, got {text[:40]!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class JournalPage:
    """A parsed filter and page. No parameter at all: every entry, as before paging."""

    method: str | None = None
    code: str | None = None  # a Connect code, "dropped" (no answer) or "error" (not ok)
    text: str | None = None  # lower case, found in the request, response or fault
    before: int | None = None
    limit: int | None = None

    @classmethod
    def parse(cls, query_string: bytes) -> JournalPage:
        """From a URL's query; ``ConnectError(invalid_argument)`` names a bad parameter."""
        values: dict[str, str] = {}
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if name not in _PARAMETERS:
                raise _bad(f"unknown parameter {name[:40]!r}; known: {', '.join(_PARAMETERS)}")
            values[name] = value.strip()
        method = values.get("method") or None
        if method is not None:
            found = _METHOD_NAMES.get(method.lower())
            if found is None:
                raise _bad(f"method: no method {method[:60]!r}; one of {', '.join(_names())}")
            method = found
        code = values.get("code") or None
        if code is not None and code not in _CODES:
            raise _bad(
                f"code: {code[:40]!r} is not a Connect code (or 'error': any but ok;"
                " 'dropped': no answer)"
            )
        before = values.get("before") or None
        limit = values.get("limit") or None
        return cls(
            method=method,
            code=code,
            text=(values.get("q") or "").lower() or None,
            before=None if before is None else _positive("before", before),
            limit=None if limit is None else min(_positive("limit", limit), MAX_LIMIT),
        )

    def matches(self, entry: JournalEntry) -> bool:
        if self.method is not None and entry.method != self.method:
            return False
        if self.code is not None:
            code = entry.code
            if self.code == "error":
                if code == "ok":
                    return False
            elif (code or "dropped") != self.code:
                return False
        if self.text is not None:
            seen = orjson.dumps([entry.method, entry.request_json(), entry.response_json()])
            if self.text not in seen.decode().lower() and (
                entry.fault is None or self.text not in orjson.dumps(entry.fault).decode().lower()
            ):
                return False
        return True

    def select(self, pairs: Sequence[tuple[T, JournalEntry]]) -> tuple[list[T], int | None]:
        """The matching ``(x, entry)`` pairs' ``x``, oldest first, and ``older``: the
        ``before`` that continues (``None``: nothing older is left to look at). ``pairs``
        are in the order of their ids."""
        if self.limit is None:
            start = len(pairs)
            if self.before is not None:
                start = _index_before(pairs, self.before)
            return [x for x, entry in pairs[:start] if self.matches(entry)], None
        found: list[T] = []
        index = len(pairs) if self.before is None else _index_before(pairs, self.before)
        budget = SCAN_BUDGET
        while index > 0 and budget > 0 and len(found) < self.limit:
            index -= 1
            budget -= 1
            x, entry = pairs[index]
            if self.matches(entry):
                found.append(x)
        found.reverse()
        older = pairs[index][1].id if index > 0 else None
        return found, older


def _index_before(pairs: Sequence[tuple[T, JournalEntry]], before: int) -> int:
    """How many of ``pairs`` (ids ascending) have an id below ``before``."""
    low, high = 0, len(pairs)
    while low < high:
        middle = (low + high) // 2
        if pairs[middle][1].id < before:
            low = middle + 1
        else:
            high = middle
    return low


def _names() -> list[str]:
    return sorted(_METHOD_NAMES.values())
