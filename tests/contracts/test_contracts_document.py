"""What the suite reads from the document, and the proto3 JSON leniency it allows for."""

from __future__ import annotations

from contracts.document import load_document


def test_document_lists_the_nine_methods_and_their_statuses() -> None:
    doc = load_document()
    assert len(doc.operations) == 9
    assert 404 in doc.statuses("GetTask") and 404 not in doc.statuses("ListTasks")


def test_document_wire_leniency_of_negative_cases() -> None:
    doc = load_document()
    # A decimal string is a valid int32 in proto3 JSON.
    assert doc.accepts_on_the_wire("ListTasks", {"pagination": {"pageSize": "5"}})
    assert not doc.accepts_on_the_wire("ListTasks", {"pagination": {"pageSize": 101}})
    assert not doc.accepts_on_the_wire("GetTask", {"id": "not-a-uuid"})
    # `null` means absent, also for a oneof holder.
    assert doc.accepts_on_the_wire(
        "UpdateTask", {"id": "d2c94c27-3b76-4a42-b88c-95a85e392c68", "spec": {"runsOn": None}}
    )


def test_document_unknown_enum_names_are_dropped_before_counting() -> None:
    doc = load_document()
    assert doc.accepts_on_the_wire("ListTaskExecutions", {"filter": {"phases": ["x"] * 30}})
    phases = ["TASK_EXECUTION_PHASE_FAILED"] * 30
    assert not doc.accepts_on_the_wire("ListTaskExecutions", {"filter": {"phases": phases}})
    # A scalar where a list belongs is a type error, not an unknown name.
    assert not doc.accepts_on_the_wire("ListTaskExecutions", {"filter": {"phases": "x"}})


def test_document_strips_snake_case_aliases_of_known_fields() -> None:
    doc = load_document()
    stripped = doc.strip_aliases(
        {"environment_id": 1, "environmentId": "x", "other": {"page_size": 3}}
    )
    assert stripped == {"environmentId": "x", "other": {}}
