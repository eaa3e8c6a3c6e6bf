"""The table of RPC methods: the one place that says what the service offers.

The OpenAPI generator, the mock server's routes and the contract suite all read
:data:`METHODS`; nothing else lists the methods.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from openapi import models
from openapi.errors import Code

__all__ = [
    "COMMON_ERRORS",
    "METHODS",
    "METHODS_BY_NAME",
    "SERVICE",
    "Idempotency",
    "RpcMethod",
]

SERVICE = "gitpod.v1.EnvironmentAutomationService"


class Idempotency(enum.Enum):
    """The method's ``idempotency_level`` option in the service descriptor."""

    UNKNOWN = "IDEMPOTENCY_UNKNOWN"
    NO_SIDE_EFFECTS = "NO_SIDE_EFFECTS"


# Any method may reject its input, its caller, or a request that is too large (or one
# over a rate limit); any Connect server may lack a compression the client used
# (unimplemented), run out of the client's Connect-Timeout-Ms (deadline_exceeded), or be
# briefly unable to serve (unavailable). A client must be ready for each of these.
COMMON_ERRORS: tuple[Code, ...] = (
    Code.invalid_argument,
    Code.unauthenticated,
    Code.permission_denied,
    Code.resource_exhausted,
    Code.unimplemented,
    Code.unavailable,
    Code.deadline_exceeded,
)


@dataclass(frozen=True)
class RpcMethod:
    """One unary RPC of the service."""

    name: str
    request: type[models.Message]
    response: type[models.Message]
    idempotency: Idempotency
    errors: tuple[Code, ...]  # beyond COMMON_ERRORS
    summary: str
    tag: str

    @property
    def path(self) -> str:
        return f"/{SERVICE}/{self.name}"

    @property
    def all_errors(self) -> tuple[Code, ...]:
        return COMMON_ERRORS + tuple(code for code in self.errors if code not in COMMON_ERRORS)

    @property
    def has_side_effects(self) -> bool:
        return self.idempotency is not Idempotency.NO_SIDE_EFFECTS


_TASKS = "Tasks"
_EXECUTIONS = "TaskExecutions"

METHODS: tuple[RpcMethod, ...] = (
    RpcMethod(
        "CreateTask",
        models.CreateTaskRequest,
        models.CreateTaskResponse,
        Idempotency.UNKNOWN,
        # not_found: an environment the deployment does not know.
        (Code.not_found, Code.already_exists, Code.failed_precondition),
        "Creates a new automation task in an environment.",
        _TASKS,
    ),
    RpcMethod(
        "GetTask",
        models.GetTaskRequest,
        models.GetTaskResponse,
        Idempotency.NO_SIDE_EFFECTS,
        (Code.not_found,),
        "Gets details about a specific automation task.",
        _TASKS,
    ),
    RpcMethod(
        "ListTasks",
        models.ListTasksRequest,
        models.ListTasksResponse,
        Idempotency.NO_SIDE_EFFECTS,
        (),
        "Lists automation tasks with optional filtering.",
        _TASKS,
    ),
    RpcMethod(
        "UpdateTask",
        models.UpdateTaskRequest,
        models.UpdateTaskResponse,
        Idempotency.UNKNOWN,
        (Code.not_found, Code.failed_precondition),
        "Updates an automation task's configuration.",
        _TASKS,
    ),
    RpcMethod(
        "DeleteTask",
        models.DeleteTaskRequest,
        models.DeleteTaskResponse,
        Idempotency.UNKNOWN,
        (Code.not_found, Code.failed_precondition),
        "Deletes an automation task.",
        _TASKS,
    ),
    RpcMethod(
        "StartTask",
        models.StartTaskRequest,
        models.StartTaskResponse,
        Idempotency.UNKNOWN,
        (Code.not_found, Code.failed_precondition),
        "Starts a task by creating a new task execution.",
        _TASKS,
    ),
    RpcMethod(
        "ListTaskExecutions",
        models.ListTaskExecutionsRequest,
        models.ListTaskExecutionsResponse,
        Idempotency.NO_SIDE_EFFECTS,
        (),
        "Lists executions of automation tasks.",
        _EXECUTIONS,
    ),
    RpcMethod(
        "GetTaskExecution",
        models.GetTaskExecutionRequest,
        models.GetTaskExecutionResponse,
        Idempotency.NO_SIDE_EFFECTS,
        (Code.not_found,),
        "Gets details about a specific task execution.",
        _EXECUTIONS,
    ),
    RpcMethod(
        "StopTaskExecution",
        models.StopTaskExecutionRequest,
        models.StopTaskExecutionResponse,
        Idempotency.UNKNOWN,
        (Code.not_found, Code.failed_precondition),
        "Stops a running task execution.",
        _EXECUTIONS,
    ),
)

METHODS_BY_NAME: dict[str, RpcMethod] = {method.name: method for method in METHODS}
