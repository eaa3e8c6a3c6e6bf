"""A proxied request's dialect, and its message read as proto3 JSON.

Every reader here is the shared one of :mod:`openapi.dialects` (gzip, binary protobuf by
the official message classes, the Connect GET query), and a dialect is the suite's own
:class:`~contracts.dialects.Dialect`; this module only says which applies to a request the
proxy did not write, and never raises: a message that cannot be read is ``None``. (The
answer is read by :class:`~contracts.exchange.Exchange`, as for the suite's own calls.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.dialects import Dialect
from openapi import METHODS_BY_NAME
from openapi.dialects import (
    BinaryError,
    GetQueryError,
    GzipError,
    from_binary,
    gunzip,
    parse_get_query,
)

__all__ = ["MAX_INFLATED_BYTES", "Call", "inflated", "media_type", "read_call"]

# A message inflating past this is not read (the bytes are still forwarded untouched).
MAX_INFLATED_BYTES = 64 * 1024 * 1024
_PROTO_TYPES = frozenset({"application/proto", "application/protobuf"})


@dataclass(frozen=True)
class Call:
    """How a request travelled, and its message as proto3 JSON (``None``: unreadable)."""

    dialect: Dialect
    message: Any


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def inflated(body: bytes, encoding: str) -> bytes | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        return None
    try:
        return gunzip(body, MAX_INFLATED_BYTES)
    except GzipError:
        return None


def _message(operation: str, codec: str, data: bytes | None) -> Any:
    if data is None:
        return None
    if codec == "json":
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None
    method = METHODS_BY_NAME[operation]
    try:
        return from_binary(method.request, data)
    except BinaryError:
        return None


def read_call(
    operation: str, http_method: str, query: bytes, headers: Mapping[str, str], body: bytes
) -> Call:
    """The dialect of a request to ``operation`` (lower-case header names) and its message."""
    if http_method == "GET":
        try:
            parsed = parse_get_query(query)
        except GetQueryError:
            return Call(Dialect("get", "json"), None)
        codec = "proto" if parsed.encoding == "proto" else "json"
        data = inflated(parsed.message, parsed.compression)
        return Call(Dialect("get", codec), _message(operation, codec, data))
    codec = "proto" if media_type(headers) in _PROTO_TYPES else "json"
    encoding = headers.get("content-encoding", "")
    family = "gzip" if encoding.strip().lower() == "gzip" else codec
    data = inflated(body, encoding)
    return Call(Dialect(family, codec), _message(operation, codec, data))
