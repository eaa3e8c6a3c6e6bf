"""RFC 3339 timestamps in the proto3-JSON form, over integer microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mockserver.domain.types import Micros

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # isoformat() without an offset, for formatting
_ONE_MICRO = timedelta(microseconds=1)
# The last instant RFC 3339 can write (9999-12-31T23:59:59.999999Z).
MAX_MICROS = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH) // _ONE_MICRO
# The first instant a google.protobuf.Timestamp may hold (0001-01-01T00:00:00Z).
MIN_MICROS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_MICRO


def in_timestamp_range(micros: Micros) -> bool:
    """Whether an instant fits a ``google.protobuf.Timestamp`` (years 0001..9999 in UTC);
    both official parsers refuse ``0001-01-01T00:00:00+01:00``, a year-0 instant."""
    return MIN_MICROS <= micros <= MAX_MICROS


def to_micros(when: datetime) -> Micros:
    """Microseconds since the epoch of a timezone-aware datetime."""
    if when.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {when!r}")
    return (when - _EPOCH) // _ONE_MICRO


def from_micros(micros: Micros) -> datetime:
    """The UTC datetime of an instant in microseconds."""
    return _EPOCH + timedelta(microseconds=micros)


def seconds_to_micros(seconds: float) -> Micros:
    """A duration in seconds, rounded to whole microseconds."""
    return round(seconds * 1_000_000)


def micros_to_seconds(micros: Micros) -> float:
    """A duration in microseconds as (float) seconds; inverse of :func:`seconds_to_micros`."""
    return micros / 1_000_000


_last_seconds: tuple[int, str] = (-1, "")
_last_written: tuple[Micros, str] = (-1, "")


def format_timestamp(micros: Micros) -> str:
    """``2026-11-29T00:00:00Z``; fractional digits only when non-zero (3 or 6 of them).

    The same shape protobuf's ``json_format`` writes (it would use 9 digits for nanoseconds,
    which the fake never produces). An instant past year 9999 (a long scenario on a clock
    far in the future) is written as :data:`MAX_MICROS`: RFC 3339 has no later year.
    """
    global _last_seconds, _last_written
    # Instants come in runs (a manual clock stands still, so every task created meanwhile
    # shares one string) or at least within one second (a real clock creates many things
    # a second), and the date arithmetic is most of the cost. Each cache is one tuple,
    # swapped whole, so another thread never pairs one instant with another's text.
    written = _last_written
    if written[0] == micros:
        return written[1]
    seconds, fraction = divmod(min(micros, MAX_MICROS), 1_000_000)
    last = _last_seconds
    if last[0] == seconds:
        text = last[1]
    else:
        text = (_NAIVE_EPOCH + timedelta(seconds=seconds)).isoformat()
        _last_seconds = (seconds, text)
    if fraction == 0:
        result = text + "Z"
    elif fraction % 1000 == 0:
        result = f"{text}.{fraction // 1000:03d}Z"
    else:
        result = f"{text}.{fraction:06d}Z"
    _last_written = (micros, result)
    return result


def parse_timestamp(text: str) -> Micros:
    """Parse an RFC 3339 timestamp with an offset (``Z`` or ``+hh:mm``); ``ValueError`` if not.

    Digits beyond microseconds are truncated; more than nine (past nanoseconds) are
    refused, as protobuf's parsers refuse them, and so is a leap second (``23:59:60``).
    """
    canonical = _parse_canonical(text)
    if canonical is not None:
        return canonical
    if "T" not in text and "t" not in text:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    head, dot, tail = text.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        if digits == 0 or digits > 9:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        # datetime.fromisoformat accepts up to 6 digits only on some versions; cut to 6.
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {text!r}")
    return to_micros(parsed)


_last_parsed: tuple[str, Micros] = ("", 0)
_DIGITS = frozenset("0123456789")


def _parse_canonical(text: str) -> Micros | None:
    """The fast path for what :func:`format_timestamp` writes (a ``--state`` file holds
    nothing else): ``YYYY-MM-DDTHH:MM:SS``, then ``Z``, ``.fffZ`` or ``.ffffffZ``. The
    date and time are worked out once per second (the last one is kept). ``None`` for
    anything else, and for anything odd, which the general path then reads or refuses.
    """
    global _last_parsed
    size = len(text)
    if not ((size == 20 or size == 24 or size == 27) and text[-1] == "Z" and text[10] == "T"):
        return None
    head = text[:19]
    last = _last_parsed
    if last[0] == head:
        seconds_us = last[1]
    else:
        if not (head[4] == head[7] == "-" and head[13] == head[16] == ":"):
            return None  # fromisoformat reads other shapes (weeks, ordinals): not ours
        try:
            seconds_us = to_micros(datetime.fromisoformat(head).replace(tzinfo=UTC))
        except ValueError:
            return None
        _last_parsed = (head, seconds_us)
    if size == 20:
        return seconds_us
    fraction = text[20:-1]
    if text[19] != "." or not _DIGITS.issuperset(fraction):
        return None
    return seconds_us + int(fraction) * (1000 if size == 24 else 1)
