"""Pagination given in the URL query, as older JSON SDKs send it.

``gitpod-sdk`` 0.x auto-paginates list methods by putting the next page's ``token`` (and
``pageSize``) in the query string while the body keeps its first ``pagination``. A query
value is used only where the body leaves that pagination field empty, so a client that
sends both never sees its body overridden.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from mockserver.domain import JsonObject

__all__ = ["QUERY_PAGINATION_FIELDS", "merge_query_pagination"]

# query parameter -> PaginationRequest JSON name
QUERY_PAGINATION_FIELDS = {
    "token": "token",
    "pageSize": "pageSize",
    "page_size": "pageSize",
    "pagination.token": "token",
    "pagination.pageSize": "pageSize",
    "pagination.page_size": "pageSize",
}


def merge_query_pagination(message: JsonObject, query_string: bytes) -> JsonObject:
    """``message`` (normalized) with query pagination filled into its empty fields.

    A ``pageSize`` of 1 to 10 ASCII digits becomes an integer; anything else (a superscript
    digit, five thousand digits) is passed on as text for the validator to reject.
    """
    values: dict[str, str] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=False):
        name = QUERY_PAGINATION_FIELDS.get(key)
        if name is not None:
            values.setdefault(name, value)
    if not values:
        return message
    pagination = message.get("pagination")
    if pagination is None:
        pagination = {}
    elif not isinstance(pagination, dict):
        return message  # the validator reports the body's own mistake
    merged = dict(pagination)
    for name, value in values.items():
        if merged.get(name) in (None, "", 0):
            merged[name] = int(value) if name == "pageSize" and _is_small_int(value) else value
    return {**message, "pagination": merged}


def _is_small_int(text: str) -> bool:
    # str.isdigit() admits "²" and other Unicode digits int() refuses, and int() refuses
    # more than 4300 digits; an int32 needs at most 10.
    return 0 < len(text) <= 10 and text.isascii() and text.isdigit()
