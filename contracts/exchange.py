"""One request to the implementation and its answer, and the client that sends them."""

from __future__ import annotations

import contextlib
import json
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, TypeVar

import httpx

from contracts.dialects import JSON_POST, Dialect, encode_message, json_bytes
from openapi import METHODS_BY_NAME, SERVICE
from openapi.dialects import BinaryError, GzipError, build_get_query, from_binary, gunzip, gzip_body

__all__ = [
    "MAX_GET_URL",
    "TRANSIENT_STATUSES",
    "TRANSPORT_FAILURES",
    "Client",
    "Exchange",
    "Observer",
    "RateLimiter",
    "ReadOnlyViolation",
    "curl_command",
    "encode_body",
    "retry_delay",
]

_NO_JSON = object()
_R = TypeVar("_R")
# resource_exhausted and unavailable: a deployment over its limits or briefly down.
TRANSIENT_STATUSES = frozenset({429, 503})
_MAX_RETRY_AFTER = 60.0  # a longer Retry-After is honoured only up to this many seconds
_FIRST_BACKOFF = 0.25
_MAX_BACKOFF = 8.0
# A compressed answer may inflate to this much; no answer of this API comes near it.
_MAX_INFLATED_BYTES = 64 * 1024 * 1024
_NOT_GIVEN = object()
# Longer Connect GET URLs are sent as POST (servers commonly refuse URLs past 8 KiB).
MAX_GET_URL = 8192
# What a request may meet instead of an answer, once the pre-flight showed the server up.
TRANSPORT_FAILURES = ("timeout", "dropped", "malformed")


def _transport_failure(error: httpx.TransportError) -> str:
    """Which of TRANSPORT_FAILURES an httpx error is."""
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.RemoteProtocolError) and "disconnected" not in str(error).lower():
        return "malformed"  # bytes came back, but not an HTTP response
    return "dropped"


