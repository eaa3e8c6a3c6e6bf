"""Which dialect a proxied call speaks, and its messages as proto3 JSON for the checks.

PLACEHOLDER until the shared codec module (one reader per dialect, under ``openapi/``)
lands: this reads what the checks can judge today, JSON POST with or without gzip. Other
dialects (binary protobuf, Connect GET) are forwarded and recorded as bytes, but not judged.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Decoded", "decode", "dialect_of"]

_MAX_INFLATED = 64 * 1024 * 1024  # a gzip bomb must not take the proxy down


@dataclass(frozen=True)
class Decoded:
    """A call's request and response bodies as proto3 JSON bytes (``None``: unreadable)."""

    dialect: str
    request: bytes | None
    response: bytes | None
    judged: bool  # False: a dialect the checks cannot read yet


def _media(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def dialect_of(http_method: str, request_headers: Mapping[str, str]) -> str:
    """``json``, ``proto``, ``get``; ``+gzip`` when the request body is compressed."""
    if http_method == "GET":
        return "get"
    proto = _media(request_headers) in ("application/proto", "application/protobuf")
    codec = "proto" if proto else "json"
    gzipped = request_headers.get("content-encoding", "").strip().lower() == "gzip"
    return codec + ("+gzip" if gzipped else "")


def _inflate(body: bytes, encoding: str) -> bytes | None:
    if encoding.strip().lower() != "gzip":
        return body
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(body, _MAX_INFLATED)
        return None if inflater.unconsumed_tail else out
    except (zlib.error, gzip.BadGzipFile, EOFError):
        return None


def decode(
    http_method: str,
    request_headers: Mapping[str, str],
    request_body: bytes,
    response_headers: Mapping[str, str],
    response_body: bytes,
) -> Decoded:
    """Read both bodies (header names lower case) as far as this module can."""
    dialect = dialect_of(http_method, request_headers)
    response = _inflate(response_body, response_headers.get("content-encoding", ""))
    if not dialect.startswith("json"):
        # An error body is JSON in every dialect: the recording keeps it.
        readable = _media(response_headers) == "application/json"
        return Decoded(dialect, None, response if readable else None, judged=False)
    request = _inflate(request_body, request_headers.get("content-encoding", ""))
    return Decoded(dialect, request, response, judged=True)
