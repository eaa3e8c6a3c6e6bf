"""Stored state is bounded: past a limit a write gets resource_exhausted, nothing else."""

from __future__ import annotations

import pytest

from mockserver.domain import (
    Backend,
    Caller,
    Limits,
    ManualClock,
    ResourceExhausted,
    SequentialIds,
)
from tests.support.factories import task_body


def _backend(**limits: int) -> Backend:
    return Backend(ManualClock(), SequentialIds(), limits=Limits(**limits))


def test_tasks_per_tenant_are_limited() -> None:
    backend = _backend(max_tasks=2)
    caller = Caller("a")
    first = backend.create_task(caller, task_body(reference="a"))["task"]
    backend.create_task(caller, task_body(reference="b"))
    with pytest.raises(ResourceExhausted, match="2 tasks"):
        backend.create_task(caller, task_body(reference="c"))
    backend.create_task(Caller("other"), task_body(reference="c"))  # per tenant
    backend.delete_task(caller, {"id": first["id"]})
    backend.create_task(caller, task_body(reference="c"))  # room again


def test_executions_per_tenant_are_limited() -> None:
    backend = _backend(max_executions=1)
    caller = Caller("a")
    task = backend.create_task(caller, task_body())["task"]
    backend.start_task(caller, {"id": task["id"]})
    with pytest.raises(ResourceExhausted, match="1 executions"):
        backend.start_task(caller, {"id": task["id"]})


def test_tenants_are_limited_and_a_reset_makes_room() -> None:
    backend = _backend(max_tenants=2)
    backend.create_task(Caller("a"), task_body())
    backend.create_task(Caller("b"), task_body())
    with pytest.raises(ResourceExhausted, match="2 tenants"):
        backend.create_task(Caller("c"), task_body())
    backend.create_task(Caller("a"), task_body(reference="more"))  # known tenants go on
    backend.reset(Caller("a"))
    backend.create_task(Caller("c"), task_body())


def test_tenant_settings_are_limited_too() -> None:
    backend = _backend(max_tenants=1)
    backend.advance_clock(1, Caller("a"))
    with pytest.raises(ResourceExhausted):
        backend.advance_clock(1, Caller("b"))


def test_objects_of_all_tenants_are_limited() -> None:
    backend = _backend(max_objects=3)
    backend.create_task(Caller("a"), task_body(reference="a"))
    task = backend.create_task(Caller("b"), task_body(reference="a"))["task"]
    backend.start_task(Caller("b"), {"id": task["id"]})
    with pytest.raises(ResourceExhausted, match="3 tasks and executions"):
        backend.create_task(Caller("c"), task_body())
    backend.reset()
    backend.create_task(Caller("c"), task_body())


def test_an_import_past_a_limit_changes_nothing() -> None:
    source = _backend()
    for index in range(3):
        source.create_task(Caller("a"), task_body(reference=f"r{index}"))
    export = source.export_state()
    target = _backend(max_tasks=2)
    target.create_task(Caller("x"), task_body())
    with pytest.raises(ResourceExhausted, match="more than 2 tasks"):
        target.import_state(export)
    with pytest.raises(ResourceExhausted):
        target.import_state(export, Caller("y"))
    assert target.export_state()["tenants"]
    small = _backend(max_objects=3)
    small.create_task(Caller("x"), task_body())
    with pytest.raises(ResourceExhausted, match="more than 3 tasks and executions"):
        small.import_state(export, Caller("y"))
    small.import_state(export, Caller("x"))  # replaces x's own task: fits
