"""The execution ledger: universal invariants over successive sightings."""

from __future__ import annotations

from typing import Any

from contracts.exchange import Exchange
from contracts.failures import Findings
from contracts.invariants import ExecutionLedger, parse_timestamp
from tests.support.exchanges import json_exchange

_ID = "5f0a3c43-7a53-4b0f-9a55-1c1a0c6f1f01"


def sighting(
    phase: str, version: str, at: float, metadata: dict[str, Any] | None = None
) -> Exchange:
    body = {
        "taskExecution": {
            "id": _ID,
            "metadata": metadata if metadata is not None else {},
            "status": {"phase": f"TASK_EXECUTION_PHASE_{phase}", "statusVersion": version},
        }
    }
    return json_exchange("GetTaskExecution", body, at=at, took=0.01)


_DONE = {
    "createdAt": "2024-01-01T00:00:00Z",
    "startedAt": "2024-01-01T00:00:00.5Z",  # once started, every later read shows it
    "completedAt": "2024-01-01T00:00:01.123456789Z",
}


def checks_after(*exchanges: Exchange) -> set[str]:
    findings = Findings()
    ledger = ExecutionLedger(findings)
    for item in exchanges:
        ledger("lifecycle", item)
    return findings.failed_checks()


def test_invariants_a_normal_life_passes() -> None:
    assert not checks_after(
        sighting("PENDING", "1", 0.0),
        sighting("RUNNING", "2", 1.0, {"startedAt": "2024-01-01T00:00:00.5Z"}),
        sighting("SUCCEEDED", "3", 2.0, _DONE),
        sighting("SUCCEEDED", "3", 3.0, _DONE),
    )


def test_invariants_terminal_phase_is_final() -> None:
    assert "terminal_phase_is_final" in checks_after(
        sighting("SUCCEEDED", "3", 0.0, _DONE), sighting("RUNNING", "4", 1.0)
    )


def test_invariants_status_version_never_decreases() -> None:
    assert "status_version_monotonic" in checks_after(
        sighting("PENDING", "10", 0.0), sighting("PENDING", "9", 1.0)
    )


def test_invariants_concurrent_reads_are_not_ordered() -> None:
    # The second request was sent before the first answer arrived: no order between them.
    assert not checks_after(sighting("PENDING", "10", 0.0), sighting("PENDING", "9", 0.005))


def test_invariants_completed_at_iff_terminal_and_timestamps_ordered() -> None:
    assert "completed_at_iff_terminal" in checks_after(sighting("STOPPED", "2", 0.0))
    assert "completed_at_iff_terminal" in checks_after(sighting("RUNNING", "2", 0.0, _DONE))
    backwards = {"createdAt": "2024-01-02T00:00:00Z", "startedAt": "2024-01-01T00:00:00Z"}
    assert "execution_timestamps_ordered" in checks_after(sighting("RUNNING", "2", 0.0, backwards))


def test_invariants_parse_timestamp_takes_nanoseconds_and_offsets() -> None:
    assert parse_timestamp("2024-01-01T00:00:00.123456789Z") is not None
    assert parse_timestamp("2024-01-01T01:00:00+01:00") == parse_timestamp("2024-01-01T00:00:00Z")
    assert parse_timestamp("yesterday") is None
