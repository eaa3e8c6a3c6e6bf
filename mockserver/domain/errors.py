"""Domain errors: plain data carrying a Connect error code, rendered by the HTTP layer."""

from __future__ import annotations


class DomainError(Exception):
    """A failed call; ``code`` is the Connect code (``"not_found"``, ...)."""

    code: str = "unknown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(DomainError):
    """The id names nothing the caller owns."""

    code = "not_found"


class AlreadyExists(DomainError):
    """A unique value (a task reference within its environment) is taken."""

    code = "already_exists"


class FailedPrecondition(DomainError):
    """The request is well formed but the current state forbids it."""

    code = "failed_precondition"


class InvalidArgument(DomainError):
    """The request (or imported state) is malformed."""

    code = "invalid_argument"


class Unimplemented(DomainError):
    """The RPC name is not one the fake implements."""

    code = "unimplemented"


class ResourceExhausted(DomainError):
    """A limit on stored state (tenants, tasks, executions) is reached."""

    code = "resource_exhausted"


class Unavailable(DomainError):
    """The fake cannot do this now, through no fault of the request: its ``--state`` file
    could not be written. Nothing changed; the same request may succeed later."""

    code = "unavailable"
