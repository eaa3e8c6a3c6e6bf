"""The wire dialects of the Connect protocol: one reader and one writer each, shared.

The fake (``mockserver``) and the contract suite (``contracts``) both need them, and the
suite never imports the fake, so they live here, beside the method table:

- :mod:`~openapi.dialects.messages`: the official message class of a request or response;
- :mod:`~openapi.dialects.binary`: proto3 JSON <-> binary protobuf, by protobuf's own
  ``json_format`` and ``SerializeToString`` / ``FromString``;
- :mod:`~openapi.dialects.compression`: gzip, bounded on the way in;
- :mod:`~openapi.dialects.connect_get`: a Connect GET's URL query, built and parsed.

The fake's hot path keeps its own compiled binary encoder and decoder
(``mockserver.http.wire``, whose opening comment gives the figures that justified it);
everything else about the dialects is defined once, here.
"""

from __future__ import annotations

from openapi.dialects.binary import BinaryError, from_binary, to_binary
from openapi.dialects.compression import (
    GZIP,
    MAX_GZIP_MEMBERS,
    GzipError,
    gunzip,
    gzip_body,
)
from openapi.dialects.connect_get import GetQuery, GetQueryError, build_get_query, parse_get_query
from openapi.dialects.messages import message_class, request_class, response_class

__all__ = [
    # compression
    "GZIP",
    "MAX_GZIP_MEMBERS",
    # binary protobuf
    "BinaryError",
    # Connect GET
    "GetQuery",
    "GetQueryError",
    "GzipError",
    "build_get_query",
    "from_binary",
    "gunzip",
    "gzip_body",
    # message classes
    "message_class",
    "parse_get_query",
    "request_class",
    "response_class",
    "to_binary",
]
