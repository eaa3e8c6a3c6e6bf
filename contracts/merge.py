"""``python -m contracts merge``: the reports of many shards as one report of the same shape.

A campaign split over processes or machines (by seed, by ``--only``, by pytest-xdist
worker) leaves one JSON report per shard. Merged, each failure signature appears once:
counts add up, the earliest first occurrence and a shrunk reproduction win, and an
earlier failure is fixed only if no shard still meets it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contracts.config import version
from contracts.report import EXIT_FAILED, EXIT_NO_VERDICT, EXIT_OK

__all__ = ["MergeError", "merge_files", "merge_reports"]


class MergeError(ValueError):
    """A file that is not a contracts JSON report; the message names it."""


def _read(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise MergeError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("failures"), list):
        raise MergeError(f'{path} is not a contracts report (no "failures" list)')
    return data


def _better(kept: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Of two entries of one signature, the one to show: shrunk first, then the earlier."""
    key = (not kept.get("shrunk", False), kept.get("first_seen", 0.0))
    if (not other.get("shrunk", False), other.get("first_seen", 0.0)) < key:
        return other
    return kept


def _add(total: dict[str, int], part: object) -> None:
    if isinstance(part, dict):
        for name, count in part.items():
            if isinstance(count, int):
                total[str(name)] = total.get(str(name), 0) + count


def merge_reports(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One report from several: failures deduplicated by signature, figures summed."""
    failures: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    cases: dict[str, int] = {}
    dialect_requests: dict[str, int] = {}
    transient: dict[str, int] = {}
    still: set[str] = set()
    fixed: set[str] = set()
    shards: list[dict[str, Any]] = []
    requests = 0
    verdicts: list[int] = []
    for report in reports:
        shards.append(
            {k: report.get(k) for k in ("seed", "suites", "operations", "seconds", "rounds")}
        )
        for failure in report["failures"]:
            signature = str(failure["signature"])
            counts[signature] = counts.get(signature, 0) + int(failure.get("count", 1))
            kept = failures.get(signature)
            failures[signature] = failure if kept is None else _better(kept, failure)
        _add(cases, report.get("cases"))
        _add(dialect_requests, report.get("dialect_requests"))
        _add(transient, report.get("transient"))
        requests += int(report.get("requests") or 0)
        previous = report.get("previous") or {}
        still.update(previous.get("still_failing") or [])
        fixed.update(previous.get("fixed") or [])
        verdicts.append(int(report.get("exit_status", EXIT_OK)))
    merged = [{**failure, "count": counts[sig]} for sig, failure in sorted(failures.items())]
    if merged:
        status = EXIT_FAILED
    elif any(verdict not in (EXIT_OK, EXIT_FAILED) for verdict in verdicts):
        status = EXIT_NO_VERDICT
    else:
        status = EXIT_OK
    # Fixed in one shard means not met there; another shard meeting it says it is not.
    still |= fixed & set(failures)
    return {
        "version": version(),
        "shards": shards,
        "cases": cases,
        "requests": requests,
        "dialect_requests": dialect_requests,
        "transient": transient,
        "exit_status": status,
        "failures": merged,
        "previous": {"still_failing": sorted(still), "fixed": sorted(fixed - still)},
    }


def merge_files(paths: Iterable[str | Path]) -> dict[str, Any]:
    """:func:`merge_reports` of the JSON reports at ``paths``; :class:`MergeError` if one
    cannot be read."""
    return merge_reports([_read(path) for path in paths])
