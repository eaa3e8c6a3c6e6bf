"""gzip, the compression every Connect implementation speaks: one writer, one bounded reader.

The reader is bounded because its input comes from the other side: the fake reads request
bodies with it, the contract suite response bodies.
"""

from __future__ import annotations

import gzip
import zlib

__all__ = ["GZIP", "MAX_GZIP_MEMBERS", "GzipError", "gunzip", "gzip_body"]

GZIP = "gzip"
# Clients write one gzip member; concatenated members are legal but nobody needs many, and
# each costs a decompressor and a copy of the rest of the body (209,000 empty members once
# took 27 s to refuse).
MAX_GZIP_MEMBERS = 16


class GzipError(ValueError):
    """Data that is not gzip (``too_large`` False), or inflates past the limit (True)."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` decompressed (up to :data:`MAX_GZIP_MEMBERS` gzip members), never more than
    ``limit`` bytes.

    :class:`GzipError` for corrupt or truncated data, too many members, or a result over
    ``limit`` (then ``too_large``). The work is bounded by the input size, ``limit`` and
    the member count.
    """
    parts: list[bytes] = []
    size = 0
    members = 0
    while data:
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise GzipError(f"more than {MAX_GZIP_MEMBERS} gzip members")
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = data
        while True:
            try:
                chunk = decompressor.decompress(pending, limit - size + 1)
            except zlib.error as error:
                raise GzipError(str(error)) from None
            size += len(chunk)
            if size > limit:
                raise GzipError(f"decompresses to more than {limit} bytes", too_large=True)
            parts.append(chunk)
            pending = decompressor.unconsumed_tail
            if decompressor.eof or not (pending or chunk):
                break
        if not decompressor.eof:
            raise GzipError("the gzip stream is truncated")
        data = decompressor.unused_data
    return b"".join(parts)


def gzip_body(body: bytes) -> bytes:
    """``body`` gzipped (``mtime`` 0, so equal bodies give equal bytes)."""
    return gzip.compress(body, compresslevel=6, mtime=0)
