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

from openapi import SERVICE

__all__ = [
    "TRANSIENT_STATUSES",
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

    @cached_property
    def _decoded(self) -> object:
        try:
            return json.loads(self.content)
        except ValueError:
            return _NO_JSON

    @property
    def is_json(self) -> bool:
        return self._decoded is not _NO_JSON

    @property
    def body(self) -> Any:
        """The decoded JSON body, or None when the body is not JSON."""
        return None if self._decoded is _NO_JSON else self._decoded

    @property
    def request_json(self) -> Any:
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
    def transient(self) -> bool:
        """A 429 or 503: the server was over a limit or briefly down, not necessarily wrong."""
        return self.status in TRANSIENT_STATUSES

    def describe(self, limit: int = 300) -> str:
        """A short human rendering of the response: status, and the body clipped to ``limit``."""
        text = self.content.decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit] + "..."
        return f"HTTP {self.status} {text}"


def encode_body(body: object) -> bytes:
    """The bytes sent for a generated body: raw bytes as they are, anything else as JSON."""
    if isinstance(body, bytes):
        return body
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


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
    url: str, headers: Mapping[str, str], body: bytes, token_placeholder: str | None
) -> str:
    parts = ["curl", "-sS", "-X", "POST"]
    for name, value in headers.items():
        if name.lower() == "authorization" and token_placeholder is not None:
            # Keep the secret out of reports; the shell expands the variable on replay.
            parts += ["-H", f'"Authorization: Bearer ${token_placeholder}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    text = _printable_json(body)
    if text is not None:
        parts += ["--data-raw", shlex.quote(text)]
    else:
        escaped = "".join(f"\\x{byte:02x}" for byte in body)
        parts += ["--data-binary", f"@<(printf '{escaped}')"]
    parts.append(shlex.quote(url))
    return " ".join(parts)


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
    """Sends Connect unary JSON requests (POST) and hands every exchange to the observers.

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
    ) -> Exchange:
        """POST ``body`` (JSON-encoded unless already bytes) to ``operation``."""
        self.guard(operation)
        payload = encode_body(body)
        headers = {"Content-Type": "application/json", "Connect-Protocol-Version": "1"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.url_for(operation)
        sent_at = 0.0

        def attempt() -> httpx.Response:
            nonlocal sent_at
            sent_at = time.monotonic()
            return self._http.post(url, content=payload, headers=headers)

        response = self.retrying(
            attempt, lambda r: r.status_code, lambda r: r.headers.get("retry-after")
        )
        received_at = time.monotonic()
        exchange = Exchange(
            operation=operation,
            url=url,
            request_headers=headers,
            request_body=payload,
            status=response.status_code,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
            sent_at=sent_at,
            received_at=received_at,
            curl=self.curl(url, headers, payload),
        )
        self.record(suite, exchange)
        return exchange

    def curl(self, url: str, headers: Mapping[str, str], body: bytes) -> str:
        """A curl command that repeats a request (the token hidden when it was given)."""
        return curl_command(url, headers, body, self._token_placeholder)

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
