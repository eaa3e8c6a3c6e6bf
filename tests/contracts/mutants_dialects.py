"""Defective variants of the fake that break one dialect of the protocol.

:mod:`tests.contracts.mutants` edits JSON; these edit what travels on the wire, so they
wrap the fake's ASGI app with :class:`WireRewrite`, which shows a mutant the request as
it came (HTTP method, query, headers) and the fake's answer as bytes. Messages are read
and written with the shared codecs of :mod:`openapi.dialects`, as the suite reads them.

:class:`AsJsonPost` goes the other way: it hands the JSON mutants every request as a JSON
POST and gives the answer back in the request's dialect, so each JSON mutant is a defect
in every dialect, and the suite must find it whatever dialect its cases draw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openapi.dialects import (
    BinaryError,
    GetQueryError,
    GzipError,
    from_binary,
    gunzip,
    parse_get_query,
    to_binary,
)
from openapi.methods import METHODS_BY_NAME

__all__ = ["DIALECT_MUTANTS", "AsJsonPost", "Call", "DialectMutant", "WireRewrite"]

Headers = list[tuple[bytes, bytes]]


@dataclass
class Call:
    """One request as it came, and the answer a mutant may rewrite (or give instead)."""

    http_method: str
    operation: str
    query: bytes
    headers: dict[str, str]  # request headers, lower-case names
    status: int = 0  # set by ``before`` to answer without asking the fake
    response_headers: Headers = field(default_factory=list)
    body: bytes = b""

    @property
    def codec(self) -> str:
        """``json`` or ``proto``: the request's codec (a GET's ``encoding``)."""
        if self.http_method == "GET":
            try:
                return parse_get_query(self.query).encoding
            except ValueError:
                return ""
        content_type = self.headers.get("content-type", "")
        return "proto" if "proto" in content_type else "json"

    def header(self, name: bytes) -> str | None:
        for key, value in self.response_headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    def set_header(self, name: bytes, value: bytes | None) -> None:
        self.response_headers = [(k, v) for k, v in self.response_headers if k.lower() != name]
        if value is not None:
            self.response_headers.append((name, value))

    def edit_message(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Decode a successful answer (JSON or binary), ``change`` it, encode it back."""
        if self.status != 200 or self.header(b"content-encoding") is not None:
            return
        model = METHODS_BY_NAME[self.operation].response
        binary = (self.header(b"content-type") or "").startswith("application/proto")
        message = from_binary(model, self.body) if binary else json.loads(self.body)
        change(message)
        self.body = to_binary(model, message) if binary else json.dumps(message).encode()


@dataclass
class DialectMutant:
    """One defect of a dialect, the suite that must catch it and the check that must."""

    name: str
    suite: str
    check: str
    before: Callable[[Call], None] = lambda call: None
    after: Callable[[Call], None] = lambda call: None


