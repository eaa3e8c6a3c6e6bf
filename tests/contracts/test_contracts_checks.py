"""Single-response checks, on hand-made exchanges (no server)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from contracts.checks import (
    connect_error_consistency,
    content_type_conformance,
    invalid_request_rejected,
    missing_token_rejected,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    valid_request_accepted,
)
from contracts.document import Document, load_document
from contracts.exchange import Exchange, curl_command
from contracts.failures import CheckFailed
from tests.support.exchanges import json_exchange

_TASK = {
    "id": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
    "environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048",
}


@pytest.fixture(scope="module")
def doc() -> Document:
    return load_document()


def exchange(
    operation: str,
    status: int,
    body: object,
    *,
    request: object = None,
    content_type: str = "application/json",
) -> Exchange:
    return json_exchange(operation, body, status=status, request=request, content_type=content_type)


def test_checks_accept_a_conforming_success(doc: Document) -> None:
    ok = exchange("GetTask", 200, {"task": _TASK})
    for check in (
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        connect_error_consistency,
        valid_request_accepted,
    ):
        check(ok, doc)


def test_checks_response_schema_names_the_missing_field(doc: Document) -> None:
    with pytest.raises(CheckFailed) as failed:
        response_schema_conformance(exchange("GetTask", 200, {"task": {}}), doc)
    assert failed.value.check == "response_schema_conformance"
    assert "id" in failed.value.received


def test_checks_connect_error_consistency_compares_code_and_status(doc: Document) -> None:
    connect_error_consistency(exchange("GetTask", 404, {"code": "not_found"}), doc)
    with pytest.raises(CheckFailed) as failed:
        connect_error_consistency(exchange("GetTask", 400, {"code": "not_found"}), doc)
    assert "HTTP 404" in failed.value.expected
    with pytest.raises(CheckFailed):
        connect_error_consistency(exchange("GetTask", 404, {"error": "nope"}), doc)


def test_checks_status_and_content_type(doc: Document) -> None:
    with pytest.raises(CheckFailed):
        status_code_conformance(exchange("ListTasks", 404, {"code": "not_found"}), doc)
    with pytest.raises(CheckFailed):
        content_type_conformance(exchange("GetTask", 200, {}, content_type="text/plain"), doc)
    with pytest.raises(CheckFailed):
        not_a_server_error(exchange("GetTask", 503, {"code": "unavailable"}), doc)


def test_checks_valid_request_may_be_unsatisfiable_but_not_invalid(doc: Document) -> None:
    valid_request_accepted(exchange("GetTask", 404, {"code": "not_found"}), doc)
    valid_request_accepted(exchange("CreateTask", 409, {"code": "already_exists"}), doc)
    with pytest.raises(CheckFailed):
        valid_request_accepted(exchange("GetTask", 400, {"code": "invalid_argument"}), doc)
    # A token the server never issued may be refused.
    stale = exchange(
        "ListTasks", 400, {"code": "invalid_argument"}, request={"pagination": {"token": "x"}}
    )
    valid_request_accepted(stale, doc)


def test_checks_negative_and_auth_expectations(doc: Document) -> None:
    invalid_request_rejected(exchange("GetTask", 400, {"code": "invalid_argument"}), doc)
    with pytest.raises(CheckFailed):
        invalid_request_rejected(exchange("GetTask", 404, {"code": "not_found"}), doc)
    missing_token_rejected(exchange("GetTask", 401, {"code": "unauthenticated"}), doc)
    with pytest.raises(CheckFailed):
        missing_token_rejected(exchange("GetTask", 200, {"task": _TASK}), doc)


def test_checks_curl_hides_a_given_token_and_escapes_control_characters() -> None:
    body = json.dumps({"name": "a\u0001b"}, ensure_ascii=False).encode()
    command = curl_command("http://x/GetTask", {"Authorization": "Bearer s3cret"}, body, "TOKEN")
    assert "s3cret" not in command and "$TOKEN" in command
    assert "\\u0001" in command
    binary = curl_command("http://x/GetTask", {}, b"\xff\x00", None)
    assert binary.startswith("printf '\\377\\000' | curl ") and "--data-binary @-" in binary


def test_checks_accept_a_415_without_a_body(doc: Document) -> None:
    # The Connect protocol requires only the status (connect-python's runtime sends no body).
    bodiless = dataclasses.replace(exchange("CreateTask", 415, None, content_type=""), content=b"")
    for check in (status_code_conformance, content_type_conformance, connect_error_consistency,
                  response_schema_conformance):  # fmt: skip
        check(bodiless, doc)
    with pytest.raises(CheckFailed):
        connect_error_consistency(exchange("CreateTask", 400, None), doc)
