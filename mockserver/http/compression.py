"""Connect message compression: ``gzip`` and ``identity``, nothing else.

Requests say how their body is compressed (``Content-Encoding``, or a Connect GET's
``compression=``); a response is gzipped when the client accepts it and the body is large
enough for compression to pay off.
"""

from __future__ import annotations

import functools

from mockserver.http.connect import ConnectError
from openapi.dialects.compression import GZIP, MAX_GZIP_MEMBERS, GzipError, gzip_body
from openapi.dialects.compression import gunzip as _gunzip
from openapi.errors import Code

__all__ = [
    "ACCEPT_ENCODING",
    "GZIP",
    "GZIP_MIN_BYTES",
    "MAX_GZIP_MEMBERS",
    "accepts_gzip",
    "gunzip",
    "gzip_body",
    "request_compression",
]

# What the server can decompress; sent with a 501 so the client knows what to use.
ACCEPT_ENCODING = "gzip, identity"
# Below this, gzip's header and CPU time cost more than the bytes it saves.
GZIP_MIN_BYTES = 1024


def request_compression(name: str) -> str | None:
    """``"gzip"`` or ``None`` (identity) for a request's compression name.

    ``ConnectError(unimplemented)`` (501, with ``Accept-Encoding``) for any other name.
    """
    normalized = name.strip().lower()
    if normalized == GZIP:
        return GZIP
    if normalized in ("identity", ""):
        return None
    raise ConnectError(
        Code.unimplemented,
        f"unsupported compression {name!r}; supported: {ACCEPT_ENCODING}",
        headers=[("Accept-Encoding", ACCEPT_ENCODING)],
    )


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` decompressed by the shared bounded reader, never more than ``limit`` bytes.

    ``ConnectError(resource_exhausted)`` when the result would exceed ``limit``;
    ``ConnectError(invalid_argument)`` for corrupt or truncated data or too many members.
    """
    try:
        return _gunzip(data, limit)
    except GzipError as error:
        if error.too_large:
            raise ConnectError(
                Code.resource_exhausted,
                f"decompressed request body is larger than the limit of {limit} bytes",
            ) from None
        raise ConnectError(
            Code.invalid_argument, f"request body is not valid gzip: {error}"
        ) from None


@functools.lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*``, ``q`` > 0)."""
    wildcard: bool | None = None
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if name == GZIP:
            return _quality(params) > 0
        if name == "*":
            wildcard = _quality(params) > 0
    return bool(wildcard)


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0
