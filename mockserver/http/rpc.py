"""The RPC endpoint: one plain ASGI callable per method, the server's hot path.

Everything a request needs (codec table, normalizer, validator) is built before the first
request; per request the endpoint reads the body, decodes, normalizes, validates, calls
the domain (synchronous and quick, so right on the event loop) and encodes the answer.

The Connect unary protocol in full: POST with ``application/json`` or ``application/proto``,
GET for methods without side effects, gzip both ways, ``Connect-Protocol-Version`` and
``Connect-Timeout-Ms``. Whatever the codec, the decoded message is the same proto3-JSON
dict, so validation and the domain never know which one a client spoke.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time
from asyncio import sleep, to_thread
from collections.abc import Callable, Sequence
from typing import Final

from mockserver.domain import Backend, Caller, DomainError, Fault, JsonObject
from mockserver.http.auth import Authenticator
from mockserver.http.body import ClientDisconnected, read_body
from mockserver.http.codecs import CODECS, CODECS_BY_NAME, Codec, select_codec
from mockserver.http.compression import (
    GZIP,
    GZIP_MIN_BYTES,
    accepts_gzip,
    gunzip,
    gzip_body,
    request_compression,
)
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
from mockserver.http.connect_get import GetQuery, parse_get_query
from mockserver.http.journal import Journal, JournalEntry, pack_headers
from mockserver.http.normalize import MessageNormalizer
from mockserver.http.query import merge_query_pagination
from mockserver.http.validation import RequestValidator
from openapi.errors import HTTP_STATUS, Code
from openapi.methods import SERVICE, RpcMethod

__all__ = [
    "INLINE_DECODE_BYTES",
    "RequestHeaders",
    "RpcEndpoint",
    "UnknownMethodEndpoint",
    "negotiate",
    "parse_timeout",
    "read_headers",
    "read_message",
]

logger = logging.getLogger("mockserver")

# Where the application puts the server's own ``send`` when middleware wraps the one an
# endpoint gets, so a dropped-connection fault can reach the connection (without
# middleware, the endpoint's ``send`` is the server's own); see mockserver.app.
RAW_SEND_KEY: Final = "mockserver.raw_send"
# HTTP statuses a client retries after ``Retry-After`` seconds (RFC 9110 §10.2.3).
_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})

# (method, code or None, HTTP status or None, milliseconds, fault or None)
RequestLog = Callable[[str, str | None, int | None, float, Fault | None], None]


class RequestHeaders:
    """The few request headers the endpoint looks at, read in one pass.

    :func:`negotiate` fills in what it derives from them: the request's codec and
    compression (``None``: identity), its deadline in seconds, and a Connect GET's query;
    :func:`read_message` the message's bytes.
    """

    __slots__ = (
        "accept_encoding",
        "authorization",
        "body",
        "body_bytes",
        "codec",
        "compression",
        "content_encoding",
        "content_length",
        "content_type",
        "get_query",
        "host",
        "protocol_version",
        "raw",
        "timeout",
        "timeout_ms",
    )

    def __init__(self) -> None:
        self.content_type: str | None = None
        self.authorization: str | None = None
        self.content_length: int | None = None
        self.content_encoding: str | None = None
        self.accept_encoding: str | None = None
        self.protocol_version: str | None = None
        self.timeout_ms: str | None = None
        self.compression: str | None = None
        self.timeout: float | None = None
        self.get_query: GetQuery | None = None
        self.codec: Codec | None = None
        self.body_bytes = 0  # the message's size once read (decompressed), for the journal
        self.body: bytes | None = None  # the message (decompressed) once decoded
        self.host: str | None = None
        self.raw: Sequence[tuple[bytes, bytes]] = ()  # all of them, for the journal


def read_headers(scope: Scope) -> RequestHeaders:
    """Extension point: another header the endpoint needs gets a slot and a branch here."""
    headers = RequestHeaders()
    headers.raw = scope["headers"]
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
        elif name == b"accept-encoding":
            headers.accept_encoding = value.decode("latin-1")
        elif name == b"connect-protocol-version":
            headers.protocol_version = value.decode("latin-1")
        elif name == b"content-encoding":
            headers.content_encoding = value.decode("latin-1")
        elif name == b"connect-timeout-ms":
            headers.timeout_ms = value.decode("latin-1")
        elif name == b"host":
            headers.host = value.decode("latin-1")
    return headers


# A Host header that is safe to build a URL from: a name, IPv4 or [IPv6], optional port.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def origin_of(host: str | None, scheme: str) -> str | None:
    """``scheme://host`` for a well-formed ``Host`` header, else ``None``."""
    if host is None or _HOST.fullmatch(host) is None:
        return None
    return f"{scheme}://{host}"


