"""Checks on single responses. A check is a plain function that raises :class:`CheckFailed`.

Each check takes the exchange and the document, and says nothing about how the request
was made; the suites decide which checks apply to which requests.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from contracts.document import Document
from contracts.exchange import Exchange
from contracts.failures import CheckFailed
from openapi import HTTP_STATUS, METHODS_BY_NAME, Code
from openapi.dialects import GetQueryError, parse_get_query

__all__ = [
    "ANSWERED",
    "CHECKS_BY_NAME",
    "COMMON_CHECKS",
    "CONNECT_ERROR_CONSISTENCY",
    "CONNECT_GET_MATCHES_POST",
    "CONTENT_TYPE_CONFORMANCE",
    "DIALECTS_AGREE",
    "DIALECT_SUPPORTED",
    "LIST_PAGING_ENDS",
    "MISSING_TOKEN_REJECTED",
    "NEGATIVE_REJECTED",
    "NOT_A_SERVER_ERROR",
    "OTHER_CALLER_CHANGES_NOTHING",
    "OTHER_CALLER_DENIED",
    "OTHER_CALLER_LISTS_EXCLUDE",
    "POSITIVE_ACCEPTED",
    "PROTOCOL_REFUSAL",
    "REQUEST_SCHEMA_CONFORMANCE",
    "RESPONSE_DECODES",
    "RESPONSE_SCHEMA_CONFORMANCE",
    "RESPONSE_TIME",
    "STATUS_CODE_CONFORMANCE",
    "UNKNOWN_FIELDS_IGNORED",
    "Check",
    "Comparison",
    "answered",
    "answers_agree",
    "connect_error_consistency",
    "content_type_conformance",
    "dialect_supported",
    "invalid_request_rejected",
    "missing_token_rejected",
    "next_page_token",
    "not_a_server_error",
    "other_caller_denied",
    "other_caller_left_execution",
    "other_caller_left_executions",
    "other_caller_left_task",
    "other_caller_lists_exclude",
    "protocol_refusal",
    "request_schema_conformance",
    "response_decodes",
    "response_schema_conformance",
    "response_time_within",
    "speaks_the_api",
    "status_code_conformance",
    "unknown_fields_ignored",
    "valid_request_accepted",
]

Check = Callable[[Exchange, Document], None]
# Judges an answer against the answer to the same request in the reference dialect.
Comparison = Callable[[Exchange, Exchange], None]

NOT_A_SERVER_ERROR = "not_a_server_error"
STATUS_CODE_CONFORMANCE = "status_code_conformance"
CONTENT_TYPE_CONFORMANCE = "content_type_conformance"
RESPONSE_SCHEMA_CONFORMANCE = "response_schema_conformance"
CONNECT_ERROR_CONSISTENCY = "connect_error_consistency"
POSITIVE_ACCEPTED = "valid_request_accepted"
NEGATIVE_REJECTED = "invalid_request_rejected"
MISSING_TOKEN_REJECTED = "missing_token_rejected"
# The one check of the client's side: what the validating proxy reports as a client violation.
REQUEST_SCHEMA_CONFORMANCE = "request_schema_conformance"
# PaginationResponse.nextToken: "Empty on the last page". Following the tokens ends.
LIST_PAGING_ENDS = "list_paging_ends"
# Broken object-level authorization (OWASP API1): a caller reaching another's resources.
OTHER_CALLER_DENIED = "other_caller_denied"
OTHER_CALLER_LISTS_EXCLUDE = "other_caller_lists_exclude"
OTHER_CALLER_CHANGES_NOTHING = "other_caller_changes_nothing"
RESPONSE_DECODES = "response_decodes"
DIALECT_SUPPORTED = "dialect_supported"
CONNECT_GET_MATCHES_POST = "connect_get_matches_post"
DIALECTS_AGREE = "dialects_agree"
PROTOCOL_REFUSAL = "connect_protocol_refusal"
UNKNOWN_FIELDS_IGNORED = "unknown_fields_ignored"
ANSWERED = "answered"
RESPONSE_TIME = "response_time"

_CODES = {code.name: code for code in Code}
# How a server may refuse another caller's resource: hide it, or say it is not theirs.
_DENIALS = frozenset({(404, "not_found"), (403, "permission_denied")})
_STOPPED = "TASK_EXECUTION_PHASE_STOPPED"
# The list fields of ListTasks and ListTaskExecutions answers.
_LISTED = ("tasks", "taskExecutions")
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


# HTTP-level refusals of the Connect protocol (wrong HTTP method, unknown codec): not
# Connect errors, so no Connect error body is required with them.
_PROTOCOL_STATUSES = frozenset({405, 415})


def answered(exchange: Exchange, document: Document) -> None:
    """An HTTP answer came back: no time-out, no connection dropped, nothing but HTTP.

    The only check an exchange without an answer gets; its outcome (``timeout``,
    ``dropped``, ``malformed``) tells such failures apart.
    """
    if exchange.transport is not None:
        raise CheckFailed(
            ANSWERED,
            f"{exchange.describe()} to a {exchange.dialect.name} request",
            "an HTTP response within the request timeout",
        )


def response_time_within(limit_ms: float) -> Check:
    """A check that the whole answer arrived within ``limit_ms`` milliseconds
    (``--max-response-time``); failures are named ``response_time``."""

    def response_time(exchange: Exchange, document: Document) -> None:
        took = (exchange.received_at - exchange.sent_at) * 1000
        if exchange.transport is None and took > limit_ms:
            raise CheckFailed(
                RESPONSE_TIME,
                f"{exchange.describe(120)} after {took:.0f} ms",
                f"an answer within {limit_ms:g} ms",
            )

    return response_time


def response_decodes(exchange: Exchange, document: Document) -> None:
    """The answer can be read: its Content-Encoding undone, a binary body decoded with the
    official descriptors. The checks that read the body leave an unreadable one to this one.
    """
    problem = exchange.decode_problem
    if problem is not None:
        raise CheckFailed(
            RESPONSE_DECODES,
            f"HTTP {exchange.status} to a {exchange.dialect.name} request: {problem}",
            "a body the client can read: the Content-Encoding it names, a message that "
            "decodes with the official descriptors",
        )


def _refuses_dialect(exchange: Exchange) -> bool:
    dialect = exchange.dialect
    return (
        exchange.status == 415
        or (exchange.status == 405 and dialect.get)
        or (dialect.gzip and exchange.error_code == "unimplemented")
    )


def dialect_supported(exchange: Exchange, document: Document) -> None:
    """The server speaks every dialect of the protocol: JSON and binary, POST and Connect
    GET (methods without side effects), gzip. A 415 (codec), a 405 to a GET or an
    ``unimplemented`` to a gzip body refuses a dialect the official clients use."""
    dialect = exchange.dialect
    if _refuses_dialect(exchange):
        raise CheckFailed(
            DIALECT_SUPPORTED,
            f"{exchange.describe(160)} to a {dialect.name} request",
            f"the {dialect.name} dialect served as every Connect server serves it",
        )


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


def content_type_conformance(exchange: Exchange, document: Document) -> None:
    """A success is in the request's codec; a Connect error is JSON whatever the codec."""
    if exchange.status in _PROTOCOL_STATUSES and not exchange.content:
        return  # the protocol requires only the status
    expected = exchange.dialect.media_type if exchange.status == 200 else "application/json"
    if _media_type(exchange) != expected:
        raise CheckFailed(
            CONTENT_TYPE_CONFORMANCE,
            f"Content-Type {exchange.content_type or '(none)'!r} (HTTP {exchange.status}) "
            f"to a {exchange.dialect.name} request",
            f"Content-Type {expected!r}",
        )


