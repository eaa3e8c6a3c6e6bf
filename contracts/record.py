"""Writing a recording (``contracts proxy --record``): the format is
:mod:`openapi.recording`, shared with replay and with the fake that seeds from it."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from openapi.recording import ANONYMOUS, Entry

__all__ = ["Recorder", "now_rfc3339"]


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
