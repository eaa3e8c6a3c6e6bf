"""The validating proxy as an ASGI application: forward, judge, report, record.

Every request goes to the upstream as it came (end-to-end headers and body untouched,
``Host`` the upstream's, hop-by-hop headers dropped as RFC 9110 asks of a proxy) and the
upstream's answer comes back as it was, bytes included (a gzip body stays gzip). An API
call (``POST|GET /<service>/<method>``) is buffered, since Connect unary messages are
whole, and judged before its answer goes back: the answer gains ``x-contract-violations``.
Anything else (a fake's ``/_mock/*``) is streamed through and never judged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from contracts.exchange import Exchange, curl_command, undo_content_encoding
from contracts.proxy.dialect import Call, read_call
from contracts.proxy.judge import Judge, caller_key
from contracts.proxy.violations import HEADER, ViolationLog, header_value
from contracts.record import Recorder, now_rfc3339
from openapi import METHODS_BY_NAME, SERVICE

__all__ = ["VIOLATIONS_PATH", "ProxyApp"]

VIOLATIONS_PATH = "/_contracts/violations"
TOKEN_VARIABLE = "ONA_TOKEN"  # what a reproduction reads the token from
_API_PREFIX = f"/{SERVICE}/"
# RFC 9110 section 7.6.1; plus those a Connection header names.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Recomputed by the proxy: the upstream's name, and the length of what is sent.
_REWRITTEN = frozenset({"host", "content-length"})
_MAX_RECORDED_BODY = 1024 * 1024  # a control route's body beyond this is recorded as null
_UPSTREAM_TIMEOUT = 120.0
logger = logging.getLogger("contracts.proxy")

Scope = dict[str, Any]


def _end_to_end(
    headers: list[tuple[bytes, bytes]], dropped: frozenset[str]
) -> list[tuple[str, str]]:
    """The headers a proxy passes on: hop-by-hop ones (and those ``Connection`` names) out."""
    pairs = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs
        if name == "connection"
        for token in value.split(",")
    }
    return [(name, value) for name, value in pairs if name not in dropped and name not in named]


def operation_of(path: str) -> str | None:
    """The RPC a path calls, or ``None`` for a path outside the API."""
    if not path.startswith(_API_PREFIX):
        return None
    name = path[len(_API_PREFIX) :]
    return name if name in METHODS_BY_NAME else None


def _json_or_none(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _code(status: int, response: Any) -> str | None:
    if status == 200:
        return "ok"
    if isinstance(response, dict) and isinstance(response.get("code"), str):
        return str(response["code"])
    return None


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _expose(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Let browser pages read the violations header too (CORS exposes few by default)."""
    exposed = [value for name, value in headers if name == "access-control-expose-headers"]
    kept = [(name, value) for name, value in headers if name != "access-control-expose-headers"]
    names = [part.strip() for value in exposed for part in value.split(",") if part.strip()]
    if HEADER not in (name.lower() for name in names):
        names.append(HEADER)
    return [*kept, ("access-control-expose-headers", ", ".join(names))]


