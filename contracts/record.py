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
two callers' traffic apart. The fake reads this format too (``mockserver.recording``),
without importing this module: the format is the contract between them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ANONYMOUS",
    "FORMAT",
    "Entry",
    "Recorder",
    "RecordingError",
    "read_recording",
]

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


def now_rfc3339() -> str:
    """The wall time, as the recording writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Recorder:
    """Appends entries to a JSON Lines file, one flushed line per exchange.

    Lines are appended (an earlier recording in the same file is kept) and flushed as they
    are written, so that a proxy killed mid-run loses nothing it had answered.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._seq = 0
        self._aliases: dict[str, str] = {}

    def caller(self, key: str | None) -> str:
        """The alias of a caller (``key``: a hash of its token; ``None``: no token)."""
        if key is None:
            return ANONYMOUS
        with self._lock:
            alias = self._aliases.get(key)
            if alias is None:
                alias = self._aliases[key] = f"caller-{len(self._aliases) + 1}"
            return alias

    def write(self, entry_fields: dict[str, Any]) -> Entry:
        """Number the entry, write its line and return it."""
        with self._lock:
            self._seq += 1
            entry = Entry(seq=self._seq, **entry_fields)
            line = json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":"))
            self._file.write(line + "\n")
            self._file.flush()
        return entry

    def close(self) -> None:
        with self._lock:
            self._file.close()


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
