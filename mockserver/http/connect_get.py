"""Connect unary GET, as the fake reads it: the shared parser's errors as Connect errors.

The query itself is read by :mod:`openapi.dialects.connect_get`, which the contract suite
uses to build the same queries.
"""

from __future__ import annotations

from mockserver.http.connect import ConnectError
from openapi.dialects.connect_get import GetQuery, GetQueryError
from openapi.dialects.connect_get import parse_get_query as _parse
from openapi.errors import Code

__all__ = ["GetQuery", "parse_get_query"]


def parse_get_query(query_string: bytes) -> GetQuery:
    """The GET request's parameters; ``ConnectError(invalid_argument)`` if malformed."""
    try:
        return _parse(query_string)
    except GetQueryError as error:
        raise ConnectError(Code.invalid_argument, f"Connect GET: {error}") from None
