"""The official generated message class of each model, from the SDK's descriptors.

The descriptors come from the official SDK (``gitpod-sdk``, module
``gitpod.v1.environment_automation_pb2``), a runtime dependency already: they are the
wire truth, so field numbers and types can never drift from what real clients send.
Each model names its protobuf message in ``__proto_name__``.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pool, message_factory

from openapi.methods import RpcMethod
from openapi.models import Message

__all__ = ["message_class", "request_class", "response_class"]


def _load_descriptors() -> None:
    # Importing the module registers its messages (and their imports) in the default pool.
    from gitpod.v1 import environment_automation_pb2

    del environment_automation_pb2


def message_class(model: type[Message]) -> Any:
    """The official generated message class for ``model`` (by its ``__proto_name__``)."""
    if not model.__proto_name__:
        raise LookupError(f"{model.__name__} names no protobuf message")
    return _class_named(model.__proto_name__)


@functools.cache
def _class_named(full_name: str) -> Any:
    _load_descriptors()
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(descriptor)


def request_class(method: RpcMethod) -> Any:
    """The message class of ``method``'s request."""
    return message_class(method.request)


def response_class(method: RpcMethod) -> Any:
    """The message class of ``method``'s response."""
    return message_class(method.response)
