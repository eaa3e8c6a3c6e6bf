"""Connect unary GET: the request message in the URL query.

``GET /<service>/<method>?encoding=json|proto&message=...[&base64=1][&compression=gzip]
[&connect=v1]`` for methods without side effects. ``message`` is the percent-encoded
message, or its base64url form (padding optional) with ``base64=1``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes

from mockserver.http.connect import ConnectError
from openapi.errors import Code

__all__ = ["GetQuery", "parse_get_query"]


@dataclass(frozen=True, slots=True)
class GetQuery:
    """A Connect GET's query, checked: the codec name, message bytes and compression."""

    encoding: str
    message: bytes
    compression: str


def _invalid(message: str) -> ConnectError:
    return ConnectError(Code.invalid_argument, f"Connect GET: {message}")


def _params(query_string: bytes) -> dict[str, bytes]:
    """Raw (still percent-encoded) values by decoded name; the first of a repeated name."""
    params: dict[str, bytes] = {}
    for pair in query_string.split(b"&"):
        if not pair:
            continue
        raw_name, _, value = pair.partition(b"=")
        name = unquote(raw_name.replace(b"+", b" ").decode("latin-1"))
        params.setdefault(name, value)
    return params


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    return unquote_to_bytes(value.replace(b"+", b" ")).decode("latin-1")


def parse_get_query(query_string: bytes) -> GetQuery:
    """The GET request's parameters; ``ConnectError(invalid_argument)`` if malformed."""
    params = _params(query_string)
    connect = _text(params.get("connect"))
    if connect is not None and connect != "v1":
        raise _invalid(f"connect must be 'v1', got {connect!r}")
    encoding = _text(params.get("encoding"))
    if not encoding:
        raise _invalid("the 'encoding' parameter is required (json or proto)")
    raw_message = params.get("message")
    if raw_message is None:
        raise _invalid("the 'message' parameter is required")
    use_base64 = _text(params.get("base64"))
    if use_base64 not in (None, "", "0", "1"):
        raise _invalid(f"base64 must be '1' or '0', got {use_base64!r}")
    message = unquote_to_bytes(raw_message.replace(b"+", b" "))
    if use_base64 == "1":
        stripped = message.rstrip(b"=")
        try:
            message = b64decode(stripped + b"=" * (-len(stripped) % 4), b"-_", validate=True)
        except (binascii.Error, ValueError) as error:
            raise _invalid(f"message is not valid base64url: {error}") from None
    return GetQuery(encoding, message, _text(params.get("compression")) or "identity")
