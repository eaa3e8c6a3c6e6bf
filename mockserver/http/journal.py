"""The request journal: what each tenant called and what it got back.

Bounded by entries and by bytes, so a client sending big bodies (or many tokens) cannot
make the server grow without limit: a request or response of more than
``max_entry_bytes`` is kept as its size only (``requestTruncated``/``responseTruncated``
say so), each tenant keeps at most ``size`` entries and ``tenant_bytes``, and all tenants
together ``max_bytes`` (the journals written longest ago go first). Sizes are those of the
message on the wire (decompressed) and of the request's headers, plus a fixed overhead
per entry.

Each entry also keeps what a person debugging a call asks next: how long it took (from a
monotonic clock), the HTTP method, query string and headers it came with (packed into one
bytes object as received; credentials are redacted when the entry is read), and a number
that orders it among every entry of the journal (``id``).
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from mockserver.domain import JsonObject, format_timestamp

__all__ = [
    "DEFAULT_ENTRY_BYTES",
    "DEFAULT_JOURNAL_BYTES",
    "DEFAULT_JOURNAL_SIZE",
    "DEFAULT_TENANT_JOURNAL_BYTES",
    "Journal",
    "JournalEntry",
]

DEFAULT_JOURNAL_SIZE = 10_000
DEFAULT_ENTRY_BYTES = 16 * 1024
DEFAULT_TENANT_JOURNAL_BYTES = 8 * 1024 * 1024
DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024
_ENTRY_OVERHEAD = 256

# Headers that carry credentials read as REDACTED, so a journal read (the web view, a bug
# report) never shows a token; so does any other header that repeats the bearer token.
_SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
REDACTED: Final = "[redacted]"

RawHeaders = Sequence[tuple[bytes, bytes]]


def pack_headers(raw: RawHeaders) -> bytes:
    """ASGI header pairs as one ``name: value`` line each (HTTP allows no line break in
    either). One bytes object, which the collector never walks, where the pairs would be
    a list and a tuple per header, kept by the thousand; and its length is its cost.

    Packing, the duration and the entry's other new fields cost ~1 µs a call: GetTask
    10.7 → 11.8 µs CPU, CreateTask 24.1 → 24.9 µs (``bench/inprocess.py``, two runs each,
    interleaved)."""
    return b"\n".join(map(b": ".join, raw))


def redacted_headers(packed: bytes) -> dict[str, str]:
    """Headers kept by :func:`pack_headers` as ``{name: value}``, credentials redacted; a
    repeated header's values are joined with ``", "``."""
    pairs = [line.partition(b": ")[::2] for line in packed.split(b"\n")] if packed else []
    token = b""
    for name, value in pairs:
        if name.lower() == b"authorization":
            token = value.partition(b" ")[2].strip()
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.decode("latin-1").lower()
        # However short the token: a value hidden for nothing beats a token shown.
        if key in _SECRET_HEADERS or (token and token in value):
            text = REDACTED
        else:
            text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def header_lines(packed: bytes) -> list[tuple[str, str]]:
    """Headers kept by :func:`pack_headers` as ``(lower-case name, value)``, unredacted."""
    if not packed:
        return []
    pairs = (line.partition(b": ")[::2] for line in packed.split(b"\n"))
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in pairs]


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~1.5 µs a request more
class JournalEntry:
    """One API call. ``request`` is the body as the client sent it (``None`` if unreadable);
    ``response`` the message answered (proto3 JSON, whatever the codec) or the Connect
    error body ``{"code", "message"}``. Both may be shared with the store, and an entry is
    never changed once recorded: read only.

    An RPC's entry usually keeps the request as it came over the wire instead
    (``wire_request``, decoded by ``read_request`` when the entry is read), and a JSON
    response as its bytes (``wire_response``): one bytes object is cheaper to keep than
    the dicts it decodes to. In a server at ~10,000 tasks, keeping the dicts of the last
    10,000 calls cost each CreateTask ~120 more misses of a 512 KiB cache than keeping
    bytes (simulated by callgrind): the collector walks the dicts, and freeing them
    touches memory long out of the caches. Read both through :meth:`request_json` and
    :meth:`response_json`.
    """

    method: str
    request: Any
    code: str | None  # "ok", the Connect error code, or None: no answer (dropped)
    http_status: int | None
    time_us: int  # microseconds since the epoch, from the tenant's clock
    response: Any = None
    fault: JsonObject | None = None  # the injected fault, as Fault.to_json() tells it
    request_bytes: int = 0  # size of the request message (decompressed)
    response_bytes: int = 0  # size of the response message (before compression)
    request_truncated: bool = False  # the request was too big to keep; only its size is
    response_truncated: bool = False
    wire_request: bytes | None = None  # instead of ``request``: the message's bytes
    read_request: Callable[[bytes], Any] | None = None  # and what decodes them
    wire_response: bytes | None = None  # instead of ``response``: its JSON
    duration_us: int = 0  # from the request's arrival to its answer (monotonic clock)
    http_method: str = "POST"
    query_string: bytes = b""  # as received (a Connect GET's message is in it)
    headers: bytes = b""  # as received (pack_headers), credentials included: see to_json
    id: int = 0  # set by Journal.record: grows with every entry of the journal

    def request_json(self) -> Any:
        """The request as proto3 JSON (``None``: not kept, or unreadable)."""
        if self.wire_request is not None and self.read_request is not None:
            return self.read_request(self.wire_request)
        return self.request

    def response_json(self) -> Any:
        """The response as proto3 JSON, or the error body (``None``: not kept, no answer)."""
        if self.wire_response is not None:
            return orjson.loads(self.wire_response)
        return self.response

    @property
    def cost(self) -> int:
        """What the entry counts against the journal's byte limits."""
        kept = (0 if self.request_truncated else self.request_bytes) + (
            0 if self.response_truncated else self.response_bytes
        )
        return _ENTRY_OVERHEAD + kept + len(self.headers)

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "id": self.id,
            "method": self.method,
            "request": self.request_json(),
            "code": self.code,
            "httpStatus": self.http_status,
            "time": format_timestamp(self.time_us),
            "response": self.response_json(),
            "durationMs": self.duration_us / 1000,
            "httpMethod": self.http_method,
            "requestHeaders": redacted_headers(self.headers),
        }
        if self.query_string:
            out["query"] = self.query_string.decode("latin-1")
        if self.fault is not None:
            out["fault"] = self.fault
        if self.request_truncated:
            out["requestTruncated"] = True
            out["requestBytes"] = self.request_bytes
        if self.response_truncated:
            out["responseTruncated"] = True
            out["responseBytes"] = self.response_bytes
        return out


