"""Connect protocol constants, the error type, and the one place errors are rendered."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.responses import Response

from mockserver.domain import DomainError
from openapi.errors import HTTP_STATUS, Code

__all__ = [
    "ACCEPT_POST",
    "JSON_CONTENT_TYPE",
    "ConnectError",
    "Receive",
    "Scope",
    "Send",
    "error_response",
    "from_domain",
    "render_error",
    "send_error",
    "send_json",
]

logger = logging.getLogger("mockserver")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

JSON_CONTENT_TYPE = "application/json"
# What a unary POST may carry; sent with a 415 so a client can tell what to use instead.
ACCEPT_POST = "application/json, application/proto"


class ConnectError(Exception):
    """A failed request, as plain data: a Connect code, a message, and protocol extras.

    ``http_status`` overrides the code's status for protocol-level failures that Connect
    answers with a plain HTTP status (405, 415, an unknown procedure's 404).
    """

    def __init__(
        self,
        code: Code,
        message: str = "",
        *,
        http_status: int | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = HTTP_STATUS[code] if http_status is None else http_status
        self.headers = tuple(headers)

    def __repr__(self) -> str:
        return f"ConnectError({self.code.name}, {self.message!r}, http_status={self.http_status})"


def from_domain(error: DomainError) -> ConnectError:
    """The Connect error for a domain failure; an unknown code string becomes ``internal``."""
    code = Code.__members__.get(error.code)
    if code is None:
        logger.error("domain raised an unknown error code %r: %s", error.code, error.message)
        code = Code.internal
    return ConnectError(code, error.message)


def render_error(error: ConnectError) -> tuple[int, RawHeaders, bytes]:
    """Status, headers and body of an error response: THE rendering of every error."""
    payload: dict[str, str] = {"code": error.code.name}
    if error.message:
        payload["message"] = error.message
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers: RawHeaders = [
        (b"content-type", JSON_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers
    )
    return error.http_status, headers, body


async def send_error(send: Send, error: ConnectError) -> None:
    """Send ``error`` on a raw ASGI channel."""
    status, headers, body = render_error(error)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_response(error: ConnectError) -> Response:
    """``error`` as a Starlette response (for routes served through Starlette)."""
    status, headers, body = render_error(error)
    response = Response(body, status_code=status)
    response.raw_headers = headers
    return response


async def send_json(
    send: Send,
    body: bytes,
    content_type: bytes = b"application/json",
    extra_headers: RawHeaders | None = None,
) -> None:
    """Send a 200 response whose body is already encoded (in any codec, despite the name)."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