def response_schema_conformance(exchange: Exchange, document: Document) -> None:
    """The body matches the schema the document gives for the status."""
    if document.response_schema(exchange.operation, exchange.status) is None:
        return
    if exchange.decode_problem is not None:
        return  # response_decodes says why
    if not exchange.is_json:
        raise CheckFailed(RESPONSE_SCHEMA_CONFORMANCE, exchange.describe(), "a JSON body")
    errors = document.response_errors(exchange.operation, exchange.status, exchange.body)
    if errors:
        raise CheckFailed(
            RESPONSE_SCHEMA_CONFORMANCE,
            f"{exchange.describe()} ({'; '.join(errors[:3])})",
            f"a body matching the documented HTTP {exchange.status} response schema",
        )


def request_schema_conformance(exchange: Exchange, document: Document) -> None:
    """The request is a message the document accepts (as a proto3 JSON parser would).

    This judges the client, not the server: the validating proxy reports it apart.
    """
    body = exchange.request_json
    if body is None or not document.accepts_on_the_wire(exchange.operation, body):
        text = exchange.request_body.decode("utf-8", "replace")
        raise CheckFailed(
            REQUEST_SCHEMA_CONFORMANCE,
            f"{exchange.operation} request {text[:300]}",
            f"a body matching the documented {exchange.operation} request schema",
        )


