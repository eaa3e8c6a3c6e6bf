"""The shared dialect codecs: binary, gzip and Connect GET, each read back by its reader."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openapi.dialects import (
    BinaryError,
    GetQueryError,
    GzipError,
    build_get_query,
    from_binary,
    gunzip,
    gzip_body,
    parse_get_query,
    request_class,
    response_class,
    to_binary,
)
from openapi.methods import METHODS_BY_NAME
from openapi.models import ListTasksRequest, ListTasksResponse

_LIST = {
    "filter": {"environmentIds": ["0b4c2a8e-1111-4c1d-9e6f-2f1f0a3c4d5e"]},
    "pagination": {"pageSize": 5},
}


def test_dialects_binary_round_trip_keeps_the_proto3_json() -> None:
    data = to_binary(ListTasksRequest, _LIST)
    assert request_class(METHODS_BY_NAME["ListTasks"]).FromString(data).pagination.page_size == 5
    assert from_binary(ListTasksRequest, data) == _LIST


def test_dialects_binary_refuses_a_wrong_type_and_garbage() -> None:
    with pytest.raises(BinaryError, match="ListTasksRequest"):
        to_binary(ListTasksRequest, {"pagination": {"pageSize": "many"}})
    with pytest.raises(BinaryError, match="ListTasksResponse"):
        from_binary(ListTasksResponse, b"\x0a\xff")


def test_dialects_response_class_is_the_official_one() -> None:
    assert response_class(METHODS_BY_NAME["GetTask"]).DESCRIPTOR.full_name == (
        "gitpod.v1.GetTaskResponse"
    )


def test_dialects_gzip_round_trip_and_refusals() -> None:
    assert gunzip(gzip_body(b"x" * 100), 100) == b"x" * 100
    with pytest.raises(GzipError) as too_large:
        gunzip(gzip.compress(b"x" * 101), 100)
    assert too_large.value.too_large
    with pytest.raises(GzipError) as corrupt:
        gunzip(b'{"not": "gzip"}', 100)
    assert not corrupt.value.too_large


@pytest.mark.parametrize(
    ("encoding", "message", "compression"),
    [
        ("json", b'{"id": "a&b=c d+e/\xc3\xa9"}', None),
        ("proto", b"\x0a\x03abc\xff\x00", None),
        ("proto", gzip_body(b"\x0a\x03abc"), "gzip"),
        ("json", gzip_body(b"{}"), "gzip"),
    ],
)
def test_dialects_get_query_reads_back_what_it_wrote(
    encoding: str, message: bytes, compression: str | None
) -> None:
    query = build_get_query(encoding, message, compression=compression)
    assert query.endswith("connect=v1")
    assert ("base64=1" in query) == (encoding == "proto" or compression is not None)
    parsed = parse_get_query(query.encode("ascii"))
    assert (parsed.encoding, parsed.message) == (encoding, message)
    assert parsed.compression == (compression or "identity")


def test_dialects_get_query_refuses_a_missing_message() -> None:
    with pytest.raises(GetQueryError, match="'message' parameter is required"):
        parse_get_query(b"encoding=json")


@given(message=st.binary(max_size=200), encoding=st.sampled_from(["json", "proto"]))
def test_dialects_get_query_round_trips_any_bytes(message: bytes, encoding: str) -> None:
    for use_base64 in (True, False):
        query = build_get_query(encoding, message, use_base64=use_base64)
        assert parse_get_query(query.encode("ascii")).message == message
