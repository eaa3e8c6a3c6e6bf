"""Connection-level guards: header and idle timeouts, a bound on connections, and a bound
on what slow readers make the server hold.

uvicorn arms its keep-alive timeout only once a response is complete, so a connection
that never sends a request, or stops half-way through its headers, stays open for ever:
3,000 of them were all still open after 70 s, and under a 1,024 open-file limit 1,100
locked every other client out. Its ``limit_concurrency`` answers a plain-text 503, which
no Connect client can read. And a response is written whole into the transport, so a
client that stops reading pins it (ten such readers of a large page added ~1 GB).

:func:`guarded_protocol` makes a subclass of uvicorn's httptools protocol with:

- a header timeout, from the connection's opening (or the first byte of a later
  request) to the end of that request's headers: then the connection is closed;
- the idle timeout between requests, uvicorn's own ``timeout_keep_alive``;
- a bound on open connections: one past it is served nothing but a Connect
  ``unavailable`` error (503, JSON, ``Connection: close``), and gets a short header
  timeout, so it gives its file descriptor back soon;
- a write timeout: a connection whose response has waited in its write buffer (the
  client not reading) that long is aborted, and the response freed with it;
- a bound on the bytes waiting in the buffers of all stalled connections (those whose
  writes have been paused for a second or more): past it the one holding most is
  aborted.

``unavailable``, not ``resource_exhausted``: the server is briefly full, which is no
fault or quota of the caller's, and Connect clients treat ``unavailable`` as the one code
worth retrying.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http.connect import ConnectError, Receive, Scope, Send, send_error
from openapi.errors import Code

__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "ConnectionLimits",
    "default_max_connections",
    "guarded_protocol",
]

_LOG = logging.getLogger("mockserver.connections")
# File descriptors kept for everything but client connections (the listening socket,
# the --state database and its journal, log files), and for accepting connections past
# the bound just long enough to answer them.
_RESERVED_FILES = 64
_DEFAULT_MAX_CONNECTIONS = 1_000
# How long a connection past the bound may take to send its request's headers.
_OVERLOADED_HEADER_TIMEOUT = 1.0
# How long a paused write must last before its connection counts as stalled: a client
# reading a large answer at speed pauses the writes for moments all the time.
_STALL_GRACE = 1.0


def default_max_connections() -> int:
    """1,000 (a parallel test run shares one fake: dozens of workers, each with a pool
    of a few connections), or less when the open-file limit would not allow them."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _DEFAULT_MAX_CONNECTIONS
    return max(1, min(_DEFAULT_MAX_CONNECTIONS, soft - _RESERVED_FILES))


@dataclass(frozen=True)
class ConnectionLimits:
    """The guards' settings (seconds and bytes); see the module docstring."""

    header_timeout: float = 10.0
    idle_timeout: float = 5.0  # uvicorn's timeout_keep_alive, its default
    max_connections: int = _DEFAULT_MAX_CONNECTIONS
    write_timeout: float = 30.0
    max_buffered_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("header_timeout", "idle_timeout", "write_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be more than 0 seconds, got {value!r}")
        for name in ("max_connections", "max_buffered_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


# The defaults, with the connection bound this process's open-file limit allows.
DEFAULT_CONNECTION_LIMITS = ConnectionLimits(max_connections=default_max_connections())


def guarded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the guards of ``limits`` (pass it as ``http``)."""

    class Guarded(_GuardedProtocol):
        settings = limits
        stalled: ClassVar[set[_GuardedProtocol]] = set()

    return Guarded


class _GuardedProtocol(HttpToolsProtocol):
    settings: ClassVar[ConnectionLimits]
    # Connections whose transport asked to pause writing: their clients are not reading.
    stalled: ClassVar[set[_GuardedProtocol]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._header_timeout = self.settings.header_timeout

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.settings.max_connections
        if len(self.connections) > limit:
            # Served the Connect error whatever it asks, and soon gone.
            self.app = _overloaded(limit)
            self._header_timeout = min(self._header_timeout, _OVERLOADED_HEADER_TIMEOUT)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # a later request on a kept-alive connection
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._cancel_write_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        self._cancel_write_timer()
        loop = self.loop
        self._write_timer = loop.call_later(
            self.settings.write_timeout, self._abort, "--write-timeout"
        )
        self._stall_timer = loop.call_later(_STALL_GRACE, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_write_timer()

    # -- helpers ---------------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout, self._close_unheard)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_write_timer(self) -> None:
        """The client read (or left): no longer stalled, no timeout pending."""
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self.stalled.discard(self)

    def _stalled(self) -> None:
        self._stall_timer = None
        self.stalled.add(self)
        self._bound_stalled_bytes()

    def _close_unheard(self) -> None:
        """No complete request head in time: nothing to answer, so just close."""
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _abort(self, why: str) -> None:
        """Drop the connection and what waits in its buffer (close would send it first)."""
        self._cancel_write_timer()
        waiting = self.transport.get_write_buffer_size()
        _LOG.warning(
            "disconnected %s, which was not reading its response (%d bytes waiting; %s)",
            f"{self.client[0]}:{self.client[1]}" if self.client else "a client",
            waiting,
            why,
        )
        self.transport.abort()

    def _bound_stalled_bytes(self) -> None:
        """Abort the stalled connections holding most until the rest fit the bound."""
        limit = self.settings.max_buffered_bytes
        sizes = {protocol: protocol.transport.get_write_buffer_size() for protocol in self.stalled}
        total = sum(sizes.values())
        for protocol in sorted(sizes, key=sizes.__getitem__, reverse=True):
            if total <= limit:
                break
            total -= sizes[protocol]
            protocol._abort("--max-buffered-bytes")


def _overloaded(limit: int) -> Any:
    error = ConnectError(
        Code.unavailable,
        f"the fake holds {limit} connections, its limit (--max-connections); retry shortly",
        headers=[("Connection", "close"), ("Retry-After", "1")],
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send_error(send, error)

    return app
