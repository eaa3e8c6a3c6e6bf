"""Valid requests and well-known ids for tests that talk to the API."""

from __future__ import annotations

from typing import Any

__all__ = ["ENV", "MISSING", "OTHER_ENV", "task_body"]

ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"
OTHER_ENV = "d2c94c27-3b76-4a42-b88c-95a85e392c68"
MISSING = "00000000-0000-4000-8000-000000000000"


def task_body(reference: str = "build", environment_id: str = ENV, **extra: Any) -> dict[str, Any]:
    """A valid CreateTask request (proto3 JSON)."""
    body: dict[str, Any] = {
        "environmentId": environment_id,
        "metadata": {"name": reference.title(), "reference": reference},
        "spec": {"command": f"make {reference}"},
    }
    body.update(extra)
    return body