def connect_error_consistency(exchange: Exchange, document: Document) -> None:
    """An error carries a Connect error body whose code travels with this HTTP status."""
    if exchange.status == 200 or exchange.status in _PROTOCOL_STATUSES:
        return
    if exchange.decode_problem is not None:
        return  # response_decodes says why
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


def _judged_elsewhere(exchange: Exchange) -> bool:
    """An answer whose body cannot be read (:func:`response_decodes`) or that refuses the
    dialect (:func:`dialect_supported`): those checks name the dialect; no other repeats it."""
    return exchange.decode_problem is not None or _refuses_dialect(exchange)


def valid_request_accepted(exchange: Exchange, document: Document) -> None:
    """A schema-valid request succeeds, or fails only because it cannot be satisfied."""
    if exchange.status == 200 or _judged_elsewhere(exchange):
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
    if _judged_elsewhere(exchange):
        return
    if exchange.status != 400 or exchange.error_code != "invalid_argument":
        raise CheckFailed(
            NEGATIVE_REJECTED, exchange.describe(), 'HTTP 400 {"code": "invalid_argument"}'
        )


def missing_token_rejected(exchange: Exchange, document: Document) -> None:
    """A request without ``Authorization: Bearer`` gets 401 ``unauthenticated``."""
    if _judged_elsewhere(exchange):
        return
    if exchange.status != 401 or exchange.error_code != "unauthenticated":
        raise CheckFailed(
            MISSING_TOKEN_REJECTED, exchange.describe(), 'HTTP 401 {"code": "unauthenticated"}'
        )


def other_caller_denied(exchange: Exchange, document: Document) -> None:
    """Another caller's resource, named by id, is refused: 404 ``not_found`` or 403
    ``permission_denied`` (whether to admit that it exists is the server's choice)."""
    if (exchange.status, exchange.error_code) not in _DENIALS:
        raise CheckFailed(
            OTHER_CALLER_DENIED,
            exchange.describe(),
            'HTTP 404 {"code": "not_found"} or HTTP 403 {"code": "permission_denied"}: '
            "the resource belongs to another caller",
        )


def other_caller_lists_exclude(hidden: frozenset[str]) -> Check:
    """A check that a list answer shows none of ``hidden`` (ids of another caller's
    resources). Refusing the list (``not_found``, ``permission_denied``) hides them too."""

    def check(exchange: Exchange, document: Document) -> None:
        body = exchange.body
        if exchange.status != 200 or not isinstance(body, dict):
            return  # an error answer lists nothing; the common checks judge it
        shown = sorted(
            str(item["id"])
            for name in _LISTED
            if isinstance(body.get(name), list)
            for item in body[name]
            if isinstance(item, dict) and item.get("id") in hidden
        )
        if shown:
            raise CheckFailed(
                OTHER_CALLER_LISTS_EXCLUDE,
                f"{exchange.operation} lists {', '.join(shown)}, created by another caller",
                "a list without the resources of other callers",
            )

    return check


