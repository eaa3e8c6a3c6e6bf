"""The JSON codec. Decoding: orjson's fast path reads exactly what the strict
standard-library path reads, and refuses what it refuses, with the standard library's
message. Encoding: a list page written around cached task JSON is the plain encoding."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.domain.testing import ENV_A, World
from mockserver.http import codecs
from mockserver.http.render_cache import DEFAULT_MAX_CACHE_BYTES, set_max_cache_bytes
from openapi.methods import METHODS_BY_NAME


def strict_stdlib(body: bytes) -> Any:
    """The decoder before the fast path existed: the reference to compare with."""
    return codecs._DECODER.decode(body.decode("utf-8"))


def same(a: Any, b: Any) -> bool:
    """Equal with types: 1 and 1.0 differ, as do -0.0 and 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    return bool(a == b)


numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_fast_path_reads_what_the_standard_library_reads(value: Any) -> None:
    body = json.dumps(value).encode()
    assert same(codecs.loads(body), strict_stdlib(body))


@pytest.mark.parametrize(
    "text",
    [
        "18446744073709551616",  # past 64 bits: orjson would give a float
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1" * 400,
    ],
)
def test_integers_beyond_64_bits_stay_exact(text: str) -> None:
    assert codecs.loads(f'{{"a":{text}}}'.encode()) == {"a": int(text)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a":1e400}', "number 1e400 is out of range"),
        (b'{"a":NaN}', "NaN is not JSON"),
        (b'{"a":-Infinity}', "-Infinity is not JSON"),
        (b'{"a":"\\ud800"}', "a string holds an unpaired UTF-16 surrogate"),
        (b'{"a":1', "Expecting ',' delimiter"),
        (b'{"a":"\xff"}', "'utf-8' codec can't decode byte 0xff"),
        (b"[" * 101 + b"]" * 101, "nested more than 100 levels deep"),
    ],
)
def test_refusals_keep_the_standard_library_message(body: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        codecs.loads(body)
    assert message in str(caught.value)


def test_nesting_at_the_limit_is_read() -> None:
    body = b"[" * 100 + b"]" * 100
    value = codecs.loads(body)
    for _ in range(99):
        value = value[0]
    assert value == []


def test_a_list_page_written_from_cached_task_json_is_the_plain_encoding() -> None:
    """Pages share tasks; each task's JSON is kept by identity and reused, and the page
    is byte for byte what encoding the whole dict gives, however often it is written,
    also once the cache has forgotten a task (it keeps a bounded number of bytes)."""
    world = World()
    for number in range(5):
        world.create(f"task-{number}", environment_id=ENV_A)
    list_tasks = METHODS_BY_NAME["ListTasks"]
    codec = codecs.JsonCodec()
    set_max_cache_bytes(800)  # about three tasks
    try:
        for size in (5, 2, 5, 1, 5):
            page = world.call("ListTasks", {"pagination": {"pageSize": size}})
            for _ in range(2):
                assert codec.encode(page, list_tasks) == orjson.dumps(page)
        assert 0 < codec._fragments.bytes <= 800
        assert len(codec._fragments) < 5
    finally:
        set_max_cache_bytes(DEFAULT_MAX_CACHE_BYTES)
    empty = world.call("ListTasks", {"filter": {"references": ["none"]}})
    assert codec.encode(empty, list_tasks) == orjson.dumps(empty) == b'{"pagination":{}}'
