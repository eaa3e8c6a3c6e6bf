"""Reading a request body from ASGI ``receive``, never more than a limit."""

from __future__ import annotations

from mockserver.http.connect import ConnectError, Receive
from openapi.errors import Code

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ClientDisconnected", "read_body"]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class ClientDisconnected(Exception):
    """The client went away before the body was complete; nobody is left to answer."""


def _too_large(limit: int) -> ConnectError:
    return ConnectError(
        Code.resource_exhausted, f"request body is larger than the limit of {limit} bytes"
    )


async def read_body(receive: Receive, limit: int, content_length: int | None = None) -> bytes:
    """The whole body; ``ConnectError(resource_exhausted)`` as soon as it exceeds ``limit``.

    A declared ``Content-Length`` over the limit is refused before reading anything.
    """
    if content_length is not None and content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
