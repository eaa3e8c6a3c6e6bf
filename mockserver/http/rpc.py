"""The RPC endpoint: one plain ASGI callable per method, the server's hot path.

Everything a request needs (codec table, normalizer, validator) is built before the first
request; per request the endpoint reads the body, decodes, normalizes, validates, calls
the domain (synchronous and quick, so right on the event loop) and encodes the answer.
"""

from __future__ import annotations

import logging
from asyncio import sleep

from mockserver.domain import Backend, Caller, DomainError, JsonObject
from mockserver.domain.timestamps import to_micros
from mockserver.http.auth import Authenticator
from mockserver.http.body import ClientDisconnected, read_body
from mockserver.http.codecs import Codec, select_codec
from mockserver.http.connect import (
    ACCEPT_POST,
    ConnectError,
    Receive,
    Scope,
    Send,
    from_domain,
    send_error,
    send_json,
)
from mockserver.http.journal import Journal, JournalEntry
from mockserver.http.normalize import MessageNormalizer
from mockserver.http.query import merge_query_pagination
from mockserver.http.validation import RequestValidator
from openapi.errors import HTTP_STATUS, Code
from openapi.methods import SERVICE, RpcMethod

__all__ = [
    "RequestHeaders",
    "RpcEndpoint",
    "UnknownMethodEndpoint",
    "negotiate",
    "read_headers",
    "read_message",
]

logger = logging.getLogger("mockserver")


class RequestHeaders:
    """The few request headers the endpoint looks at, read in one pass."""

    __slots__ = ("authorization", "content_length", "content_type")

    def __init__(self) -> None:
        self.content_type: str | None = None
        self.authorization: str | None = None
        self.content_length: int | None = None


def read_headers(scope: Scope) -> RequestHeaders:
    """Extension point: another header the endpoint needs gets a slot and a branch here."""
    headers = RequestHeaders()
    for name, value in scope["headers"]:
        if name == b"content-type":
            headers.content_type = value.decode("latin-1")
        elif name == b"authorization":
            headers.authorization = value.decode("latin-1")
        elif name == b"content-length":
            try:
                headers.content_length = int(value)
            except ValueError:
                headers.content_length = None
    return headers


def _method_not_allowed(method: str) -> ConnectError:
    return ConnectError(
        Code.unimplemented,
        f"HTTP method {method} is not allowed; Connect unary calls use POST",
        http_status=405,
        headers=[("Allow", "POST")],
    )


def negotiate(scope: Scope, headers: RequestHeaders) -> Codec:
    """The codec of a request, or the Connect answer to an HTTP method or content type
    the endpoint does not take (405 with ``Allow``, 415 with ``Accept-Post``).

    Extension point: Connect GET (the codec named by ``?encoding=``) goes here.
    """
    if scope["method"] != "POST":
        raise _method_not_allowed(scope["method"])
    codec = select_codec(headers.content_type)
    if codec is None:
        raise ConnectError(
            Code.unimplemented,
            f"unsupported content type {headers.content_type!r}; use application/json",
            http_status=415,
            headers=[("Accept-Post", ACCEPT_POST)],
        )
    return codec


async def read_message(
    receive: Receive, headers: RequestHeaders, codec: Codec, method: RpcMethod, limit: int
) -> JsonObject:
    """The request message, decoded; at most ``limit`` body bytes are read.

    Extension point: ``Content-Encoding`` (decompress before decoding, and apply the
    limit to the decompressed size too) and Connect GET's ``?message=``.
    """
    body = await read_body(receive, limit, headers.content_length)
    return codec.decode(body, method)


class RpcEndpoint:
    """Serves ``POST /gitpod.v1.EnvironmentAutomationService/<method>``."""

    def __init__(
        self,
        method: RpcMethod,
        backend: Backend,
        *,
        normalizer: MessageNormalizer,
        validator: RequestValidator,
        authenticator: Authenticator,
        journal: Journal,
        max_body_bytes: int,
    ) -> None:
        self.method = method
        self.backend = backend
        self.normalizer = normalizer
        self.validator = validator
        self.authenticator = authenticator
        self.journal = journal
        self.max_body_bytes = max_body_bytes
        self.paginated = "pagination" in normalizer.fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = read_headers(scope)
        caller: Caller | None = None
        request: object = None
        try:
            try:
                caller = self.authenticator.caller(headers.authorization)
                auth_error: ConnectError | None = None
            except ConnectError as error:
                auth_error = error
            codec = negotiate(scope, headers)
            if auth_error is not None:
                raise auth_error
            assert caller is not None
            request = decoded = await read_message(
                receive, headers, codec, self.method, self.max_body_bytes
            )
            message = self.normalizer.normalize(decoded)
            if self.paginated and scope.get("query_string"):
                message = merge_query_pagination(message, scope["query_string"])
            self.validator.check(message)
            delay = self.backend.scenario.latency.get(self.method.name)
            if delay:
                await sleep(delay)
            response = self.backend.call(caller, self.method.name, message)
            encoded = codec.encode(response, self.method)
        except ClientDisconnected:
            return
        except ConnectError as error:
            await self._fail(send, caller, request, error)
            return
        except DomainError as error:
            await self._fail(send, caller, request, from_domain(error))
            return
        except Exception:
            # A bug of the fake; say so instead of letting the server answer with a 500 page.
            logger.exception("unexpected error in %s", self.method.name)
            internal = ConnectError(Code.internal, f"internal error in {self.method.name}")
            await self._fail(send, caller, request, internal)
            return
        self._record(caller, request, "ok", 200)
        await send_json(send, encoded, codec.content_type.encode())

    async def _fail(
        self, send: Send, caller: Caller | None, request: object, error: ConnectError
    ) -> None:
        if caller is not None:
            self._record(caller, request, error.code.name, error.http_status)
        await send_error(send, error)

    def _record(self, caller: Caller, request: object, code: str, status: int) -> None:
        entry = JournalEntry(
            method=self.method.name,
            request=request,
            code=code,
            http_status=status,
            time_us=to_micros(self.backend.clock.now()),
        )
        self.journal.record(caller.token, entry)


class UnknownMethodEndpoint:
    """Anything else under the service prefix: Connect's answer to an unknown procedure."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        error = ConnectError(
            Code.unimplemented,
            f"{SERVICE}/{name} is not a method of this service",
            http_status=HTTP_STATUS[Code.not_found],
        )
        await send_error(send, error)
