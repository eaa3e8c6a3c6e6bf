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
from mockserver.http.protobuf import SHARED_MESSAGES, ProtoCodec
from mockserver.http.render_cache import RenderCache
from openapi.errors import Code
from openapi.methods import METHODS, RpcMethod
from openapi.schema import message_fields

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


# A run of 19 digits: possibly an integer beyond 64 bits, which orjson reads as a float.
# Found by turning every digit into a 9 and looking for nineteen of them: a sixth of
# what the regular expression [0-9]{19} costs (which cost more than orjson's parse).
_EVERY_DIGIT_A_NINE = bytes.maketrans(b"012345678", b"999999999")
_NINETEEN_DIGITS = b"9" * 19


def _has_long_number(body: bytes) -> bool:
    return body.translate(_EVERY_DIGIT_A_NINE).find(_NINETEEN_DIGITS) >= 0


def loads(body: bytes) -> Any:
    """Strict JSON: UTF-8, finite numbers, no NaN/Infinity, no lone surrogates.

    ``ValueError`` (with the reason) for anything else, including arrays and objects nested
    more than :data:`MAX_DEPTH` levels deep; every value it returns can be encoded again.
    """
    # The fast path: orjson refuses everything this function refuses except deep nesting
    # (checked below), and reads the same values, except integers beyond 64 bits (it
    # makes them floats), so a body with such a run of digits takes the slow path. Any
    # body orjson refuses takes it too, for the standard library's error message.
    if not _has_long_number(body):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            _check_depth(body, value)
            return value
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    _check_depth(body, value)
    if _SURROGATE_ESCAPE.search(body) is not None:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds an unpaired UTF-16 surrogate") from None
    return value


def _check_depth(body: bytes, value: Any) -> None:
    # Counting brackets is a C loop: only a body with that many of them needs the walk.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        deep = _too_deep(value)
        if deep is not None:
            raise ValueError(f"{_shorten(deep)}: nested more than {MAX_DEPTH} levels deep")


def _shared_lists(methods: tuple[RpcMethod, ...]) -> dict[str, str]:
    """Method name -> the JSON name of its response's list of shared messages, if any."""
    shared: dict[str, str] = {}
    for method in methods:
        for info in message_fields(method.response):
            proto_name = getattr(info.base, "__proto_name__", None)
            if info.repeated and proto_name in SHARED_MESSAGES:
                shared[method.name] = info.json_name
    return shared


class JsonCodec:
    """proto3 JSON (``application/json``).

    A page of a list is mostly tasks read before: the store hands out the same rendered
    dict for a task every time (:data:`~mockserver.http.protobuf.SHARED_MESSAGES`), so
    each one's JSON is kept by the dict's identity and a page is written around it, as
    the binary encoder does with bytes.
    """

    content_type = "application/json"

    def __init__(self, methods: tuple[RpcMethod, ...] = METHODS) -> None:
        self._shared_lists = _shared_lists(methods)
        # A rendering -> its JSON, bounded in bytes and freed with it (see render_cache).
        self._fragments: RenderCache[orjson.Fragment] = RenderCache()
        self._lookup = self._fragments.lookup

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
        # orjson: the same compact UTF-8 bytes as json.dumps, about ten times faster.
        field = self._shared_lists.get(method.name)
        if field is not None:
            items = message.get(field)
            if isinstance(items, list) and items:
                # Same key order: replacing a key's value keeps its place.
                message = {**message, field: [self._fragment(item) for item in items]}
        return orjson.dumps(message)

    def _fragment(self, item: JsonObject) -> orjson.Fragment:
        entry = self._lookup(id(item))
        if entry is not None and entry() is item:
            fragment: orjson.Fragment = entry.value
            return fragment
        encoded = orjson.dumps(item)
        fragment = orjson.Fragment(encoded)
        self._fragments.put(item, fragment, len(encoded))
        return fragment


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
    exact = CODECS.get(content_type)  # what clients send, without parameters or spaces
    return exact if exact is not None else CODECS.get(media_type(content_type))
