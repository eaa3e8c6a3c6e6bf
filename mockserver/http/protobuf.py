"""The binary codec (``application/proto``), built on the official message descriptors.

The descriptors come from the official SDK (``gitpod-sdk``, module
``gitpod.v1.environment_automation_pb2``), a runtime dependency already: they are the
wire truth, so field numbers and types can never drift from what real clients send.
The message classes come from :func:`openapi.dialects.message_class` (shared with the
contract suite), once, when the codec is built.

A binary request becomes the proto3-JSON dict a JSON client would have sent (defaults
omitted, 64-bit integers as strings, enums by name), so both codecs share every later step:
normalization, validation and the domain. A response goes the other way, from the
domain's JSON dict to bytes.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from mockserver.domain import JsonObject
from mockserver.http.connect import ConnectError
from mockserver.http.wire import MessageEncoder, decoder_for, encoder_for
from openapi.dialects.messages import message_class
from openapi.errors import Code
from openapi.methods import METHODS, RpcMethod

__all__ = ["PROTO_CONTENT_TYPE", "SHARED_MESSAGES", "ProtoCodec", "message_class"]

PROTO_CONTENT_TYPE = "application/proto"
# Messages whose dicts the domain hands out again and never changes (a rendered task), so
# their bytes can be cached by the dict's identity; see mockserver.http.wire.
SHARED_MESSAGES = frozenset({"gitpod.v1.Task"})


class ProtoCodec:
    """Binary protobuf for the request and response messages of every method."""

    content_type = PROTO_CONTENT_TYPE

    def __init__(self, methods: tuple[RpcMethod, ...] = METHODS) -> None:
        # method name -> (request class, response class): one dict lookup per call.
        self._classes: dict[str, tuple[Any, Any]] = {
            method.name: (message_class(method.request), message_class(method.response))
            for method in methods
        }
        self._decoders = {
            name: decoder_for(request.DESCRIPTOR) for name, (request, _) in self._classes.items()
        }
        # The reads share one set of encoders, so one cache of each task's bytes. A write
        # answers with a task nobody has read yet (CreateTask) or nothing: caching its
        # bytes would cost every write, so writes encode without a cache.
        read_encoders: dict[str, MessageEncoder] = {}
        self._encoders: dict[str, MessageEncoder] = {
            method.name: (
                encoder_for(self._classes[method.name][1].DESCRIPTOR)
                if method.has_side_effects
                else encoder_for(
                    self._classes[method.name][1].DESCRIPTOR, SHARED_MESSAGES, read_encoders
                )
            )
            for method in methods
        }

    def decode(self, body: bytes, method: RpcMethod) -> JsonObject:
        request_class = self._classes[method.name][0]
        try:
            message = request_class.FromString(body)
        except DecodeError as error:
            raise ConnectError(
                Code.invalid_argument,
                f"request body is not a valid {method.request.__proto_name__} message: {error}",
            ) from None
        # Proto3 JSON as a client would write it: JSON names, no defaults, int64 as strings.
        try:
            decoded: JsonObject = self._decoders[method.name](message)
        except (json_format.Error, ValueError) as error:
            # Wire-valid but without a proto3-JSON form, e.g. a Timestamp past year 9999;
            # a JSON client could not send it either, so both codecs refuse it alike.
            raise ConnectError(
                Code.invalid_argument,
                f"request body is not a valid {method.request.__proto_name__} message: {error}",
            ) from None
        return decoded

    def encode(self, message: JsonObject, method: RpcMethod) -> bytes:
        # Straight from the dict to bytes: json_format.ParseDict costs ~75 µs a task.
        return self._encoders[method.name].encode(message)