class WireRewrite:
    """ASGI middleware: let a :class:`DialectMutant` answer instead of the fake, or rewrite
    the fake's answer as bytes."""

    def __init__(self, app: Any, mutant: DialectMutant) -> None:
        self.app = app
        self.mutant = mutant

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        call = Call(
            scope["method"],
            str(scope["path"]).rsplit("/", 1)[-1],
            scope.get("query_string", b""),
            headers,
        )
        self.mutant.before(call)
        if not call.status:
            parts: list[bytes] = []

            async def capture(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    call.status = message["status"]
                    call.response_headers = list(message.get("headers", []))
                elif message["type"] == "http.response.body":
                    parts.append(message.get("body", b""))

            await self.app(scope, receive, capture)
            call.body = b"".join(parts)
            if call.operation in METHODS_BY_NAME:
                self.mutant.after(call)
        call.set_header(b"content-length", str(len(call.body)).encode())
        await send(
            {"type": "http.response.start", "status": call.status, "headers": call.response_headers}
        )
        await send({"type": "http.response.body", "body": call.body})


_LIMIT = 4 * 1024 * 1024


def _as_json(scope: Any, body: bytes) -> tuple[bytes, str] | None:
    """A dialect request's message as JSON bytes and the codec it came in; None for a
    request that is no well-formed dialect request (left as it came)."""
    operation = METHODS_BY_NAME.get(str(scope["path"]).rsplit("/", 1)[-1])
    if operation is None:
        return None
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        if scope["method"] == "GET":
            if operation.has_side_effects:
                return None  # no Connect GET: the server must refuse it (405)
            query = parse_get_query(scope.get("query_string", b""))
            codec, message, compression = query.encoding, query.message, query.compression
        elif scope["method"] == "POST":
            media = headers.get("content-type", "").split(";")[0].strip()
            codec = {"application/json": "json", "application/proto": "proto"}.get(media, "")
            message, compression = body, headers.get("content-encoding", "identity")
        else:
            return None
        if codec not in ("json", "proto") or compression not in ("gzip", "identity"):
            return None
        if compression == "gzip":
            message = gunzip(message, _LIMIT)
        if codec == "proto":
            message = json.dumps(from_binary(operation.request, message)).encode()
    except (GetQueryError, GzipError, BinaryError):
        return None
    return message, codec


class AsJsonPost:
    """ASGI middleware: every dialect request goes on as a JSON POST (for the JSON
    mutants inside); a binary request's successful answer comes back binary."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        translated = _as_json(scope, body)
        codec = "json"
        if translated is not None:
            body, codec = translated
            keep = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-type", b"content-encoding", b"content-length")
            ]
            scope = {
                **scope,
                "method": "POST",
                "query_string": b"",
                "headers": [
                    *keep,
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        call = Call(scope["method"], str(scope["path"]).rsplit("/", 1)[-1], b"", {})
        parts: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
                call.response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        call.body = b"".join(parts)
        if codec == "proto" and call.status == 200 and call.operation in METHODS_BY_NAME:
            model = METHODS_BY_NAME[call.operation].response
            try:
                call.body = to_binary(model, json.loads(call.body))
                call.set_header(b"content-type", b"application/proto")
            except (BinaryError, ValueError):
                pass  # a defect binary cannot carry (a renamed enum): it goes back as JSON
        call.set_header(b"content-length", str(len(call.body)).encode())
        await send(
            {"type": "http.response.start", "status": call.status, "headers": call.response_headers}
        )
        await send({"type": "http.response.body", "body": call.body})


# -- the defects ------------------------------------------------------------------------------


def _refuse_binary(call: Call) -> None:
    """415 to every binary request, POST or GET; JSON works."""
    if call.codec == "proto":
        call.status = 415
        call.response_headers = [(b"content-type", b"application/json")]
        call.body = b'{"code": "unimplemented", "message": "only application/json"}'


def _binary_lists_lose_spec(call: Call) -> None:
    """A binary POST of ListTasks answered without each task's spec (JSON keeps it).

    Only POST: a binary Connect GET that lost it too would be ``connect_get_matches_post``'s.
    """

    def drop(message: dict[str, Any]) -> None:
        for task in message.get("tasks", []):
            task.pop("spec", None)

    if call.operation == "ListTasks" and call.codec == "proto" and call.http_method == "POST":
        call.edit_message(drop)


def _get_lists_another_description(call: Call) -> None:
    """A Connect GET of ListTasks answers with descriptions POST does not give."""

    def rewrite(message: dict[str, Any]) -> None:
        for task in message.get("tasks", []):
            task.setdefault("metadata", {})["description"] = "only GET says this"

    if call.operation == "ListTasks" and call.http_method == "GET":
        call.edit_message(rewrite)


def _gzip_header_plain_body(call: Call) -> None:
    """``Content-Encoding: gzip`` on every answer, with the body left as it is."""
    call.set_header(b"content-encoding", b"gzip")


def _no_allow_header(call: Call) -> None:
    """A 405 without the ``Allow`` header HTTP requires with it."""
    if call.status == 405:
        call.set_header(b"allow", None)


def _unknown_encoding_is_a_bad_request(call: Call) -> None:
    """A GET in an encoding the server does not speak answered 400, not 415."""
    if call.http_method == "GET" and call.codec not in ("json", "proto"):
        call.status = 400
        call.response_headers = [(b"content-type", b"application/json")]
        call.body = b'{"code": "invalid_argument", "message": "bad encoding"}'


DIALECT_MUTANTS: list[DialectMutant] = [
    DialectMutant("binary_refused", "positive", "dialect_supported", before=_refuse_binary),
    DialectMutant(
        "binary_answer_lacks_fields", "lifecycle", "dialects_agree", after=_binary_lists_lose_spec
    ),
    DialectMutant(
        "get_unlike_post",
        "lifecycle",
        "connect_get_matches_post",
        after=_get_lists_another_description,
    ),
    DialectMutant(
        "gzip_header_on_plain_body", "positive", "response_decodes", after=_gzip_header_plain_body
    ),
    DialectMutant(
        "method_not_allowed_without_allow",
        "lifecycle",
        "connect_protocol_refusal",
        after=_no_allow_header,
    ),
    DialectMutant(
        "unknown_encoding_bad_request",
        "lifecycle",
        "connect_protocol_refusal",
        before=_unknown_encoding_is_a_bad_request,
    ),
]
