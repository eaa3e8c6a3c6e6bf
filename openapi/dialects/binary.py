"""Binary protobuf (``application/proto``) <-> proto3 JSON, by protobuf's own library.

``json_format`` is the reference implementation of the proto3 JSON mapping for Python,
so a message converted here reads exactly as a conforming JSON client would write it:
lowerCamel names, defaults omitted, 64-bit integers as strings, enums by name.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from openapi.dialects.messages import message_class
from openapi.models import Message

__all__ = ["BinaryError", "from_binary", "to_binary"]


class BinaryError(ValueError):
    """Bytes that are not the message, or JSON that has no binary form; says why."""


def to_binary(model: type[Message], message: Any) -> bytes:
    """``message`` (a proto3-JSON dict) as the binary encoding of ``model``'s message.

    :class:`BinaryError` when protobuf's JSON parser refuses it (a wrong type, an unknown
    field): such a message has no binary form.
    """
    cls = message_class(model)
    try:
        parsed = json_format.ParseDict(message, cls())
    except (json_format.ParseError, TypeError, ValueError, AttributeError) as error:
        raise BinaryError(f"not a {model.__proto_name__} message: {error}") from None
    data: bytes = parsed.SerializeToString()
    return data


def from_binary(model: type[Message], data: bytes) -> dict[str, Any]:
    """The binary ``data`` of ``model``'s message as proto3 JSON.

    :class:`BinaryError` when the bytes do not decode, or decode to a value proto3 JSON
    cannot express (a Timestamp past year 9999).
    """
    cls = message_class(model)
    try:
        parsed = cls.FromString(data)
        decoded: dict[str, Any] = json_format.MessageToDict(parsed)
    except (DecodeError, json_format.Error, ValueError) as error:
        raise BinaryError(f"not a valid {model.__proto_name__} message: {error}") from None
    return decoded
