"""The recording format: one proxied exchange per JSON line (``docs/proxy.md``).

A line of format 1::

    {"format": 1, "seq": 1, "time": "2026-01-02T03:04:05.678901Z", "caller": "caller-1",
     "path": "/gitpod.v1.EnvironmentAutomationService/CreateTask", "httpMethod": "POST",
     "method": "CreateTask", "dialect": "json", "request": {...}, "status": 200,
     "code": "ok", "response": {...}, "ms": 1.25}

``method`` is the RPC's name, or ``null`` for a path outside the API (the fake's
``/_mock/*`` control routes), which is kept so that a replay can repeat it. ``request`` and
``response`` are the messages as proto3 JSON whatever the dialect (an error response is its
Connect error body; ``null`` when a body is empty or not a message). ``caller`` is an alias
given in order of first appearance: a token never reaches a recording, and the alias keeps
two callers' traffic apart.

It lives here, below both, because both read it: the validating proxy writes it and
replay reads it (``contracts``), and the fake seeds a tenant from it (``mockserver``),
which may not import the suite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ANONYMOUS", "FORMAT", "Entry", "RecordingError", "read_recording"]

FORMAT = 1
ANONYMOUS = "anonymous"  # the caller of a request without a bearer token


class RecordingError(ValueError):
    """A recording cannot be read: the message names the line and the reason."""


@dataclass(frozen=True)
class Entry:
    """One recorded exchange."""

    seq: int
    time: str
    caller: str
    path: str
    http_method: str
    method: str | None
    dialect: str
    request: Any
    status: int
    code: str | None
    response: Any
    ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "time": self.time,
            "caller": self.caller,
            "path": self.path,
            "httpMethod": self.http_method,
            "method": self.method,
            "dialect": self.dialect,
            "request": self.request,
            "status": self.status,
            "code": self.code,
            "response": self.response,
            "ms": self.ms,
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> Entry:
        if not isinstance(data, dict):
            raise RecordingError(f"{where}: expected a JSON object")
        if data.get("format") != FORMAT:
            raise RecordingError(
                f"{where}: format {data.get('format')!r} (this version reads format {FORMAT})"
            )
        try:
            return cls(
                seq=int(data["seq"]),
                time=str(data["time"]),
                caller=str(data["caller"]),
                path=str(data["path"]),
                http_method=str(data["httpMethod"]),
                method=None if data["method"] is None else str(data["method"]),
                dialect=str(data["dialect"]),
                request=data.get("request"),
                status=int(data["status"]),
                code=None if data.get("code") is None else str(data["code"]),
                response=data.get("response"),
                ms=float(data.get("ms", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RecordingError(f"{where}: missing or malformed field {error}") from None


def read_recording(path: str | Path) -> Iterator[Entry]:
    """The entries of a recording, in order; :class:`RecordingError` on a bad line."""
    try:
        handle = Path(path).open(encoding="utf-8")  # noqa: SIM115 (closed below; OSError named)
    except OSError as error:
        raise RecordingError(f"{path}: {error.strerror or error}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except ValueError as error:
                raise RecordingError(f"{where}: not JSON ({error})") from None
            yield Entry.from_json(data, where)