@dataclass(frozen=True)
class Exchange:
    """A request the suite sent (``operation`` names the RPC) and the response it got."""

    operation: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]  # lower-case names
    content: bytes
    sent_at: float  # time.monotonic() just before sending
    received_at: float  # ... and just after the whole response arrived
    curl: str = field(repr=False)
    dialect: Dialect = JSON_POST
    http_method: str = "POST"
    # The request message as proto3 JSON, when the body is not it (binary, gzip, GET).
    request_message: Any = field(default=_NOT_GIVEN, repr=False)
    # Why the body could not be taken out of its Content-Encoding; ``content`` is then
    # the body as received.
    encoding_problem: str | None = None
    # No answer at all: "timeout", "dropped" (the connection closed or reset without
    # an answer) or "malformed" (not HTTP); ``status`` is then 0. See TRANSPORT_FAILURES.
    transport: str | None = None
    transport_detail: str = ""

    @cached_property
    def _decoded(self) -> tuple[object, str | None]:
        if self.encoding_problem is not None:
            return _NO_JSON, self.encoding_problem
        if self.status == 200 and _media_type(self.content_type) == "application/proto":
            method = METHODS_BY_NAME.get(self.operation)
            if method is None:
                return _NO_JSON, f"a binary answer to {self.operation}, which no method names"
            try:
                return from_binary(method.response, self.content), None
            except BinaryError as error:
                return _NO_JSON, f"the binary body does not decode: {error}"
        try:
            return json.loads(self.content), None
        except ValueError:
            return _NO_JSON, None

    @property
    def is_json(self) -> bool:
        """Whether the body decoded (JSON, or binary protobuf read as proto3 JSON)."""
        return self._decoded[0] is not _NO_JSON

    @property
    def body(self) -> Any:
        """The answer as proto3 JSON whatever its codec, or None when it does not decode."""
        value = self._decoded[0]
        return None if value is _NO_JSON else value

    @property
    def decode_problem(self) -> str | None:
        """Why a compressed or binary answer could not be read, in one line; else None."""
        return self._decoded[1]

    @property
    def request_json(self) -> Any:
        """The request message as proto3 JSON, whatever dialect carried it."""
        if self.request_message is not _NOT_GIVEN:
            return self.request_message
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    @property
    def error_code(self) -> str | None:
        """The Connect error code of an error response, when its body names one."""
        body = self.body
        if self.status != 200 and isinstance(body, dict) and isinstance(body.get("code"), str):
            return str(body["code"])
        return None

    @property
    def outcome(self) -> str:
        """What came back, in a word or two: ``200``, ``400 invalid_argument``, ``timeout``.

        Part of a failure's signature: two failures of one check on one method are the
        same defect only if the server answered them alike.
        """
        if self.transport is not None:
            return self.transport
        code = self.error_code
        return f"{self.status} {code}" if code else str(self.status)

    @property
    def transient(self) -> bool:
        """A 429 or 503: the server was over a limit or briefly down, not necessarily wrong."""
        return self.status in TRANSIENT_STATUSES

    def describe(self, limit: int = 300) -> str:
        """A short human rendering of the response: status, and the body clipped to ``limit``.

        A binary answer that decoded is shown as its proto3 JSON, marked ``(binary)``.
        """
        if self.transport is not None:
            return f"no answer ({self.transport}: {self.transport_detail})"[: limit + 40]
        if _media_type(self.content_type) == "application/proto" and self.body is not None:
            text = "(binary) " + json.dumps(self.body, ensure_ascii=False)
        else:
            text = self.content.decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit] + "..."
        return f"HTTP {self.status} {text}"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def undo_content_encoding(headers: Mapping[str, str], raw: bytes) -> tuple[bytes, str | None]:
    """The body without its ``Content-Encoding`` (gzip or identity), and the reason, in one
    line, when it cannot be undone (then the body as received)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return raw, None
    if encoding != "gzip":
        return raw, f"Content-Encoding {encoding!r}, which the client did not accept"
    try:
        return gunzip(raw, _MAX_INFLATED_BYTES), None
    except GzipError as error:
        return raw, f"Content-Encoding 'gzip', but the body is not gzip ({error})"


def encode_body(body: object) -> bytes:
    """The bytes sent for a generated body: raw bytes as they are, anything else as JSON."""
    if isinstance(body, bytes):
        return body
    return json_bytes(body)


def _printable_json(body: bytes) -> str | None:
    """The body as printable text: JSON re-encoded with escapes (same value), else None."""
    try:
        text = body.decode("utf-8")
        if text.isprintable():
            return text
        return json.dumps(json.loads(text), ensure_ascii=True)
    except ValueError:
        return None


def curl_command(
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    token_placeholder: str | None,
    http_method: str = "POST",
) -> str:
    """A shell command that repeats the request byte for byte (POSIX sh, bash, zsh).

    A body that is not printable text (binary protobuf, gzip) is piped in by ``printf``
    with octal escapes, which every POSIX ``printf`` understands. A compressed or binary
    answer is written to stdout as it is (``--output -``).
    """
    prefix = ""
    parts = ["curl", "-sS"]
    if http_method != "GET" or body:
        parts += ["-X", http_method]
    for name, value in headers.items():
        if name.lower() == "authorization" and token_placeholder is not None:
            # Keep the secret out of reports; the shell expands the variable on replay.
            parts += ["-H", f'"Authorization: Bearer ${token_placeholder}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    text = _printable_json(body) if body else None
    if text is not None:
        parts += ["--data-raw", shlex.quote(text)]
    elif body:
        escaped = "".join(f"\\{byte:03o}" for byte in body)
        prefix = f"printf '{escaped}' | "
        parts += ["--data-binary", "@-"]
    if _answer_may_be_binary(headers, url):
        parts += ["--output", "-"]  # curl refuses to print binary to a terminal otherwise
    parts.append(shlex.quote(url))
    return prefix + " ".join(parts)


def _answer_may_be_binary(headers: Mapping[str, str], url: str) -> bool:
    """Whether the answer may be binary protobuf or gzip, by what the request asked for."""
    lower = {name.lower(): value for name, value in headers.items()}
    return (
        lower.get("accept-encoding", "identity") != "identity"
        or "proto" in lower.get("content-type", "")
        or "encoding=proto" in url
    )


Observer = Callable[[str, Exchange], None]


class ReadOnlyViolation(RuntimeError):
    """A suite tried to call a method with side effects during a read-only run."""


class RateLimiter:
    """At most ``per_second`` request starts per second, over all threads."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def retry_delay(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): ``Retry-After``, else backoff.

    ``Retry-After`` may be seconds or an HTTP date; it is honoured up to a minute.
    Without it the wait doubles from a quarter of a second up to eight seconds.
    """
    if retry_after:
        value = retry_after.strip()
        seconds: float | None = None
        if value.isdigit():
            seconds = float(value)
        else:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
        if seconds is not None:
            return min(max(seconds, 0.0), _MAX_RETRY_AFTER)
    return float(min(_FIRST_BACKOFF * 2 ** (attempt - 1), _MAX_BACKOFF))


class Client:
    """Sends Connect unary requests in any dialect and hands every exchange to the observers.

    ``httpx.Client`` is thread-safe, so one instance serves all the suite's workers.
    Every request waits for the rate limiter; a 429 or 503 is retried up to ``retries``
    times (see :func:`retry_delay`), and only the final answer reaches the observers.
    ``allowed`` (operation names), when given, makes any other operation raise
    :class:`ReadOnlyViolation` before anything is sent.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        token_placeholder: str | None = None,
        timeout: float = 30.0,
        observers: tuple[Observer, ...] = (),
        rate_limit: float | None = None,
        retries: int = 0,
        allowed: frozenset[str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._token_placeholder = token_placeholder
        self._observers = observers
        self._http = httpx.Client(timeout=timeout)
        self._limiter = RateLimiter(rate_limit) if rate_limit else None
        self.retries = retries
        self.allowed = allowed
        self.retried = 0  # how many transient answers were retried
        # Until the pre-flight has seen the server answer, a transport error is a setup
        # problem (raised); afterwards it is the implementation's failure (an Exchange).
        self.answers_seen = False

    def pace(self) -> None:
        """Wait as long as the rate limit asks before sending a request."""
        if self._limiter is not None:
            self._limiter.wait()

    def guard(self, operation: str) -> None:
        """Refuse an operation a read-only run must not call."""
        if self.allowed is not None and operation not in self.allowed:
            raise ReadOnlyViolation(f"{operation} has side effects; the run is read-only")

    def retrying(
        self,
        attempt: Callable[[], _R],
        status: Callable[[_R], int],
        retry_after: Callable[[_R], str | None],
    ) -> _R:
        """Call ``attempt`` (paced) until its answer is not transient or retries run out."""
        tries = 0
        while True:
            self.pace()
            result = attempt()
            if status(result) not in TRANSIENT_STATUSES or tries >= self.retries:
                return result
            tries += 1
            self.retried += 1
            time.sleep(retry_delay(tries, retry_after(result)))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, operation: str) -> str:
        return f"{self.base_url}/{SERVICE}/{operation}"

    def send(
        self,
        suite: str,
        operation: str,
        body: object,
        *,
        authenticated: bool = True,
        dialect: Dialect = JSON_POST,
    ) -> Exchange:
        """Send ``body`` (proto3 JSON, or raw bytes sent as they are) to ``operation`` in
        ``dialect``; the answer is read whatever its codec and compression.

        :class:`~openapi.dialects.BinaryError` when ``dialect`` is binary and the message
        has no binary form (see :func:`contracts.dialects.draw_dialect`).
        """
        self.guard(operation)
        message = encode_message(dialect, operation, body)
        headers = {"Connect-Protocol-Version": "1"}
        url = self.url_for(operation)
        payload = message
        if dialect.get:
            get_url = f"{url}?{build_get_query(dialect.codec, message)}"
            if len(get_url) > MAX_GET_URL:
                # As connect-go's clients do past their GET URL size: POST, same codec.
                dialect = Dialect(dialect.codec, dialect.codec)
            else:
                url, payload = get_url, b""
        if not dialect.get:
            headers["Content-Type"] = dialect.media_type
            if dialect.gzip:
                payload = gzip_body(message)
                headers["Content-Encoding"] = "gzip"
        # Only the gzip dialect accepts a compressed answer; httpx would offer more.
        headers["Accept-Encoding"] = "gzip" if dialect.gzip else "identity"
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token}"
        exchange = self.exchange(
            operation,
            "GET" if dialect.get else "POST",
            url,
            headers,
            payload,
            dialect=dialect,
            request_message=_NOT_GIVEN if dialect == JSON_POST else body,
        )
        self.record(suite, exchange)
        return exchange

    def exchange(
        self,
        operation: str,
        http_method: str,
        url: str,
        headers: dict[str, str],
        payload: bytes,
        *,
        dialect: Dialect = JSON_POST,
        request_message: Any = _NOT_GIVEN,
    ) -> Exchange:
        """Send one request as given (paced, retried) and capture the answer, unrecorded.

        The body is read as it travelled: the client undoes a gzip ``Content-Encoding``
        itself, so a body that is not what its header says becomes the exchange's
        :attr:`Exchange.decode_problem` (a contract failure), not a transport error.
        """
        sent_at = 0.0

        def attempt() -> tuple[httpx.Response, bytes]:
            nonlocal sent_at
            sent_at = time.monotonic()
            request = self._http.build_request(http_method, url, content=payload, headers=headers)
            response = self._http.send(request, stream=True)
            try:
                return response, b"".join(response.iter_raw())
            finally:
                response.close()

        try:
            response, raw = self.retrying(
                attempt, lambda r: r[0].status_code, lambda r: r[0].headers.get("retry-after")
            )
        except httpx.TransportError as error:
            if not self.answers_seen:
                raise
            return Exchange(
                operation=operation,
                url=url,
                request_headers=headers,
                request_body=payload,
                status=0,
                response_headers={},
                content=b"",
                sent_at=sent_at,
                received_at=time.monotonic(),
                curl=self.curl(url, headers, payload, http_method),
                dialect=dialect,
                http_method=http_method,
                request_message=request_message,
                transport=_transport_failure(error),
                transport_detail=str(error) or type(error).__name__,
            )
        received_at = time.monotonic()
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        content, problem = undo_content_encoding(response_headers, raw)
        return Exchange(
            operation=operation,
            url=url,
            request_headers=headers,
            request_body=payload,
            status=response.status_code,
            response_headers=response_headers,
            content=content,
            sent_at=sent_at,
            received_at=received_at,
            curl=self.curl(url, headers, payload, http_method),
            dialect=dialect,
            http_method=http_method,
            request_message=request_message,
            encoding_problem=problem,
        )

    def curl(
        self, url: str, headers: Mapping[str, str], body: bytes, http_method: str = "POST"
    ) -> str:
        """A curl command that repeats a request (the token hidden when it was given)."""
        return curl_command(url, headers, body, self._token_placeholder, http_method)

    def record(self, suite: str, exchange: Exchange) -> None:
        """Hand an exchange, sent by this client or by another transport, to the observers."""
        for observer in self._observers:
            observer(suite, exchange)

    def for_caller(
        self, token: str, *, token_placeholder: str | None, observers: tuple[Observer, ...]
    ) -> Client:
        """A client for another caller (``token``) of the same server, with the same
        timeout, retries and read-only guard; it shares this client's rate limiter, so the
        two together stay under the run's limit."""
        other = Client(
            self.base_url,
            token,
            token_placeholder=token_placeholder,
            timeout=self._http.timeout.read or 30.0,
            observers=observers,
            retries=self.retries,
            allowed=self.allowed,
        )
        other._limiter = self._limiter
        return other
