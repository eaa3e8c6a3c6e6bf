"""The dialect checks and the dialect draw, on hand-made exchanges (no server)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from contracts.checks import (
    COMMON_CHECKS,
    answers_agree,
    connect_error_consistency,
    content_type_conformance,
    dialect_supported,
    protocol_refusal,
    response_decodes,
    response_schema_conformance,
    valid_request_accepted,
)
from contracts.dialects import (
    DIALECTS,
    JSON_POST,
    Dialect,
    draw_dialect,
    parse_dialects,
)
from contracts.document import Document, load_document
from contracts.exchange import Exchange, undo_content_encoding
from contracts.failures import CheckFailed
from openapi.dialects import build_get_query, gzip_body, to_binary
from openapi.models import GetTaskResponse

_TASK = {
    "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
    "environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048",
    "metadata": {"name": "build"},
}
_PROTO = Dialect("proto", "proto")
_GET_PROTO = Dialect("get", "proto")
_GZIP_JSON = Dialect("gzip", "json")


@pytest.fixture(scope="module")
def doc() -> Document:
    return load_document()


def exchange(
    operation: str,
    status: int,
    content: bytes,
    *,
    dialect: Dialect = JSON_POST,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    http_method: str = "POST",
    url: str = "",
) -> Exchange:
    response_headers = {"content-type": content_type, **(headers or {})}
    body, problem = undo_content_encoding(response_headers, content)
    return Exchange(
        operation=operation,
        url=url or f"http://x/{operation}",
        request_headers={},
        request_body=b"{}",
        status=status,
        response_headers=response_headers,
        content=body,
        sent_at=0.0,
        received_at=0.0,
        curl="curl ...",
        dialect=dialect,
        http_method=http_method,
        encoding_problem=problem,
    )


def _binary_task() -> bytes:
    return to_binary(GetTaskResponse, {"task": _TASK})


def test_dialect_checks_a_binary_success_is_read_as_proto3_json(doc: Document) -> None:
    answer = exchange(
        "GetTask", 200, _binary_task(), dialect=_PROTO, content_type="application/proto"
    )
    assert answer.body == {"task": _TASK}
    for check in COMMON_CHECKS:
        check(answer, doc)


def test_dialect_checks_a_success_must_be_in_the_requests_codec(doc: Document) -> None:
    json_answer = exchange("GetTask", 200, json.dumps({"task": _TASK}).encode(), dialect=_PROTO)
    with pytest.raises(CheckFailed, match="to a proto request"):
        content_type_conformance(json_answer, doc)


def test_dialect_checks_an_error_is_json_whatever_the_codec(doc: Document) -> None:
    error = exchange("GetTask", 404, b'{"code": "not_found", "message": "no"}', dialect=_GET_PROTO)
    for check in COMMON_CHECKS:
        check(error, doc)
    binary_error = dataclasses.replace(
        error, response_headers={"content-type": "application/proto"}
    )
    with pytest.raises(CheckFailed, match="application/json"):
        content_type_conformance(binary_error, doc)


def test_dialect_checks_an_undecodable_binary_body_fails_response_decodes_alone(
    doc: Document,
) -> None:
    broken = exchange("GetTask", 200, b"\x0a\xff", dialect=_PROTO, content_type="application/proto")
    with pytest.raises(CheckFailed, match=r"to a proto request: the binary body does not decode"):
        response_decodes(broken, doc)
    response_schema_conformance(broken, doc)  # left to response_decodes


def test_dialect_checks_gzip_that_is_not_gzip_fails_response_decodes_alone(doc: Document) -> None:
    plain = b'{"code": "not_found", "message": "no"}'
    lying = exchange(
        "GetTask", 404, plain, dialect=_GZIP_JSON, headers={"content-encoding": "gzip"}
    )
    with pytest.raises(CheckFailed) as failed:
        response_decodes(lying, doc)
    assert "Content-Encoding 'gzip', but the body is not gzip" in failed.value.received
    assert "\n" not in failed.value.received
    failing = []
    for check in (*COMMON_CHECKS, valid_request_accepted):
        try:
            check(lying, doc)
        except CheckFailed as problem:
            failing.append(problem.check)
    assert failing == ["response_decodes"]
    honest = exchange(
        "GetTask", 404, gzip_body(plain), dialect=_GZIP_JSON, headers={"content-encoding": "gzip"}
    )
    response_decodes(honest, doc)
    assert honest.error_code == "not_found"


def test_dialect_checks_415_to_a_dialect_is_dialect_supported_alone(doc: Document) -> None:
    refused = exchange(
        "GetTask", 415, b'{"code": "unimplemented", "message": "json only"}', dialect=_PROTO
    )
    with pytest.raises(CheckFailed, match="to a proto request"):
        dialect_supported(refused, doc)
    connect_error_consistency(refused, doc)  # a protocol refusal, not a Connect error
    valid_request_accepted(refused, doc)  # dialect_supported names the dialect


def test_dialect_checks_answers_agree_compares_decoded_messages(doc: Document) -> None:
    reference = exchange("GetTask", 200, json.dumps({"task": _TASK}).encode())
    same = exchange(
        "GetTask", 200, _binary_task(), dialect=_PROTO, content_type="application/proto"
    )
    answers_agree(reference, same)
    later = {"task": {**_TASK, "metadata": {"name": "build", "createdAt": "2030-01-01T00:00:00Z"}}}
    answers_agree(reference, exchange("GetTask", 200, json.dumps(later).encode(), dialect=_PROTO))
    lacking = {"task": {k: v for k, v in _TASK.items() if k != "metadata"}}
    with pytest.raises(CheckFailed, match="dialects_agree") as failed:
        answers_agree(
            reference, exchange("GetTask", 200, json.dumps(lacking).encode(), dialect=_PROTO)
        )
    assert "/task/metadata missing" in failed.value.received
    other_code = exchange("GetTask", 404, b'{"code": "not_found"}', dialect=_GET_PROTO)
    with pytest.raises(CheckFailed, match="connect_get_matches_post"):
        answers_agree(reference, other_code)


def test_dialect_checks_protocol_refusals(doc: Document) -> None:
    allow = {"allow": "GET, POST"}
    put = exchange("GetTask", 405, b"", http_method="PUT", headers=allow)
    protocol_refusal(put, doc)
    with pytest.raises(CheckFailed, match="405 with Allow: GET, POST"):
        protocol_refusal(dataclasses.replace(put, response_headers={}), doc)
    get_delete = exchange("DeleteTask", 405, b"", http_method="GET", headers={"allow": "POST"})
    protocol_refusal(get_delete, doc)
    with pytest.raises(CheckFailed, match="connect_protocol_refusal"):
        protocol_refusal(dataclasses.replace(get_delete, status=404), doc)
    query = build_get_query("yaml", b"id: x", use_base64=False)
    yaml = exchange("GetTask", 415, b"", http_method="GET", url=f"http://x/GetTask?{query}")
    protocol_refusal(yaml, doc)
    with pytest.raises(CheckFailed, match="HTTP 415"):
        protocol_refusal(dataclasses.replace(yaml, status=400), doc)


def test_dialects_draw_is_repeatable_and_uses_every_family() -> None:
    body = {"id": "d2c94c27-3b76-4a42-b88c-95a85e392c68"}
    first = draw_dialect(7, "GetTask", body, DIALECTS)
    assert all(draw_dialect(7, "GetTask", body, DIALECTS) == first for _ in range(3))
    drawn = {draw_dialect(seed, "GetTask", body, DIALECTS).family for seed in range(200)}
    assert drawn == set(DIALECTS)


def test_dialects_no_get_for_a_method_with_side_effects() -> None:
    body = {"id": "d2c94c27-3b76-4a42-b88c-95a85e392c68"}
    drawn = {draw_dialect(seed, "DeleteTask", body, DIALECTS).family for seed in range(200)}
    assert drawn == {"json", "proto", "gzip"}
    assert draw_dialect(1, "DeleteTask", body, ("get",)) == JSON_POST


def test_dialects_a_case_without_a_binary_form_stays_json() -> None:
    wrong_type = {"pagination": {"pageSize": "many"}}
    for seed in range(50):
        assert draw_dialect(seed, "ListTasks", wrong_type, ("proto",)).codec == "json"
    # Valid in binary once protobuf's parser has read it: a negative case that would lose
    # its defect stays JSON too.
    as_string = {"pagination": {"pageSize": "5"}}
    for seed in range(50):
        drawn = draw_dialect(
            seed, "ListTasks", as_string, ("proto",), still_invalid=lambda m: False
        )
        assert drawn.codec == "json"
        assert draw_dialect(seed, "ListTasks", as_string, ("proto",)).codec == "proto"


def test_dialects_parse_refuses_an_unknown_name() -> None:
    assert parse_dialects("proto, get,proto") == ("proto", "get")
    with pytest.raises(ValueError, match="unknown dialect"):
        parse_dialects("json,xml")
