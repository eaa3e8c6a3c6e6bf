"""Creation-ordered indexes and opaque page tokens.

A page token is a cursor, not an offset: URL-safe base64 (unpadded) of the JSON
``["<kind>", <createdAt microseconds>, "<id>"]`` naming the last item returned. The next
page starts strictly after that key, so inserts by other clients (always later keys under a
monotonic clock, but any key works) neither repeat nor skip items already paged past.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from mockserver.domain import protojson
from mockserver.domain.errors import InvalidArgument
from mockserver.domain.types import TaskKey

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_MALFORMED = "pagination.token: malformed page token"
# A token the fake issues is ~100 characters (kind, microseconds, UUID); anything much
# longer is not one of ours, and decoding it is not worth the work (nor the recursion a
# JSON array nested thousands deep would cost).
MAX_TOKEN_CHARS = 512
# Keys an OrderedIndex takes before it places them (see OrderedIndex): placing this many
# in one go takes about a millisecond at 150,000 keys, the longest a write or read waits.
PENDING_KEYS = 256


# Keys compare as (created_us, id) tuples, but a tuple comparison follows two pointers
# (the tuple, then its id) into memory a server's other work has evicted: searching a
# large index cost ~13 µs per insert. The same order as one string per key (microseconds
# shifted to be positive, as 16 hex digits, then the id) follows one: ~5 µs.
_SHIFT = 1 << 62  # beyond any instant RFC 3339 can write (|micros| < 2**58)


def sort_string(key: TaskKey) -> str:
    """A string whose order among others is ``key``'s order among keys."""
    return f"{key[0] + _SHIFT:016x}{key[1]}"