# Messages up to this size are decoded right on the event loop (well under a millisecond);
# larger ones, up to --max-body-bytes, on a worker thread.
INLINE_DECODE_BYTES: Final = 64 * 1024

_JSON_CODEC: Final = CODECS["application/json"]

_ALLOW_POST: Final = "POST"
_ALLOW_GET_POST: Final = "GET, POST"


def _method_not_allowed(http_method: str, allow: str) -> ConnectError:
    return ConnectError(
        Code.unimplemented,
        f"HTTP method {http_method} is not allowed; this method takes {allow}",
        http_status=405,
        headers=[("Allow", allow)],
    )


def _unsupported_media_type(what: str) -> ConnectError:
    return ConnectError(
        Code.unimplemented,
        f"unsupported {what}; use application/json or application/proto",
        http_status=415,
        headers=[("Accept-Post", ACCEPT_POST)],
    )


def parse_timeout(value: str) -> float:
    """A ``Connect-Timeout-Ms`` value in seconds: 1 to 10 ASCII digits, greater than 0.

    ``ConnectError(invalid_argument)`` for anything else.
    """
    if not (0 < len(value) <= 10 and value.isascii() and value.isdigit()) or int(value) == 0:
        raise ConnectError(
            Code.invalid_argument,
            f"Connect-Timeout-Ms must be a positive integer of at most 10 digits, got {value!r}",
        )
    return int(value) / 1000


def negotiate(scope: Scope, headers: RequestHeaders, method: RpcMethod) -> Codec:
    """The codec of a request, or the Connect answer to a request the endpoint does not
    take: 405 with ``Allow`` for the wrong HTTP method, 400 for a bad protocol version,
    timeout or GET query, 415 with ``Accept-Post`` for an unknown codec, 501 with
    ``Accept-Encoding`` for an unknown compression.

    A POST's codec comes from ``Content-Type``, a GET's (methods without side effects
    only) from ``?encoding=``.
    """
    http_method = scope["method"]
    get_query: GetQuery | None = None
    if http_method != "POST":
        if http_method != "GET" or method.has_side_effects:
            allow = _ALLOW_POST if method.has_side_effects else _ALLOW_GET_POST
            raise _method_not_allowed(http_method, allow)
        get_query = parse_get_query(scope.get("query_string", b""))
    if headers.protocol_version is not None and headers.protocol_version != "1":
        raise ConnectError(
            Code.invalid_argument,
            f"Connect-Protocol-Version must be 1, got {headers.protocol_version!r}",
        )
    if headers.timeout_ms is not None:
        headers.timeout = parse_timeout(headers.timeout_ms)
    if get_query is None:
        codec = select_codec(headers.content_type)
        if codec is None:
            raise _unsupported_media_type(f"content type {headers.content_type!r}")
        if headers.content_encoding is not None:
            headers.compression = request_compression(headers.content_encoding)
    else:
        found = CODECS_BY_NAME.get(get_query.encoding)
        if found is None:
            raise _unsupported_media_type(f"encoding {get_query.encoding!r}")
        codec = found
        headers.compression = request_compression(get_query.compression)
        headers.get_query = get_query
    headers.codec = codec
    return codec


