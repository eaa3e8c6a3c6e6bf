"""Clock, ids, timing, caller, timestamps and phases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.domain import (
    EXECUTION_TRANSITIONS,
    STEP_TRANSITIONS,
    TERMINAL,
    Caller,
    InvalidArgument,
    ManualClock,
    Phase,
    RandomIds,
    RealClock,
    SequentialIds,
    Timing,
    can_reach,
    can_transition,
    format_timestamp,
    parse_timestamp,
)
from mockserver.domain.phases import parse_phase
from mockserver.domain.timestamps import MAX_MICROS, to_micros


def test_manual_clock_starts_at_2026() -> None:
    assert ManualClock().now() == datetime(2026, 1, 1, tzinfo=UTC)


def test_manual_clock_advance_moves_forward() -> None:
    clock = ManualClock()
    clock.advance(1.5)
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)


def test_manual_clock_advance_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        ManualClock().advance(-1)


def test_manual_clock_set_only_moves_forward() -> None:
    clock = ManualClock()
    later = datetime(2026, 6, 1, tzinfo=UTC)
    clock.set(later)
    assert clock.now() == later
    with pytest.raises(ValueError, match="only moves forward"):
        clock.set(datetime(2026, 1, 1, tzinfo=UTC))


def test_manual_clock_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


def test_real_clock_is_utc_and_monotonic() -> None:
    clock = RealClock()
    first = clock.now()
    second = clock.now()
    assert first.tzinfo is not None
    assert second >= first
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)


def test_sequential_ids_are_deterministic_uuids() -> None:
    ids = SequentialIds()
    assert [ids.new_id() for _ in range(2)] == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert uuid.UUID(SequentialIds(255).new_id()).hex.endswith("0ff")


def test_random_ids_are_uuid4() -> None:
    first, second = RandomIds().new_id(), RandomIds().new_id()
    assert first != second
    for _ in range(200):
        text = RandomIds().new_id()
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower case, 8-4-4-4-12


def test_one_random_id_generator_hands_out_distinct_uuid4_across_batches() -> None:
    ids = RandomIds()
    made = [ids.new_id() for _ in range(3 * RandomIds.BATCH + 7)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


@pytest.mark.parametrize("field", ["pending_delay", "step_duration"])
def test_timing_rejects_negative_values(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Timing(**{field: -1.0})


def test_caller_subject_is_a_stable_uuid_per_token() -> None:
    subject = Caller("token-1").subject
    assert subject == Caller("token-1").subject
    assert subject["principal"] == "PRINCIPAL_USER"
    assert uuid.UUID(subject["id"]).version == 5
    assert Caller("token-2").subject["id"] != subject["id"]


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (datetime(2026, 11, 29, tzinfo=UTC), "2026-11-29T00:00:00Z"),
        (datetime(2026, 11, 29, 0, 0, 1, 500000, tzinfo=UTC), "2026-11-29T00:00:01.500Z"),
        (datetime(2026, 11, 29, 0, 0, 1, 123456, tzinfo=UTC), "2026-11-29T00:00:01.123456Z"),
    ],
)
def test_timestamp_format_uses_0_3_or_6_fraction_digits(when: datetime, text: str) -> None:
    assert format_timestamp(to_micros(when)) == text
    assert parse_timestamp(text) == to_micros(when)


def test_timestamp_parse_accepts_offsets_and_nanoseconds() -> None:
    assert parse_timestamp("2026-01-01T01:00:00+01:00") == parse_timestamp("2026-01-01T00:00:00Z")
    assert format_timestamp(parse_timestamp("2026-01-01T00:00:00.123456789Z")).endswith(".123456Z")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.integers(min_value=to_micros(datetime(1, 1, 1, tzinfo=UTC)), max_value=MAX_MICROS)
        | st.sampled_from([1_767_225_600_000_000, 1_767_225_600_123_000, 1_767_225_601_000_001]),
        min_size=1,
        max_size=8,
    )
)
def test_timestamps_round_trip_in_any_order(instants: list[int]) -> None:
    """format_timestamp and parse_timestamp keep their last instant and second: a cache
    hit or miss in any order gives the same text and value as a fresh computation."""
    for micros in instants:
        text = format_timestamp(micros)
        seconds, fraction = divmod(micros, 1_000_000)
        fresh = (datetime(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
        if fraction:
            digits = f"{fraction:06d}"
            fresh += "." + (digits[:3] if digits.endswith("000") else digits)
        assert text == fresh + "Z"
        assert parse_timestamp(text) == micros


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-01-01T00:00:00",
        "yesterday",
        "2026-01-01T00:00:00.Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00.12aZ",
        "2026-01-01T00:00:00.\u0663\u0663\u0663Z",
        "2026-01-01T00:00:00.123",
    ],
)
def test_timestamp_parse_rejects_non_rfc3339(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_phases_terminal_set_is_never_left() -> None:
    assert {Phase.TASK_EXECUTION_PHASE_SUCCEEDED, Phase.TASK_EXECUTION_PHASE_FAILED} < TERMINAL
    for before, _after in EXECUTION_TRANSITIONS | STEP_TRANSITIONS:
        assert before not in TERMINAL
    assert not can_transition(
        Phase.TASK_EXECUTION_PHASE_STOPPED, Phase.TASK_EXECUTION_PHASE_RUNNING
    )
    assert can_transition(Phase.TASK_EXECUTION_PHASE_PENDING, Phase.TASK_EXECUTION_PHASE_RUNNING)
    assert not can_transition(
        Phase.TASK_EXECUTION_PHASE_PENDING, Phase.TASK_EXECUTION_PHASE_RUNNING, step=True
    )


def test_phases_reachability_spans_several_transitions() -> None:
    pending, succeeded = Phase.TASK_EXECUTION_PHASE_PENDING, Phase.TASK_EXECUTION_PHASE_SUCCEEDED
    assert can_reach(pending, succeeded)
    assert not can_transition(pending, succeeded)
    assert not can_reach(succeeded, pending)
    assert can_reach(succeeded, succeeded)


def test_phases_parse_names_and_numbers() -> None:
    assert parse_phase("TASK_EXECUTION_PHASE_RUNNING", "p") is Phase.TASK_EXECUTION_PHASE_RUNNING
    assert parse_phase(4, "p") is Phase.TASK_EXECUTION_PHASE_FAILED
    for bad in ("RUNNING", 9, True, None):
        with pytest.raises(InvalidArgument, match="p: "):
            parse_phase(bad, "p")