class OrderedIndex:
    """Keys ``(created_us, id)`` kept sorted; O(log n) seek, O(page) reads.

    A two-level sorted list: the keys live in chunks of at most ``2 * chunk`` keys, each
    with a parallel chunk of their :func:`sort_string` (what searches compare), and each
    chunk's greatest sort string in ``_maxes``. Under a real clock keys arrive in order
    and are appended; under a manual clock that stands still they share ``created_us``
    and land by id, anywhere: one flat list moved half its length per insert (~100 µs per
    CreateTask at 300,000 tasks), a chunk moves at most ``2 * chunk`` keys.

    New keys wait in a short unsorted list and are placed together, in order, when it is
    full or before the index is read. A lone insert searches chunks that a server's other
    work has evicted from the CPU caches (~10 µs at 150,000 keys); in a sorted run they
    share the search path and cost about half that per key. Every method reads through
    :meth:`_settle`, so no caller ever sees the waiting keys out of place.
    """

    __slots__ = ("_chunk", "_chunks", "_len", "_maxes", "_pending", "_pending_keys", "_sorts")

    def __init__(
        self, keys: Iterable[TaskKey] = (), chunk: int = 128, pending_keys: int = PENDING_KEYS
    ) -> None:
        self._chunk = chunk
        self._pending_keys = pending_keys
        self._chunks: list[list[TaskKey]] = []
        self._sorts: list[list[str]] = []
        self._maxes: list[str] = []
        self._len = 0
        # (sort string, key) added but not yet placed; fewer than pending_keys.
        self._pending: list[tuple[str, TaskKey]] = []
        if keys != ():  # the common case, an empty index per new value, stays cheap
            ordered = sorted(keys)
            self._chunks = [ordered[i : i + chunk] for i in range(0, len(ordered), chunk)]
            self._sorts = [[sort_string(key) for key in part] for part in self._chunks]
            self._maxes = [part[-1] for part in self._sorts]
            self._len = len(ordered)

    def __len__(self) -> int:
        return self._len + len(self._pending)

    def add(self, key: TaskKey, text: str | None = None) -> None:
        """Insert a key (``text``: its :func:`sort_string`, if the caller has it already).

        It is placed with the next ``pending_keys - 1`` or before the next read, whichever
        comes first."""
        pending = self._pending
        pending.append((sort_string(key) if text is None else text, key))
        if len(pending) >= self._pending_keys:
            self._settle()

    def _settle(self) -> None:
        """Place the waiting keys, in order (so consecutive searches share their path)."""
        pending = self._pending
        if pending:
            self._pending = []
            pending.sort()  # by sort string; they are unique, so keys are never compared
            for text, key in pending:
                self._place(key, text)

    def _place(self, key: TaskKey, text: str) -> None:
        """Insert a key (appending is the common case under a monotonic clock)."""
        chunks, sorts, maxes = self._chunks, self._sorts, self._maxes
        if not chunks:
            chunks.append([key])
            sorts.append([text])
            maxes.append(text)
            self._len = 1
            return
        index = bisect.bisect_left(maxes, text)
        if index == len(maxes):  # beyond every key: the last chunk grows
            index -= 1
            part, part_sorts = chunks[index], sorts[index]
            part.append(key)
            part_sorts.append(text)
            maxes[index] = text
        else:
            part, part_sorts = chunks[index], sorts[index]
            position = bisect.bisect_right(part_sorts, text)
            part.insert(position, key)
            part_sorts.insert(position, text)
        self._len += 1
        if len(part) > 2 * self._chunk:
            half = len(part) // 2
            chunks[index : index + 1] = [part[:half], part[half:]]
            sorts[index : index + 1] = [part_sorts[:half], part_sorts[half:]]
            maxes[index : index + 1] = [part_sorts[half - 1], part_sorts[-1]]

    def copy(self) -> OrderedIndex:
        """An index of the same keys that changes independently of this one."""
        self._settle()
        twin = OrderedIndex(chunk=self._chunk, pending_keys=self._pending_keys)
        twin._chunks = [list(part) for part in self._chunks]
        twin._sorts = [list(part) for part in self._sorts]
        twin._maxes = list(self._maxes)
        twin._len = self._len
        return twin

    def remove(self, key: TaskKey) -> None:
        """Remove a key if present."""
        self._settle()
        text = sort_string(key)
        index = bisect.bisect_left(self._maxes, text)
        if index == len(self._maxes):
            return
        part, part_sorts = self._chunks[index], self._sorts[index]
        position = bisect.bisect_left(part_sorts, text)
        if position < len(part) and part_sorts[position] == text:
            del part[position]
            del part_sorts[position]
            self._len -= 1
            if part:
                self._maxes[index] = part_sorts[-1]
            else:
                del self._chunks[index]
                del self._sorts[index]
                del self._maxes[index]

    def _locate(self, cursor: TaskKey | None) -> tuple[int, int]:
        """(chunk, position) of the first key strictly after ``cursor``."""
        self._settle()
        if cursor is None:
            return 0, 0
        # A client's page token may hold any integer: one beyond every instant keeps its
        # place beyond every key, in a string of the same width.
        micros = min(max(cursor[0], -_SHIFT), _SHIFT - 1)
        text = sort_string((micros, cursor[1]))
        index = bisect.bisect_right(self._maxes, text)
        if index == len(self._chunks):
            return index, 0
        return index, bisect.bisect_right(self._sorts[index], text)

    def after(self, cursor: TaskKey | None) -> Iterator[TaskKey]:
        """Keys strictly after ``cursor`` (all keys when ``None``), in order; the index
        must not change while they are read."""
        # Located now, not at the first next(): a generator's body runs late.
        return self._keys_from(*self._locate(cursor))

    def _keys_from(self, index: int, position: int) -> Iterator[TaskKey]:
        chunks = self._chunks
        for number in range(index, len(chunks)):
            part = chunks[number]
            for offset in range(position, len(part)):
                yield part[offset]
            position = 0

    def last(self, count: int) -> list[TaskKey]:
        """The ``count`` greatest keys, in order."""
        self._settle()
        out: list[TaskKey] = []
        for part in reversed(self._chunks):
            if len(out) >= count:
                break
            out[:0] = part[-(count - len(out)) :]
        return out

    def slice_after(self, cursor: TaskKey | None, count: int) -> list[TaskKey]:
        """Up to ``count`` keys strictly after ``cursor``, without iterating the rest."""
        chunks = self._chunks
        index, position = self._locate(cursor)
        out: list[TaskKey] = []
        while len(out) < count and index < len(chunks):
            out += chunks[index][position : position + count - len(out)]
            index, position = index + 1, 0
        return out