class ProxyApp:
    """``ProxyApp(upstream, judge, log, recorder)``: an ASGI app (lifespan included)."""

    def __init__(
        self,
        upstream: str,
        judge: Judge,
        log: ViolationLog,
        recorder: Recorder | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.judge = judge
        self.log = log
        self.recorder = recorder
        self._client: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=_UPSTREAM_TIMEOUT),
                    # Bytes pass through as they came: a gzip answer stays gzip.
                    auto_decompress=False,
                    # Only what the client sent goes upstream: no headers of aiohttp's own,
                    # and no cookies kept from one client's answer for another's request.
                    skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                    cookie_jar=aiohttp.DummyCookieJar(),
                    connector=aiohttp.TCPConnector(limit=0),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            raise RuntimeError("the proxy's lifespan has not started")
        return self._client

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == VIOLATIONS_PATH:
            await self._violations(method, send)
            return
        body = await _read_body(receive)
        headers = _end_to_end(scope["headers"], _HOP_BY_HOP | _REWRITTEN)
        query = scope.get("query_string", b"")
        url = self.upstream + scope.get("raw_path", path.encode()).decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
        received_at_proxy = time.monotonic()
        try:
            response = await self.client.request(
                method,
                URL(url, encoded=True),  # the path and query as the client wrote them
                headers=headers,
                data=body,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.error("upstream %s unreachable: %s", self.upstream, error)
            message = {"code": "unavailable", "message": f"contracts proxy: upstream: {error}"}
            await _respond(
                send, 502, [("content-type", "application/json")], json.dumps(message).encode()
            )
            return
        # A browser's CORS preflight is the browser's business, not a call of the API.
        operation = operation_of(path) if method != "OPTIONS" else None
        try:
            if operation is None:
                await self._stream(send, scope, headers, body, response, received_at_proxy)
            else:
                await self._api(
                    send, operation, scope, headers, body, response, received_at_proxy, url
                )
        finally:
            response.release()

    async def _violations(self, method: str, send: Any) -> None:
        if method != "GET":
            await _respond(send, 405, [("allow", "GET")], b"")
            return
        body = json.dumps(self.log.to_json(), ensure_ascii=False).encode("utf-8")
        await _respond(send, 200, [("content-type", "application/json")], body)

    async def _stream(
        self,
        send: Any,
        scope: Scope,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        response: aiohttp.ClientResponse,
        started: float,
    ) -> None:
        """A path outside the API: passed through as it streams in; recorded, not judged."""
        headers = _end_to_end(list(response.raw_headers), _HOP_BY_HOP)
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await send({"type": "http.response.start", "status": response.status, "headers": raw})
        kept: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size <= _MAX_RECORDED_BODY:
                kept.append(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        self.log.count_forwarded(judged=False)
        if self.recorder is not None:
            content = b"".join(kept) if size <= _MAX_RECORDED_BODY else b""
            plain = dict(request_headers)
            self._record(
                scope,
                plain,
                operation=None,
                dialect="http",
                request=_json_or_none(request_body),
                status=response.status,
                response=_json_or_none(content),
                started=started,
            )

    async def _api(
        self,
        send: Any,
        operation: str,
        scope: Scope,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        response: aiohttp.ClientResponse,
        started: float,
        url: str,
    ) -> None:
        """An RPC: read whole, judged, answered with the verdict in a header."""
        content = await response.read()
        received = time.monotonic()
        plain = dict(request_headers)
        response_headers = _end_to_end(list(response.raw_headers), _HOP_BY_HOP | _REWRITTEN)
        answer = dict(response_headers)
        http_method = scope["method"]
        call = read_call(
            operation, http_method, scope.get("query_string", b""), plain, request_body
        )
        exchange = _exchange(
            operation,
            call,
            http_method,
            url,
            plain,
            request_body,
            response.status,
            answer,
            content,
            (started, received),
        )
        violations = self.judge.judge(exchange, caller_key(plain.get("authorization")))
        self.log.add(violations)
        response_headers = _expose([*response_headers, (HEADER, header_value(violations))])
        self.log.count_forwarded(judged=True)
        await _respond(send, response.status, response_headers, content)
        if self.recorder is not None:
            self._record(
                scope,
                plain,
                operation=operation,
                dialect=call.dialect.name,
                request=call.message,
                status=response.status,
                response=exchange.body,
                started=started,
            )

    def _record(
        self,
        scope: Scope,
        headers: Mapping[str, str],
        *,
        operation: str | None,
        dialect: str,
        request: Any,
        status: int,
        response: Any,
        started: float,
    ) -> None:
        assert self.recorder is not None
        self.recorder.write(
            {
                "time": now_rfc3339(),
                "caller": self.recorder.caller(caller_key(headers.get("authorization"))),
                "path": scope["path"],
                "http_method": scope["method"],
                "method": operation,
                "dialect": dialect,
                "request": request,
                "status": status,
                "code": _code(status, response) if operation is not None else None,
                "response": response,
                "ms": round((time.monotonic() - started) * 1000, 3),
            }
        )


def _exchange(
    operation: str,
    call: Call,
    http_method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    response_headers: dict[str, str],
    raw: bytes,
    times: tuple[float, float],
) -> Exchange:
    """The exchange the checks judge: what the client sent, and the answer as it came
    (``times``: when the proxy received the request, and when the answer had arrived)."""
    content, problem = undo_content_encoding(response_headers, raw)
    return Exchange(
        operation=operation,
        url=url,
        request_headers=headers,
        request_body=body,
        status=status,
        response_headers=response_headers,
        content=content,
        sent_at=times[0],
        received_at=times[1],
        curl=curl_command(url, headers, body, TOKEN_VARIABLE, http_method),
        dialect=call.dialect,
        http_method=http_method,
        request_message=call.message,
        encoding_problem=problem,
    )
