"""Journal entries as short readable text, for people reading a failed test.

The control API answers entries as JSON (``GET /_mock/requests``, ``POST
/_mock/requests/find``); this turns them into one line each, and near misses into what
failed, for :meth:`mockserver.testing.MockClient.verify` and the pytest plugin's report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["JOURNAL_LINES", "describe_query", "entry_line", "journal_text", "near_misses_text"]

_REQUEST_CHARS = 160  # a request longer than this is cut: a line per call stays readable
JOURNAL_LINES = 50  # the newest entries a journal section shows


def _compact(value: Any, limit: int = _REQUEST_CHARS) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_query(method: str | None, code: str | None, match: Mapping[str, str] | None) -> str:
    """``CreateTask with code ok and metadata.reference ~ /^build$/``, or ``any call``."""
    what = method if method not in (None, "*") else "any call"
    parts = []
    if code is not None:
        parts.append(f"code {code}")
    parts += [f"{path} ~ /{pattern}/" for path, pattern in (match or {}).items()]
    return what + (" with " + " and ".join(parts) if parts else "")


def entry_line(entry: Mapping[str, Any]) -> str:
    """``00:00:03.5  CreateTask -> ok  {"environmentId":...}``: one call."""
    # The time of day is enough to tell calls apart in one test's journal.
    clock = str(entry.get("time", "")).partition("T")[2].rstrip("Z") or "?"
    code = entry.get("code") or "(dropped)"
    fault = " [fault]" if entry.get("fault") else ""
    tenant = f"  tenant {entry['tenant']}" if entry.get("tenant") else ""
    if entry.get("requestTruncated"):
        request = f"(request of {entry.get('requestBytes')} bytes, too large to keep)"
    else:
        request = _compact(entry.get("request"))
    return f"{clock}  {entry.get('method')} -> {code}{fault}  {request}{tenant}"


def near_misses_text(near_misses: Sequence[Mapping[str, Any]]) -> str:
    """Each near miss: its line, then each failed part with the value it had."""
    lines = []
    for number, near in enumerate(near_misses, 1):
        lines.append(f"  {number}. {entry_line(near['request'])}")
        for miss in near.get("failed", []):
            part = miss.get("part")
            expected = miss.get("expected")
            shown = f"/{expected}/" if str(part).startswith("match.") else expected
            value = miss.get("actual")
            if value is None:
                actual = "absent"
            elif part in ("method", "code"):
                actual = str(value)
            else:
                actual = _compact(value, 80)
            lines.append(f"     {part}: expected {shown}, was {actual}")
    return "\n".join(lines)


def journal_text(entries: Sequence[Mapping[str, Any]], limit: int = JOURNAL_LINES) -> str:
    """The newest ``limit`` entries, one line each, oldest first."""
    if not entries:
        return "(no calls)"
    shown = entries[-limit:]
    lines = []
    if len(entries) > len(shown):
        lines.append(f"({len(entries) - len(shown)} earlier calls not shown)")
    width = len(str(len(entries)))
    first = len(entries) - len(shown) + 1
    lines += [
        f"{number:>{width}}  {entry_line(entry)}" for number, entry in enumerate(shown, first)
    ]
    return "\n".join(lines)
