"""Connect error codes and the HTTP status each one travels with.

This is the single code → status table of the project: the generator documents it,
the mock server renders errors with it, and the contract suite checks against it.
"""

from __future__ import annotations

import enum

__all__ = ["HTTP_STATUS", "Code", "codes_for_status"]


class Code(enum.Enum):
    """Connect error codes. Member names are the wire names; values the gRPC numbers."""

    canceled = 1
    unknown = 2
    invalid_argument = 3
    deadline_exceeded = 4
    not_found = 5
    already_exists = 6
    permission_denied = 7
    resource_exhausted = 8
    failed_precondition = 9
    aborted = 10
    out_of_range = 11
    unimplemented = 12
    internal = 13
    unavailable = 14
    data_loss = 15
    unauthenticated = 16


# From the Connect protocol specification ("Error Codes" table).
HTTP_STATUS: dict[Code, int] = {
    Code.canceled: 499,
    Code.unknown: 500,
    Code.invalid_argument: 400,
    Code.deadline_exceeded: 504,
    Code.not_found: 404,
    Code.already_exists: 409,
    Code.permission_denied: 403,
    Code.resource_exhausted: 429,
    Code.failed_precondition: 400,
    Code.aborted: 409,
    Code.out_of_range: 400,
    Code.unimplemented: 501,
    Code.internal: 500,
    Code.unavailable: 503,
    Code.data_loss: 500,
    Code.unauthenticated: 401,
}


def codes_for_status(status: int) -> tuple[Code, ...]:
    """Every code that travels with ``status``, in code order."""
    return tuple(code for code, http in HTTP_STATUS.items() if http == status)
