"""Checks on single responses. A check is a plain function that raises :class:`CheckFailed`.

Each check takes the exchange and the document, and says nothing about how the request
was made; the suites decide which checks apply to which requests.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.document import Document
from contracts.exchange import Exchange
from contracts.failures import CheckFailed
from openapi import HTTP_STATUS, Code

__all__ = [
    "COMMON_CHECKS",
    "CONNECT_ERROR_CONSISTENCY",
    "CONTENT_TYPE_CONFORMANCE",
    "MISSING_TOKEN_REJECTED",
    "NEGATIVE_REJECTED",
    "NOT_A_SERVER_ERROR",
    "POSITIVE_ACCEPTED",
    "RESPONSE_SCHEMA_CONFORMANCE",
    "STATUS_CODE_CONFORMANCE",
    "UNKNOWN_FIELDS_IGNORED",
    "Check",
    "connect_error_consistency",
    "content_type_conformance",
    "invalid_request_rejected",
    "missing_token_rejected",
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "unknown_fields_ignored",
    "valid_request_accepted",
]

Check = Callable[[Exchange, Document], None]

NOT_A_SERVER_ERROR = "not_a_server_error"
STATUS_CODE_CONFORMANCE = "status_code_conformance"
CONTENT_TYPE_CONFORMANCE = "content_type_conformance"
RESPONSE_SCHEMA_CONFORMANCE = "response_schema_conformance"
CONNECT_ERROR_CONSISTENCY = "connect_error_consistency"
POSITIVE_ACCEPTED = "valid_request_accepted"
NEGATIVE_REJECTED = "invalid_request_rejected"
MISSING_TOKEN_REJECTED = "missing_token_rejected"
UNKNOWN_FIELDS_IGNORED = "unknown_fields_ignored"

_CODES = {code.name: code for code in Code}
# Errors a valid request may still meet: its subject may not exist or be in the wrong
# state, the caller may lack rights to a random environment, or be rate limited.
_SATISFIABILITY_CODES = frozenset(
    {
        "not_found",
        "failed_precondition",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
    }
)


def _media_type(exchange: Exchange) -> str:
    return exchange.content_type.split(";", 1)[0].strip().lower()


def not_a_server_error(exchange: Exchange, document: Document) -> None:
    """No request, valid or not, may crash the server."""
    if exchange.status >= 500:
        raise CheckFailed(NOT_A_SERVER_ERROR, exchange.describe(), "a status below 500")


def status_code_conformance(exchange: Exchange, document: Document) -> None:
    """The status is one the document lists for the operation."""
    documented = sorted(document.statuses(exchange.operation))
    if exchange.status not in documented:
        raise CheckFailed(
            STATUS_CODE_CONFORMANCE,
            exchange.describe(),
            f"one of the documented statuses {', '.join(map(str, documented))}",
        )


def _bodiless_415(exchange: Exchange) -> bool:
    """A 415 without a body: the Connect protocol requires only the status there."""
    return exchange.status == 415 and not exchange.content


def content_type_conformance(exchange: Exchange, document: Document) -> None:
    """Unary JSON answers, success and error alike, are ``application/json``."""
    if _bodiless_415(exchange):
        return
    if _media_type(exchange) != "application/json":
        raise CheckFailed(
            CONTENT_TYPE_CONFORMANCE,
            f"Content-Type {exchange.content_type or '(none)'!r} (HTTP {exchange.status})",
            "Content-Type 'application/json'",
        )


def response_schema_conformance(exchange: Exchange, document: Document) -> None:
    """The body matches the schema the document gives for the status."""
    if document.response_schema(exchange.operation, exchange.status) is None:
        return
    if not exchange.is_json:
        raise CheckFailed(RESPONSE_SCHEMA_CONFORMANCE, exchange.describe(), "a JSON body")
    errors = document.response_errors(exchange.operation, exchange.status, exchange.body)
    if errors:
        raise CheckFailed(
            RESPONSE_SCHEMA_CONFORMANCE,
            f"{exchange.describe()} ({'; '.join(errors[:3])})",
            f"a body matching the documented HTTP {exchange.status} response schema",
        )


def connect_error_consistency(exchange: Exchange, document: Document) -> None:
    """An error carries a Connect error body whose code travels with this HTTP status."""
    if exchange.status == 200 or _bodiless_415(exchange):
        return
    body = exchange.body
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or code not in _CODES:
        raise CheckFailed(
            CONNECT_ERROR_CONSISTENCY,
            exchange.describe(),
            'a Connect error body {"code": <a Connect code>, "message": ...}',
        )
    expected = HTTP_STATUS[_CODES[code]]
    if expected != exchange.status:
        raise CheckFailed(
            CONNECT_ERROR_CONSISTENCY,
            f"code {code!r} with HTTP {exchange.status}",
            f"code {code!r} with HTTP {expected} (Connect code to HTTP status mapping)",
        )


def _lenient_invalid_argument(exchange: Exchange) -> bool:
    """Whether a valid request may still get invalid_argument: opaque tokens, open enums."""
    body = exchange.request_json
    if not isinstance(body, dict):
        return False
    pagination = body.get("pagination")
    if isinstance(pagination, dict) and pagination.get("token"):
        return True  # a token the server never issued
    flt = body.get("filter")
    phases = flt.get("phases") if isinstance(flt, dict) else None
    # Enum numbers the schema admits, but which may name no phase (or the unspecified one).
    return isinstance(phases, list) and any(
        isinstance(item, int | float) or item == "TASK_EXECUTION_PHASE_UNSPECIFIED"
        for item in phases
    )


def valid_request_accepted(exchange: Exchange, document: Document) -> None:
    """A schema-valid request succeeds, or fails only because it cannot be satisfied."""
    if exchange.status == 200:
        return
    code = exchange.error_code
    if code in _SATISFIABILITY_CODES:
        return
    if code == "invalid_argument" and _lenient_invalid_argument(exchange):
        return
    raise CheckFailed(
        POSITIVE_ACCEPTED,
        exchange.describe(),
        "HTTP 200, or an error saying the valid request cannot be satisfied "
        f"({', '.join(sorted(_SATISFIABILITY_CODES))})",
    )


def invalid_request_rejected(exchange: Exchange, document: Document) -> None:
    """A request that breaks the schema gets 400 ``invalid_argument``."""
    if exchange.status != 400 or exchange.error_code != "invalid_argument":
        raise CheckFailed(
            NEGATIVE_REJECTED, exchange.describe(), 'HTTP 400 {"code": "invalid_argument"}'
        )


def missing_token_rejected(exchange: Exchange, document: Document) -> None:
    """A request without ``Authorization: Bearer`` gets 401 ``unauthenticated``."""
    if exchange.status != 401 or exchange.error_code != "unauthenticated":
        raise CheckFailed(
            MISSING_TOKEN_REJECTED, exchange.describe(), 'HTTP 401 {"code": "unauthenticated"}'
        )


def unknown_fields_ignored(plain: Exchange, extended: Exchange) -> None:
    """A request with an extra unknown field gets the same answer as the request without it.

    connect-go's JSON codec discards unknown fields, so a client built against a newer
    version of the API keeps working; a server that refuses or trips on them breaks it.
    "The same answer" is the same status and Connect code (a read's items may move on).
    """
    if (plain.status, plain.error_code) != (extended.status, extended.error_code):
        without = f"HTTP {plain.status}" + (f" {plain.error_code}" if plain.error_code else "")
        raise CheckFailed(
            UNKNOWN_FIELDS_IGNORED,
            f"{extended.describe()} with an unknown field added",
            f"{without}, the answer without it (Connect servers ignore unknown JSON fields)",
        )


# Every response, whatever the request, must pass these.
COMMON_CHECKS: tuple[Check, ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    connect_error_consistency,
)
