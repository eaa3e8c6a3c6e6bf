"""The proto3 JSON rules shared by the fake, the document and the contract suite."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openapi.proto3json import TIMESTAMP_PATTERN, integer_string_pattern, parse_integer_string


@pytest.mark.parametrize(
    ("text", "value"),
    [("25", 25), ("-7", -7), ("-0", 0), ("0", 0), ("1e2", 100), ("1E+2", 100),
     ("2.50e1", 25), ("100.0", 100), ("1000e-3", 1), ("0.5e1", 5), ("0e99999", 0),
     ("1e19", 10**19)],
)  # fmt: skip
def test_parse_integer_string_reads_what_protojson_reads(text: str, value: int) -> None:
    assert parse_integer_string(text) == value


@pytest.mark.parametrize(
    "text",
    ["02", "+2", " 2", "2 ", "1_0", "0x19", "", "25.5", "1.", ".5", "1e", "1e+", "1e20",
     "1e-1", "١٢", "NaN", "Infinity", "1e99999999999", "--1"],
)  # fmt: skip
def test_parse_integer_string_refuses_what_protojson_refuses(text: str) -> None:
    assert parse_integer_string(text) is None


@given(minimum=st.integers(0, 300), span=st.integers(0, 1200))
def test_integer_string_pattern_matches_exactly_the_range(minimum: int, span: int) -> None:
    maximum = minimum + span
    pattern = re.compile(integer_string_pattern(minimum, maximum))
    for number in range(0, maximum + 50):
        assert bool(pattern.match(str(number))) is (minimum <= number <= maximum), number
        assert parse_integer_string(str(number)) == number
    assert bool(pattern.match("-0")) is (minimum == 0)
    assert not pattern.match("0" + str(maximum))


@pytest.mark.parametrize(
    ("text", "valid"),
    [("2026-12-31T23:59:59Z", True), ("2026-12-31T23:59:59.123456789Z", True),
     ("2026-12-31T23:59:59+23:59", True), ("0001-01-01T00:00:00Z", True),
     ("2026-12-31T23:59:60Z", False), ("2026-12-31T23:59:59.1234567891Z", False),
     ("2026-12-31t23:59:59Z", False), ("2026-12-31T23:59:59z", False),
     ("2026-12-31T24:00:00Z", False), ("2026-12-31T23:59:59.Z", False),
     ("0000-01-01T00:00:00Z", False), ("2026-12-31T23:59:59+24:00", False),
     ("2026-12-31T23:59:59-00:60", False), ("2026-12-31T23:59:59+25:00", False),
     ("2026-12-31T23:59:59+00:61", False), ("2026-12-31T23:59:59,5Z", False),
     ("2026-12-31T23:59:59", False)],
)  # fmt: skip
def test_timestamp_pattern(text: str, valid: bool) -> None:
    assert bool(re.match(TIMESTAMP_PATTERN, text)) is valid
