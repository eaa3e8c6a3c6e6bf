"""Injected time sources: wall time for serving, a manual clock for tests.

Execution phases are derived from the clock at read time, so the clock is the only thing
that makes executions progress.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {when!r}")
    return when.astimezone(UTC)


class RealClock:
    """Wall time that never goes backwards.

    It reads the wall clock once and then adds the monotonic clock's progress, so an NTP
    step cannot make a derived phase or ``statusVersion`` regress.
    """

    def __init__(self) -> None:
        self._wall = datetime.now(UTC)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._wall + timedelta(seconds=time.monotonic() - self._mono)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _as_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``; ``ValueError`` if negative."""
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds})")
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Move to ``when``; ``ValueError`` if that is in the past."""
        target = _as_utc(when)
        with self._lock:
            if target < self._now:
                raise ValueError(
                    f"the manual clock only moves forward: {target.isoformat()} is before "
                    f"{self._now.isoformat()}"
                )
            self._now = target

    def restore(self, when: datetime) -> None:
        """Set the time unconditionally, even backwards.

        Only a whole-state import uses it: that replaces every object whose phase depends
        on the time, so nothing observable goes backwards.
        """
        target = _as_utc(when)
        with self._lock:
            self._now = target
