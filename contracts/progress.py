"""A campaign's progress while it runs: elapsed and remaining time, cases per second,
distinct failures so far. One line rewritten in place on a terminal; a line every
``every`` seconds otherwise (CI logs keep each)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressMeter"]


class ProgressMeter:
    """A daemon thread that reports ``status()`` (cases, distinct failures) as it goes."""

    def __init__(
        self,
        duration: float,
        status: Callable[[], tuple[int, int]],
        stream: TextIO | None = None,
        every: float | None = None,
    ) -> None:
        self._duration = duration
        self._status = status
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._every = every if every is not None else (1.0 if self._tty else 30.0)
        self._started = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="contracts-progress", daemon=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        cases, failures = self._status()
        rate = cases / elapsed if elapsed > 0 else 0.0
        remaining = max(0.0, self._duration - elapsed)
        return (
            f"campaign: {elapsed:.0f} s elapsed, {remaining:.0f} s left, {cases} cases "
            f"({rate:.1f}/s), {failures} distinct failure(s)"
        )

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self._write(self.line())

    def _write(self, text: str) -> None:
        if self._tty:
            self._stream.write("\r\033[K" + text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def __enter__(self) -> ProgressMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        if self._tty:
            self._stream.write("\n")
        self._write(self.line())
