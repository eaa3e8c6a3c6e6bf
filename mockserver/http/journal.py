"""The request journal: what each tenant called and what it got back."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from mockserver.domain import JsonObject, format_timestamp

__all__ = ["DEFAULT_JOURNAL_SIZE", "Journal", "JournalEntry"]

DEFAULT_JOURNAL_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One API call. ``request`` is the body as the client sent it (``None`` if unreadable);
    ``response`` the message answered (proto3 JSON, whatever the codec) or the Connect
    error body ``{"code", "message"}``. Both may be shared with the store: read only."""

    method: str
    request: Any
    code: str | None  # "ok", the Connect error code, or None: no answer (dropped)
    http_status: int | None
    time_us: int  # microseconds since the epoch, from the tenant's clock
    response: Any = None
    fault: JsonObject | None = None  # the injected fault, as Fault.to_json() tells it

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "method": self.method,
            "request": self.request,
            "code": self.code,
            "httpStatus": self.http_status,
            "time": format_timestamp(self.time_us),
            "response": self.response,
        }
        if self.fault is not None:
            out["fault"] = self.fault
        return out


class Journal:
    """A bounded ring buffer of entries per tenant key (the caller's bearer token)."""

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, got {size}")
        self.size = size
        self._lock = threading.Lock()
        self._entries: dict[str, deque[JournalEntry]] = {}

    def record(self, tenant: str, entry: JournalEntry) -> None:
        with self._lock:
            entries = self._entries.get(tenant)
            if entries is None:
                entries = self._entries[tenant] = deque(maxlen=self.size)
            entries.append(entry)

    def entries(self, tenant: str) -> list[JournalEntry]:
        """The tenant's entries, oldest first."""
        with self._lock:
            return list(self._entries.get(tenant, ()))

    def all_entries(self) -> list[tuple[str, JournalEntry]]:
        """Every tenant's entries as ``(tenant key, entry)``, in time order."""
        with self._lock:
            pairs = [(key, entry) for key, entries in self._entries.items() for entry in entries]
        pairs.sort(key=lambda pair: pair[1].time_us)
        return pairs

    def clear(self, tenant: str | None = None) -> None:
        """Forget one tenant's entries, or everyone's (``None``)."""
        with self._lock:
            if tenant is None:
                self._entries.clear()
            else:
                self._entries.pop(tenant, None)