def other_caller_left_task(before: Mapping[str, Any]) -> Check:
    """A check that the owner's GetTask still shows ``before`` exactly: whatever another
    caller sent (UpdateTask, DeleteTask), it changed nothing, even when it was refused."""

    def check(exchange: Exchange, document: Document) -> None:
        body = exchange.body
        task = body.get("task") if isinstance(body, dict) else None
        if exchange.status != 200:
            received = f"the owner's GetTask: {exchange.describe(160)}"
        elif task != before:
            received = f"the owner's GetTask shows {json.dumps(task)[:300]}"
        else:
            return
        raise CheckFailed(
            OTHER_CALLER_CHANGES_NOTHING,
            received,
            f"task {before.get('id')} as it was before another caller's calls: "
            f"{json.dumps(dict(before))[:300]}",
        )

    return check


def other_caller_left_execution(exchange: Exchange, document: Document) -> None:
    """The owner's GetTaskExecution shows no stop: another caller's StopTaskExecution had
    no effect (nothing else stopped it)."""
    body = exchange.body
    execution = body.get("taskExecution") if isinstance(body, dict) else None
    execution = execution if isinstance(execution, dict) else {}
    spec, status = execution.get("spec"), execution.get("status")
    desired = spec.get("desiredPhase") if isinstance(spec, dict) else None
    phase = status.get("phase") if isinstance(status, dict) else None
    if exchange.status != 200 or _STOPPED in (desired, phase):
        raise CheckFailed(
            OTHER_CALLER_CHANGES_NOTHING,
            f"the owner's GetTaskExecution: {exchange.describe(200)}",
            "the execution not stopped: only another caller asked for a stop",
        )


def other_caller_left_executions(task_id: str, expected: frozenset[str]) -> Check:
    """A check that the owner's ListTaskExecutions of ``task_id`` shows exactly the
    executions it started itself: another caller's StartTask started none."""

    def check(exchange: Exchange, document: Document) -> None:
        body = exchange.body
        items = body.get("taskExecutions") if isinstance(body, dict) else None
        listed = {str(item.get("id")) for item in items or [] if isinstance(item, dict)}
        if exchange.status != 200 or listed != expected:
            raise CheckFailed(
                OTHER_CALLER_CHANGES_NOTHING,
                f"executions of task {task_id}: {sorted(listed) or exchange.describe(160)}",
                f"only {sorted(expected)}, the ones its owner started",
            )

    return check


def speaks_the_api(exchange: Exchange, document: Document) -> bool:
    """Whether an answer is one this API could give at all, right or wrong: a JSON body
    of the operation's documented 200 shape, or an error status with a Connect error body
    (a JSON object whose ``code`` is a Connect code). What a static page, a directory
    listing or another JSON service answers is neither; the pre-flight tells them apart.

    A body its ``Content-Encoding`` does not describe (a plain body marked gzip) is a
    defect of this API for the suites to report (``response_decodes``, exit 1), not a sign
    of another service: the body as received decides."""
    if exchange.encoding_problem is not None:
        exchange = dataclasses.replace(exchange, encoding_problem=None)
    if exchange.status == 200:
        body = exchange.body
        return isinstance(body, dict) and not document.response_errors(
            exchange.operation, 200, body
        )
    return exchange.error_code in _CODES


def next_page_token(exchange: Exchange, used: set[str]) -> str:
    """The ``nextToken`` of a list page ("" on the last page, or when it is no page).

    ``used`` holds the tokens this walk has sent so far; a token handed out again means the
    walk is going round in circles and would never reach the last page: that fails
    :data:`LIST_PAGING_ENDS`. The new token is added to ``used``.
    """
    body = exchange.body
    pagination = body.get("pagination") if isinstance(body, dict) else None
    token = pagination.get("nextToken") if isinstance(pagination, dict) else None
    if exchange.status != 200 or not isinstance(token, str) or not token:
        return ""
    if token in used:
        raise CheckFailed(
            LIST_PAGING_ENDS,
            f"{exchange.operation} handed out nextToken {token[:80]!r} a second time",
            "a token for a page not yet read, or an empty one on the last page: "
            "following nextToken reaches the end",
        )
    used.add(token)
    return token


_IGNORED_IN_COMPARISON = frozenset({"logUrl"})  # a deployment may sign it anew per read