def merged_after(indexes: Iterable[OrderedIndex], cursor: TaskKey | None) -> Iterator[TaskKey]:
    """The keys of several indexes strictly after ``cursor``, in order, each once.

    Lazy: reading the first ``k`` keys costs O(len(indexes) * log n + k * log len(indexes)).
    The indexes must not share keys (one index per value of one field never does).
    """
    return heapq.merge(*(index.after(cursor) for index in indexes))


def encode_token(kind: str, key: TaskKey) -> str:
    """The page token that resumes after ``key`` in a list of ``kind``."""
    # orjson writes what json.dumps(separators=(",", ":")) would (bar the \u escapes of
    # non-ASCII, which ids never have), in a tenth of the time: every full page makes one.
    raw = orjson.dumps((kind, key[0], key[1]))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_token(kind: str, token: str) -> TaskKey | None:
    """The cursor in ``token`` (``None`` for the empty token); :class:`InvalidArgument` if bad."""
    if not token:
        return None
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidArgument(f"{_MALFORMED} (longer than {MAX_TOKEN_CHARS} characters)")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data: Any = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidArgument(_MALFORMED) from None
    if (
        not isinstance(data, list)
        or len(data) != 3
        or data[0] != kind
        or isinstance(data[1], bool)
        or not isinstance(data[1], int)
        or not isinstance(data[2], str)
    ):
        raise InvalidArgument(_MALFORMED)
    return (data[1], data[2])


def page_request(request: Mapping[str, Any], kind: str) -> tuple[TaskKey | None, int]:
    """The cursor and page size of a request's ``pagination`` (pageSize 0 means 25)."""
    pagination = protojson.message(request, "pagination") or {}
    size = protojson.int32(pagination, "pageSize", "pagination.pageSize")
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"pagination.pageSize: must be between 0 and {MAX_PAGE_SIZE}, got {size}"
        )
    token = protojson.string(pagination, "token", "pagination.token")
    return decode_token(kind, token), size or DEFAULT_PAGE_SIZE


def take_page(
    keys: Iterable[TaskKey], accept: Callable[[TaskKey], bool], size: int, kind: str
) -> tuple[list[TaskKey], str]:
    """The first ``size`` accepted keys and the next token ("" when nothing more matches).

    Stops at the first accepted key beyond the page, so a full scan happens only when the
    filter matches too little.
    """
    page: list[TaskKey] = []
    for key in keys:
        if not accept(key):
            continue
        if len(page) == size:
            return page, encode_token(kind, page[-1])
        page.append(key)
    return page, ""


def count_within(sizes: list[int], budget: int) -> int:
    """How many of the first items (of these ``sizes`` in bytes) fit ``budget``, never
    fewer than one when there is one.

    A list page cut there carries a next token after its last item: ``pageSize`` is the
    most a page holds, not the least, so a shorter page with a next token is a page the
    API allows, and a client that follows tokens gets everything."""
    total = 1  # the list's brackets, less the last item's comma
    for count, size in enumerate(sizes):
        total += size + 1  # and its comma in the list
        if total > budget and count:
            return count
    return len(sizes)


def unfiltered_page(
    index: OrderedIndex, cursor: TaskKey | None, size: int, kind: str
) -> tuple[list[TaskKey], str]:
    """A page straight from the index: O(log n + page)."""
    window = index.slice_after(cursor, size + 1)
    if len(window) > size:
        return window[:size], encode_token(kind, window[size - 1])
    return window, ""
