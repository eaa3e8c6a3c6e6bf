"""The one-line request log: method, Connect code, HTTP status and milliseconds per call."""

from __future__ import annotations

import sys
from typing import TextIO

from mockserver.domain import Fault
from mockserver.http.rpc import RequestLog

__all__ = ["stream_request_log"]


def stream_request_log(stream: TextIO | None = None) -> RequestLog:
    """A request log that writes to ``stream`` (default: stdout at the time of the call)."""

    def log(
        method: str, code: str | None, status: int | None, ms: float, fault: Fault | None
    ) -> None:
        out = stream if stream is not None else sys.stdout
        line = f"{method} {code or 'dropped'} {status or '-'} {ms:.1f}ms"
        if fault is not None:
            line += f" (fault: {fault.kind}, rule {fault.rule})"
        out.write(line + "\n")
        out.flush()

    return log
