"""Connect unary GET: the request message in the URL query, built and parsed.

``GET /<service>/<method>?encoding=json|proto&message=...[&base64=1][&compression=gzip]
[&connect=v1]`` for methods without side effects. ``message`` is the percent-encoded
message, or its base64url form (padding optional) with ``base64=1``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode, urlsafe_b64encode
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_to_bytes

__all__ = ["GetQuery", "GetQueryError", "build_get_query", "parse_get_query"]


class GetQueryError(ValueError):
    """A malformed Connect GET query; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class GetQuery:
    """A Connect GET's query, checked: the codec name, message bytes and compression."""

    encoding: str
    message: bytes
    compression: str


def build_get_query(
    encoding: str, message: bytes, *, use_base64: bool | None = None, compression: str | None = None
) -> str:
    """The query string (without ``?``) that sends ``message`` (already encoded, and
    compressed when ``compression`` names one) with Connect GET.

    ``use_base64`` defaults to what the protocol needs: binary messages, compressed or
    not, travel base64url-encoded; a JSON one percent-encoded, as a human would write it.
    """
    if use_base64 is None:
        use_base64 = encoding != "json" or compression is not None
    if use_base64:
        value = urlsafe_b64encode(message).rstrip(b"=").decode("ascii")
    else:
        value = quote(message, safe="")
    parts = [f"encoding={quote(encoding, safe='')}", f"message={value}"]
    if use_base64:
        parts.append("base64=1")
    if compression is not None:
        parts.append(f"compression={quote(compression, safe='')}")
    parts.append("connect=v1")
    return "&".join(parts)


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
    """The GET request's parameters; :class:`GetQueryError` if malformed."""
    params = _params(query_string)
    connect = _text(params.get("connect"))
    if connect is not None and connect != "v1":
        raise GetQueryError(f"connect must be 'v1', got {connect!r}")
    encoding = _text(params.get("encoding"))
    if not encoding:
        raise GetQueryError("the 'encoding' parameter is required (json or proto)")
    raw_message = params.get("message")
    if raw_message is None:
        raise GetQueryError("the 'message' parameter is required")
    use_base64 = _text(params.get("base64"))
    if use_base64 not in (None, "", "0", "1"):
        raise GetQueryError(f"base64 must be '1' or '0', got {use_base64!r}")
    message = unquote_to_bytes(raw_message.replace(b"+", b" "))
    if use_base64 == "1":
        stripped = message.rstrip(b"=")
        try:
            message = b64decode(stripped + b"=" * (-len(stripped) % 4), b"-_", validate=True)
        except (binascii.Error, ValueError) as error:
            raise GetQueryError(f"message is not valid base64url: {error}") from None
    return GetQuery(encoding, message, _text(params.get("compression")) or "identity")