class _TenantJournal:
    __slots__ = ("bytes", "entries")

    def __init__(self) -> None:
        self.entries: deque[JournalEntry] = deque()
        self.bytes = 0


class Journal:
    """Bounded ring buffers of entries per tenant key (the caller's bearer token)."""

    def __init__(
        self,
        size: int = DEFAULT_JOURNAL_SIZE,
        *,
        max_entry_bytes: int = DEFAULT_ENTRY_BYTES,
        tenant_bytes: int = DEFAULT_TENANT_JOURNAL_BYTES,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
    ) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, got {size}")
        self.size = size
        self.max_entry_bytes = max_entry_bytes
        self.tenant_bytes = tenant_bytes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        # Least recently written first: the first to go when all journals are too big.
        self._journals: OrderedDict[str, _TenantJournal] = OrderedDict()
        self._bytes = 0
        self._last_id = 0

    @property
    def total_bytes(self) -> int:
        """What all kept entries count against ``max_bytes``."""
        return self._bytes

    def record(self, tenant: str, entry: JournalEntry) -> None:
        limit = self.max_entry_bytes
        if entry.request_bytes > limit or entry.response_bytes > limit:
            entry = self._bounded(entry)
        cost = entry.cost
        with self._lock:
            self._last_id += 1
            entry.id = self._last_id
            journals = self._journals
            journal = journals.get(tenant)
            if journal is None:
                # The key (a bearer token, as long as a header allows) counts too: with
                # any token accepted, a client can make a journal per request.
                journal = journals[tenant] = _TenantJournal()
                journal.bytes = len(tenant)
                self._bytes += len(tenant)
            else:
                journals.move_to_end(tenant)
            entries = journal.entries
            entries.append(entry)
            journal.bytes += cost
            self._bytes += cost
            while entries and (len(entries) > self.size or journal.bytes > self.tenant_bytes):
                self._drop_oldest(tenant, journal)
            while self._bytes > self.max_bytes and journals:
                oldest_tenant, oldest = next(iter(journals.items()))
                self._drop_oldest(oldest_tenant, oldest)

    def _bounded(self, entry: JournalEntry) -> JournalEntry:
        request_truncated = entry.request_bytes > self.max_entry_bytes
        response_truncated = entry.response_bytes > self.max_entry_bytes
        if not (request_truncated or response_truncated):
            return entry
        if request_truncated:
            entry = dataclasses.replace(
                entry, request=None, wire_request=None, request_truncated=True
            )
        if response_truncated:
            entry = dataclasses.replace(
                entry, response=None, wire_response=None, response_truncated=True
            )
        return entry

    def _drop_oldest(self, tenant: str, journal: _TenantJournal) -> None:
        cost = journal.entries.popleft().cost
        journal.bytes -= cost
        self._bytes -= cost
        if not journal.entries:
            self._bytes -= journal.bytes  # what is left is the key
            journal.bytes = 0
            del self._journals[tenant]

    def entries(self, tenant: str) -> list[JournalEntry]:
        """The tenant's entries, oldest first."""
        with self._lock:
            journal = self._journals.get(tenant)
            return list(journal.entries) if journal is not None else []

    def entry(self, tenant: str | None, entry_id: int) -> tuple[str, JournalEntry] | None:
        """The entry numbered ``entry_id`` with its tenant key: the tenant's, or anyone's
        (``None``); ``None`` if it is not (or no longer) kept."""
        with self._lock:
            keys = list(self._journals) if tenant is None else [tenant]
            for key in keys:
                journal = self._journals.get(key)
                if journal is None or not journal.entries:
                    continue
                entries = journal.entries
                if entries[0].id <= entry_id <= entries[-1].id:
                    # Ids grow along a journal: bisect instead of a scan of 10,000.
                    index = bisect.bisect_left(entries, entry_id, key=lambda e: e.id)
                    if index < len(entries) and entries[index].id == entry_id:
                        return key, entries[index]
        return None

    def all_entries(self) -> list[tuple[str, JournalEntry]]:
        """Every tenant's entries as ``(tenant key, entry)``, in time order."""
        with self._lock:
            pairs = [
                (key, entry) for key, journal in self._journals.items() for entry in journal.entries
            ]
        pairs.sort(key=lambda pair: pair[1].time_us)
        return pairs

    def clear(self, tenant: str | None = None) -> None:
        """Forget one tenant's entries, or everyone's (``None``)."""
        with self._lock:
            if tenant is None:
                self._journals.clear()
                self._bytes = 0
            else:
                journal = self._journals.pop(tenant, None)
                if journal is not None:
                    self._bytes -= journal.bytes
