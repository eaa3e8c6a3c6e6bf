"""The proto3 JSON forms a Connect server's parser accepts, as Go's protojson reads them.

A connect-go server (what the Ona API runs) parses JSON with protobuf-go's
``encoding/protojson``. Where the mapping leaves room, this module follows that parser, so
the fake, the document and the contract suite accept and refuse the same forms:

* an integer field also takes a JSON string holding a JSON number whose value is integral
  (``"25"``, ``"1e2"``, ``"2.50e1"``, ``"-0"``), and refuses any other string (``"02"``,
  ``"+2"``, ``" 2"``, ``"0x19"``, ``"1_0"``, ``""``): ``unmarshalInt`` in protobuf-go's
  ``encoding/protojson/decode.go`` reads the string with its own JSON number grammar
  (``internal/encoding/json/decode_number.go``, ``normalizeToIntString``);
* a Timestamp is RFC 3339 with an upper-case ``T`` and ``Z``, seconds 00..59 (no leap
  second), at most nine fractional digits (``time.Parse(time.RFC3339Nano)`` and the checks
  after it in ``well_known_types.go``), an offset up to ``23:59``, in years 0001..9999
  once moved to UTC (the fake checks that last part apart: no pattern can).

Python's ``json_format`` differs at the edges; docs/behaviour.md lists where.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "TIMESTAMP_PATTERN",
    "integer_string_pattern",
    "parse_integer_string",
]

# RFC 8259's number grammar, which protojson's decoder implements byte for byte.
_JSON_NUMBER: Final = re.compile(
    r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?", re.ASCII
)
# protojson refuses a number whose integer digits would exceed this (before any range
# check), so a string like "1e999999999" costs nothing to refuse.
_MAX_DIGITS: Final = 20

TIMESTAMP_PATTERN: Final = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"  # years 0001..9999
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    # Offsets as RFC 3339 (and the date-time format beside this pattern) have them, up to
    # 23:59. Go's time.Parse also takes +24:00 and +00:60 ("as some people do write offsets
    # of 24 hours or 60 minutes", time/format.go), Python's json_format any two digits: a
    # deviation docs/behaviour.md lists.
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
"""The Timestamp strings both official parsers accept (with ``format: date-time``, which
also refuses days a month lacks)."""


def parse_integer_string(text: str) -> int | None:
    """The integer a JSON string holds for protojson, or None when protojson refuses it.

    The value is not range-checked: the field's own rule (int32, ``pageSize`` 0..100)
    decides that.
    """
    match = _JSON_NUMBER.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent = match.groups()
    digits = "" if whole == "0" else whole
    fraction = (fraction or "").rstrip("0")
    shift = int(exponent) if exponent else 0
    if not digits and not fraction:
        return 0
    if shift >= 0:
        if len(fraction) > shift or len(digits) + shift > _MAX_DIGITS:
            return None
        number = digits + fraction + "0" * (shift - len(fraction))
    else:
        point = len(digits) + shift
        if fraction or point < 0 or digits[point:].strip("0"):
            return None
        number = digits[:point]
    value = int(number) if number else 0
    return -value if sign else value


def integer_string_pattern(minimum: int | None = None, maximum: int | None = None) -> str:
    """A pattern of the plain decimal strings (``"25"``, ``"-0"``) of integers in a range.

    It is narrower than what protojson accepts (exponents, fractions of zeros): a schema
    can say which strings are certainly accepted, not every spelling of every value.
    Without a range (or with a negative minimum) any JSON integer's digits match.
    """
    if minimum is None or maximum is None or minimum < 0:
        return r"^-?(0|[1-9][0-9]*)$"
    alternatives = _between(minimum, maximum)
    negative_zero = "-0|" if minimum == 0 else ""
    return "^(" + negative_zero + "|".join(alternatives) + ")$"


def _between(low: int, high: int) -> list[str]:
    """Alternatives matching exactly the decimals low..high (0 <= low <= high)."""
    low_text, high_text = str(low), str(high)
    if len(low_text) < len(high_text):
        split = 10 ** len(low_text) - 1
        return _between(low, split) + _between(split + 1, high)
    return _ranges(low_text, high_text)


def _ranges(low: str, high: str) -> list[str]:
    """Alternatives for low..high, two decimals of the same length."""
    if len(low) == 1:
        return [f"[{low}-{high}]" if low != high else low]
    if low[0] == high[0]:
        return [low[0] + part for part in _ranges(low[1:], high[1:])]
    rest = len(low) - 1
    parts: list[str] = []
    if low[1:] == "0" * rest:
        first = low[0]
    else:
        parts += [low[0] + part for part in _ranges(low[1:], "9" * rest)]
        first = str(int(low[0]) + 1)
    last_full = high[0] if high[1:] == "9" * rest else str(int(high[0]) - 1)
    if int(first) <= int(last_full):
        digit = first if first == last_full else f"[{first}-{last_full}]"
        parts.append(digit + "[0-9]" * rest)
    if high[1:] != "9" * rest:
        parts += [high[0] + part for part in _ranges("0" * rest, high[1:])]
    return parts
