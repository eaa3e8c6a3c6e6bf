"""Message codecs, chosen by the request's ``Content-Type``.

A codec turns a request body into a proto3-JSON dict and a response dict into a body:
:class:`JsonCodec` (``application/json``) and
:class:`~mockserver.http.protobuf.ProtoCodec` (``application/proto``). Both hand the same
dict to the same normalizer, validator and domain, so they differ in bytes only.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Protocol

import orjson

from mockserver.domain import JsonObject
from mockserver.http.connect import ConnectError
from mockserver.http.protobuf import ProtoCodec
from openapi.errors import Code
from openapi.methods import RpcMethod

__all__ = [
    "CODECS",
    "CODECS_BY_NAME",
    "MAX_DEPTH",
    "Codec",
    "JsonCodec",
    "loads",
    "media_type",
    "select_codec",
]


class Codec(Protocol):
    """Decodes request bodies and encodes response messages of one content type."""

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (``application/json``)."""
        ...

    def decode(self, body: bytes, method: RpcMethod) -> JsonObject:
        """The request message as proto3 JSON; :class:`ConnectError` if malformed."""
        ...

    def encode(self, message: JsonObject, method: RpcMethod) -> bytes:
        """The response body for ``message`` (proto3 JSON, camelCase)."""
        ...


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constants)

MAX_DEPTH = 100
"""How deeply arrays and objects may nest in a JSON body (protobuf's own default limit).

No message of this API needs a tenth of it; a body nested deeper is refused before the
validator (whose recursion it would exhaust) or the journal ever sees it."""


def _too_deep(value: Any) -> str | None:
    """The path of the first place ``value`` nests deeper than :data:`MAX_DEPTH`, if any."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict):
            children: Any = (
                (f"{path}.{key}" if path else key, child) for key, child in item.items()
            )
        elif isinstance(item, list):
            children = ((f"{path}[{index}]", child) for index, child in enumerate(item))
        else:
            continue
        if depth == MAX_DEPTH:
            return path or "the body"
        for child_path, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, child_path))
    return None


def _shorten(path: str) -> str:
    return path if len(path) <= 60 else path[:60] + "..."


# A \uD800-\uDFFF escape: only a valid pair of them decodes to a character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(body: bytes) -> Any:
    """Strict JSON: UTF-8, finite numbers, no NaN/Infinity, no lone surrogates.

    ``ValueError`` (with the reason) for anything else, including arrays and objects nested
    more than :data:`MAX_DEPTH` levels deep; every value it returns can be encoded again.
    """
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    # Counting brackets is a C loop: only a body with that many of them needs the walk.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        deep = _too_deep(value)
        if deep is not None:
            raise ValueError(f"{_shorten(deep)}: nested more than {MAX_DEPTH} levels deep")
    if _SURROGATE_ESCAPE.search(body) is not None:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds an unpaired UTF-16 surrogate") from None
    return value


class JsonCodec:
    """proto3 JSON (``application/json``)."""

    content_type = "application/json"

    def decode(self, body: bytes, method: RpcMethod) -> JsonObject:
        try:
            message = loads(body)
        except ValueError as error:  # UnicodeDecodeError is one
            raise ConnectError(
                Code.invalid_argument, f"request body is not valid JSON: {error}"
            ) from None
        if not isinstance(message, dict):
            raise ConnectError(
                Code.invalid_argument,
                f"request body must be a JSON object ({method.request.__proto_name__}),"
                f" got {_json_kind(message)}",
            )
        return message

    def encode(self, message: JsonObject, method: RpcMethod) -> bytes:
        # orjson: the same compact UTF-8 bytes as json.dumps, about ten times faster; a
        # page of 25 tasks is the heaviest thing the fake writes.
        return orjson.dumps(message)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


_JSON = JsonCodec()
_PROTO = ProtoCodec()

CODECS: dict[str, Codec] = {_JSON.content_type: _JSON, _PROTO.content_type: _PROTO}
"""Every codec the server speaks, by media type."""

CODECS_BY_NAME: dict[str, Codec] = {"json": _JSON, "proto": _PROTO}
"""The same codecs by their Connect name (a GET request's ``encoding=``)."""


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.partition(";")[0].strip().lower()


def select_codec(content_type: str | None) -> Codec | None:
    """The codec for a request ``Content-Type`` header, or ``None`` if none speaks it."""
    if content_type is None:
        return None
    return CODECS.get(media_type(content_type))
