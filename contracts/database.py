"""What a campaign remembers between runs under ``--database DIR``.

``DIR/examples``: Hypothesis' example database (failing cases, shrunk, per suite and
operation), which the next campaign's search replays before generating anything new.
``DIR/last-report.json``: the previous campaign's report, whose failures (each with its
exact request) are replayed first; the new report then says which are still failing
and which are fixed. Without ``--database`` nothing is written anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CampaignDatabase", "compare"]

_LAST_REPORT = "last-report.json"


class CampaignDatabase:
    """The directory a campaign reads its predecessor from and leaves its report in."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @property
    def examples(self) -> Path:
        return self.directory / "examples"

    def previous_failures(self) -> list[dict[str, Any]]:
        """The failures of the last campaign's report; [] for a first campaign.

        A report that cannot be read (hand-edited, half-written) is treated as none:
        the campaign then finds its failures again instead of stopping.
        """
        try:
            data = json.loads((self.directory / _LAST_REPORT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        failures = data.get("failures") if isinstance(data, dict) else None
        if not isinstance(failures, list):
            return []
        return [f for f in failures if isinstance(f, dict) and isinstance(f.get("signature"), str)]

    def save(self, report: dict[str, Any]) -> None:
        """Keep ``report`` as the last one, written whole or not at all."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f"{_LAST_REPORT}.partial"
        partial.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        partial.replace(self.directory / _LAST_REPORT)


def compare(previous: list[dict[str, Any]], seen: set[str]) -> dict[str, list[str]]:
    """Earlier signatures this campaign met again (``still_failing``) and did not (``fixed``)."""
    earlier = sorted({str(failure["signature"]) for failure in previous})
    return {
        "still_failing": [sig for sig in earlier if sig in seen],
        "fixed": [sig for sig in earlier if sig not in seen],
    }