async def read_message(
    receive: Receive, headers: RequestHeaders, codec: Codec, method: RpcMethod, limit: int
) -> JsonObject:
    """The request message, decoded: from the body of a POST, from a GET's ``?message=``.

    At most ``limit`` bytes are read, and a compressed message may decompress to at most
    ``limit`` bytes too (``resource_exhausted`` beyond either). A large message is
    decompressed and decoded on a worker thread, so that it cannot hold up other clients.
    """
    get_query = headers.get_query
    if get_query is None:
        body = await read_body(receive, limit, headers.content_length)
    else:
        body = get_query.message
        if len(body) > limit:
            raise ConnectError(
                Code.resource_exhausted,
                f"request message is larger than the limit of {limit} bytes",
            )
    if headers.compression == GZIP:
        if len(body) > INLINE_DECODE_BYTES:
            body = await to_thread(gunzip, body, limit)
        else:
            body = gunzip(body, limit)
    headers.body_bytes = len(body)
    if len(body) > INLINE_DECODE_BYTES:
        message = await to_thread(codec.decode, body, method)
    else:
        message = codec.decode(body, method)
    headers.body = body
    return message


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
        request_log: RequestLog | None = None,
        origin_from_host: bool = False,
    ) -> None:
        self.method = method
        self.backend = backend
        self.normalizer = normalizer
        self.validator = validator
        self.authenticator = authenticator
        self.journal = journal
        self.max_body_bytes = max_body_bytes
        self.request_log = request_log
        self.origin_from_host = origin_from_host
        self.paginated = "pagination" in normalizer.fields
        # What reads a request back from the journal, one per codec (shared by entries).
        self._request_readers: dict[Codec, Callable[[bytes], JsonObject]] = {
            codec: functools.partial(codec.decode, method=method) for codec in CODECS.values()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter_ns()
        headers = read_headers(scope)
        caller: Caller | None = None
        fault: Fault | None = None
        try:
            try:
                caller = self.authenticator.caller(headers.authorization)
                auth_error: ConnectError | None = None
            except ConnectError as error:
                auth_error = error
            codec = negotiate(scope, headers, self.method)
            if auth_error is not None:
                raise auth_error
            assert caller is not None
            if self.origin_from_host:
                origin = origin_of(headers.host, scope.get("scheme", "http"))
                if origin is not None:
                    caller = dataclasses.replace(caller, origin=origin)
            decoded = await read_message(receive, headers, codec, self.method, self.max_body_bytes)
            message = self.normalizer.normalize(decoded)
            if self.paginated and headers.get_query is None and scope.get("query_string"):
                message = merge_query_pagination(message, scope["query_string"])
            scenario = self.backend.scenario_for(caller)
            delay = scenario.latency.get(self.method.name, 0.0)
            if scenario.faults:
                # Before validation: an outage does not look at the request first.
                fault = self.backend.fault(caller, self.method.name, message)
                if fault is not None:
                    if fault.kind != "delay":
                        await self._wait(fault.delay, headers.timeout)
                        if fault.kind == "drop":
                            self._finish(scope, caller, headers, None, None, fault, started)
                            await self._drop(scope, send)
                            return
                        raise self._fault_error(fault)
                    delay += fault.delay
            self.validator.check(message)
            if delay:
                await self._wait(delay, headers.timeout)
            response = self.backend.call(caller, self.method.name, message)
            encoded = codec.encode(response, self.method)
            response_bytes = len(encoded)
            wire_response = encoded if codec is _JSON_CODEC else None
            extra_headers: list[tuple[bytes, bytes]] | None = None
            if (
                len(encoded) >= GZIP_MIN_BYTES
                and headers.accept_encoding is not None
                and accepts_gzip(headers.accept_encoding)
            ):
                encoded = gzip_body(encoded)
                extra_headers = [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        except ClientDisconnected:
            return
        except ConnectError as error:
            await self._fail(scope, send, caller, headers, error, fault, started)
            return
        except DomainError as error:
            await self._fail(scope, send, caller, headers, from_domain(error), fault, started)
            return
        except Exception:
            # A bug of the fake; say so instead of letting the server answer with a 500 page.
            logger.exception("unexpected error in %s", self.method.name)
            internal = ConnectError(Code.internal, f"internal error in {self.method.name}")
            await self._fail(scope, send, caller, headers, internal, fault, started)
            return
        self._finish(
            scope,
            caller,
            headers,
            "ok",
            200,
            fault,
            started,
            response,
            response_bytes,
            wire_response,
        )
        await send_json(send, encoded, codec.content_type.encode(), extra_headers)

    @staticmethod
    def _fault_error(fault: Fault) -> ConnectError:
        code = Code[fault.code or "unknown"]
        status = HTTP_STATUS[code]
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None and status in _RETRY_AFTER_STATUSES:
            headers.append(("Retry-After", str(fault.retry_after)))
        return ConnectError(code, fault.message, headers=headers)

    async def _drop(self, scope: Scope, send: Send) -> None:
        """Close the connection without a response, as a crashed proxy would.

        uvicorn hands each request a ``send`` bound to the request's cycle, which holds
        the transport; aborting it closes the socket at once. Where that is out of reach
        (another server, an in-process test transport) the call fails ``unavailable``.
        """
        raw_send = scope.get(RAW_SEND_KEY, send)
        cycle = getattr(raw_send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            message = "connection dropped (this server cannot close the connection itself)"
            await send_error(send, ConnectError(Code.unavailable, message))
            return
        transport.abort()
        # Let the server see the connection is gone before this request returns, so it
        # does not complain about a request that ended without a response.
        for _ in range(10):
            if getattr(cycle, "disconnected", True):
                break
            await sleep(0)

    async def _wait(self, delay: float, timeout: float | None) -> None:
        """The scenario's latency; ``deadline_exceeded`` as soon as the client's deadline
        passes, if that comes first (the domain is never called then)."""
        if timeout is not None and delay > timeout:
            await sleep(timeout)
            raise ConnectError(
                Code.deadline_exceeded,
                f"{self.method.name} did not finish within the client's deadline"
                f" of {round(timeout * 1000)} ms",
            )
        await sleep(delay)

    async def _fail(
        self,
        scope: Scope,
        send: Send,
        caller: Caller | None,
        headers: RequestHeaders,
        error: ConnectError,
        fault: Fault | None,
        started: int,
    ) -> None:
        code = error.code.name
        answer = {"code": code, "message": error.message}
        answer_bytes = len(error.message) + 32
        self._finish(
            scope, caller, headers, code, error.http_status, fault, started, answer, answer_bytes
        )
        await send_error(send, error)

    def _finish(
        self,
        scope: Scope,
        caller: Caller | None,
        headers: RequestHeaders,
        code: str | None,
        status: int | None,
        fault: Fault | None,
        started: int,
        response: object = None,
        response_bytes: int = 0,
        wire_response: bytes | None = None,
    ) -> None:
        """Journal the call (callers with a valid token only) and log it if asked to.

        ``response`` is the message answered or the error body (``None``: no answer);
        ``wire_response`` its JSON, if it went out as JSON. The request is kept as the
        bytes it was decoded from (none if it was not)."""
        elapsed_us = (time.perf_counter_ns() - started) // 1000
        if caller is not None:
            body = headers.body
            codec = headers.codec
            # Positional: keywords would cost a third of the entry's making, on every call.
            entry = JournalEntry(
                self.method.name,
                None,
                code,
                status,
                self.backend.now(caller),
                None if wire_response is not None else response,
                None if fault is None else fault.to_json(),
                headers.body_bytes,
                response_bytes,
                False,
                False,
                body,
                None if body is None or codec is None else self._request_readers[codec],
                wire_response,
                elapsed_us,
                scope["method"],
                scope.get("query_string", b""),
                pack_headers(headers.raw),
            )
            self.journal.record(caller.token, entry)
        if self.request_log is not None:
            self.request_log(self.method.name, code, status, elapsed_us / 1000, fault)


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