def _comparable(value: Any) -> Any:
    """An answer without its times (``...At``) and ``logUrl``: what may differ between two
    reads of the same thing."""
    if isinstance(value, dict):
        return {
            key: _comparable(item)
            for key, item in value.items()
            if key not in _IGNORED_IN_COMPARISON and not key.endswith("At")
        }
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in b:
                return f"{path}/{key} missing"
            if key not in a:
                return f"{path}/{key} added"
            found = _first_difference(a[key], b[key], f"{path}/{key}")
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}/{index}")
            if found is not None:
                return found
        return None
    return None if a == b else f"{path or '/'}: {_short(b)} instead of {_short(a)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def answers_agree(reference: Exchange, other: Exchange) -> None:
    """The same read sent in two dialects gets the same answer: the same status and code,
    and the same message once decoded (times and ``logUrl`` aside). Bytes are not compared.

    ``reference`` is the JSON POST; a Connect GET that differs fails
    ``connect_get_matches_post``, any other dialect ``dialects_agree``.
    """
    check = CONNECT_GET_MATCHES_POST if other.dialect.get else DIALECTS_AGREE
    where = f"{other.operation} in {other.dialect.name}"
    if (other.status, other.error_code) != (reference.status, reference.error_code):
        raise CheckFailed(
            check,
            f"{where}: {other.describe(160)}",
            f"the JSON POST's answer, HTTP {reference.status}"
            + (f" {reference.error_code}" if reference.error_code else ""),
        )
    if reference.status != 200 or other.body is None:
        return  # an unreadable body is response_decodes' to report
    difference = _first_difference(_comparable(reference.body), _comparable(other.body))
    if difference is not None:
        raise CheckFailed(
            check,
            f"{where} differs from the JSON POST at {difference}",
            "the same message, decoded, as the JSON POST's answer (times aside)",
        )


def _allowed(exchange: Exchange) -> set[str]:
    header = exchange.response_headers.get("allow", "")
    return {part.strip().upper() for part in header.split(",") if part.strip()}


def protocol_refusal(exchange: Exchange, document: Document) -> None:
    """A request the Connect protocol has a refusal for gets that refusal.

    An HTTP method the procedure does not take (GET on a method with side effects, PUT,
    DELETE, ...): 405 with an ``Allow`` header naming what it takes (RFC 9110 requires the
    header with a 405; Connect servers send POST, and GET for methods without side
    effects). A Connect GET whose ``encoding`` the server does not speak: 415, as for an
    unknown ``Content-Type``.
    """
    method = METHODS_BY_NAME.get(exchange.operation)
    if method is None:
        return
    takes = {"POST"} if method.has_side_effects else {"GET", "POST"}
    if exchange.http_method not in takes:
        if exchange.status != 405 or not takes <= _allowed(exchange):
            raise CheckFailed(
                PROTOCOL_REFUSAL,
                f"{exchange.http_method} {exchange.operation}: {exchange.describe(120)} "
                f"(Allow: {exchange.response_headers.get('allow', '(none)')})",
                f"HTTP 405 with Allow: {', '.join(sorted(takes))}",
            )
        return
    if exchange.http_method == "GET":
        try:
            encoding = parse_get_query(urlsplit(exchange.url).query.encode("latin-1")).encoding
        except GetQueryError:
            return
        if encoding not in ("json", "proto") and exchange.status != 415:
            raise CheckFailed(
                PROTOCOL_REFUSAL,
                f"GET {exchange.operation} with encoding={encoding}: {exchange.describe(120)}",
                "HTTP 415: a codec the server does not speak",
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
    response_decodes,
    dialect_supported,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    connect_error_consistency,
)

# The checks that judge one exchange by themselves, by name: what a saved failing
# example is judged by again when a campaign replays it (response_time needs its limit).
CHECKS_BY_NAME: dict[str, Check] = {
    check.__name__: check
    for check in (
        *COMMON_CHECKS,
        answered,
        valid_request_accepted,
        invalid_request_rejected,
        missing_token_rejected,
    )
}
