"""Which dialect of the Connect protocol a request is sent in, and how one is drawn.

A dialect is a codec (proto3 JSON or binary protobuf) times a transport (POST, Connect
GET for the methods without side effects, POST with a gzip body). ``--dialects`` picks
families by name: ``json`` (JSON POST), ``proto`` (binary POST), ``get`` (Connect GET, in
``encoding=json`` or ``encoding=proto`` with ``base64=1``) and ``gzip`` (a gzip body and
``Accept-Encoding: gzip``, in either codec). Each generated case draws one dialect, from
a hash of the seed, the operation and the body: a run repeats with its seed, a shrunk
case keeps its dialect, and the run's length does not multiply with the dialects.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openapi.dialects import BinaryError, from_binary, to_binary
from openapi.methods import METHODS_BY_NAME

__all__ = [
    "DIALECTS",
    "JSON_POST",
    "Dialect",
    "draw_dialect",
    "encode_message",
    "json_bytes",
    "parse_dialects",
    "variants",
]

DIALECTS: tuple[str, ...] = ("json", "proto", "get", "gzip")
_MEDIA_TYPES = {"json": "application/json", "proto": "application/proto"}


@dataclass(frozen=True)
class Dialect:
    """How one request travels: ``family`` (what ``--dialects`` names) and ``codec``."""

    family: str  # json | proto | get | gzip
    codec: str  # json | proto

    @property
    def name(self) -> str:
        """``json``, ``proto``, ``get (proto)``, ``gzip (json)``, ...: for reports."""
        return self.family if self.family in ("json", "proto") else f"{self.family} ({self.codec})"

    @property
    def media_type(self) -> str:
        """The media type of the message, and of a successful answer."""
        return _MEDIA_TYPES[self.codec]

    @property
    def get(self) -> bool:
        return self.family == "get"

    @property
    def gzip(self) -> bool:
        return self.family == "gzip"


JSON_POST = Dialect("json", "json")


def variants(family: str) -> tuple[Dialect, ...]:
    """The dialects of a family: one for ``json`` and ``proto``, both codecs otherwise."""
    if family in ("json", "proto"):
        return (Dialect(family, family),)
    return (Dialect(family, "json"), Dialect(family, "proto"))


def parse_dialects(text: str) -> tuple[str, ...]:
    """``"json,proto"`` -> ``("json", "proto")``; ``ValueError`` naming what is unknown."""
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in DIALECTS]
    if unknown or not chosen:
        raise ValueError(
            f"unknown dialect(s) {', '.join(unknown) or '(none)'}; choose from {','.join(DIALECTS)}"
        )
    return chosen


def json_bytes(message: object) -> bytes:
    """``message`` as the JSON a client sends: UTF-8, no NaN or Infinity."""
    return json_bytes(message)


def encode_message(dialect: Dialect, operation: str, message: object) -> bytes:
    """The request ``message`` (proto3 JSON, or raw bytes) in ``dialect``'s codec.

    :class:`~openapi.dialects.BinaryError` when it has no binary form.
    """
    if isinstance(message, bytes):
        return message
    if dialect.codec == "proto":
        return to_binary(METHODS_BY_NAME[operation].request, message)
    return json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _index(seed: int, operation: str, body: object, salt: str, size: int) -> int:
    try:
        text = json.dumps(body, sort_keys=True, default=repr)
    except ValueError:
        text = repr(body)
    return zlib.crc32(f"{seed}:{salt}:{operation}:{text}".encode()) % size


def draw_dialect(
    seed: int,
    operation: str,
    body: object,
    families: tuple[str, ...],
    *,
    still_invalid: Callable[[Any], bool] | None = None,
) -> Dialect:
    """The dialect one case is sent in, drawn from ``families`` by a hash of the case.

    Connect GET only for methods without side effects. A body with no binary form (raw
    bytes; wrong JSON types) is sent as JSON. ``still_invalid``, for negative cases, is
    asked about the message a binary encoding carries: a defect only JSON can express
    (a string where a number belongs, which protobuf's parser turns into the number) is
    lost in binary, so such a case stays JSON too.
    """
    method = METHODS_BY_NAME.get(operation)
    if method is None or isinstance(body, bytes):
        return JSON_POST
    usable = [f for f in families if f != "get" or not method.has_side_effects]
    if not usable:
        return JSON_POST
    family = usable[_index(seed, operation, body, "family", len(usable))]
    options = variants(family)
    dialect = options[_index(seed, operation, body, "codec", len(options))]
    if dialect.codec == "proto" and not _binary_keeps(operation, body, still_invalid):
        json_variants = [d for d in options if d.codec == "json"]
        return json_variants[0] if json_variants else JSON_POST
    return dialect


def _binary_keeps(
    operation: str, body: object, still_invalid: Callable[[Any], bool] | None
) -> bool:
    method = METHODS_BY_NAME[operation]
    try:
        data = to_binary(method.request, body)
    except BinaryError:
        return False
    if still_invalid is None:
        return True
    return still_invalid(from_binary(method.request, data))
