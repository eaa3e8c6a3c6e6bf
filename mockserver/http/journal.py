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
    code: str  # "ok" or the Connect error code
    http_status: int
    time_us: int  # microseconds since the epoch, from the server's clock
    response: Any = None

    def to_json(self) -> JsonObject:
        return {
            "method": self.method,
            "request": self.request,
            "code": self.code,
            "httpStatus": self.http_status,
            "time": format_timestamp(self.time_us),
            "response": self.response,
        }


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

    def clear(self, tenant: str | None = None) -> None:
        """Forget one tenant's entries, or everyone's (``None``)."""
        with self._lock:
            if tenant is None:
                self._entries.clear()
            else:
                self._entries.pop(tenant, None)
