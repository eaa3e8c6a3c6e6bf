"""Typed models of every message of the task automation API.

One class per protobuf message of ``gitpod.v1.EnvironmentAutomationService``'s task
methods, with the same field names (snake_case here, lowerCamelCase on the wire) and the
validation rules of the official descriptor as :mod:`openapi.fields` annotations.

Conventions, mirroring proto3:

* a scalar without presence defaults to its zero value (``""``, ``False``, ``0``);
* a proto3 ``optional`` scalar and every message field default to ``None`` (absent);
* a repeated field is a ``tuple``, a map a ``dict``.

``__proto_name__`` names the protobuf message a model stands for; ``__oneofs__`` lists
the members of each oneof (at most one may be set);
``__response_required__`` lists fields a response must carry, as the reference marks them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from openapi.errors import Code
from openapi.fields import (
    DefinedOnly,
    Doc,
    IgnoreIfUnpopulated,
    Int64String,
    MapKeyLength,
    MapValueMaxLength,
    MaxItems,
    MinLength,
    Pattern,
    Range,
    Timestamp,
    Uuid,
)

REFERENCE_PATTERN = "^[a-zA-Z0-9_-]{1,128}$"
LIST_FILTER_MAX_ITEMS = 25
PAGE_SIZE_MAX = 100
PAGE_SIZE_DEFAULT = 25
DEPENDS_ON_DOC = (
    "The ids of the tasks this task depends on, each a task of the same environment. An id"
    " that names no task gets `not_found` (HTTP 404), like any unknown id; the task itself,"
    " a task of another environment or a dependency cycle gets `failed_precondition`."
)

Id = Annotated[str, Uuid()]
Ids = tuple[Annotated[str, Uuid()], ...]
Time = Annotated[str, Timestamp()]

model = dataclass(frozen=True, kw_only=True)


class Message:
    """Base of every model: class-level metadata the schema emitter reads."""

    __proto_name__: ClassVar[str] = ""  # the protobuf message's full name
    __oneofs__: ClassVar[dict[str, tuple[str, ...]]] = {}
    __response_required__: ClassVar[tuple[str, ...]] = ()


# --- enums -----------------------------------------------------------------------------


class Principal(enum.Enum):
    """Principal is the principal of the subject."""

    PRINCIPAL_UNSPECIFIED = 0
    PRINCIPAL_ACCOUNT = 1
    PRINCIPAL_USER = 2
    PRINCIPAL_RUNNER = 3
    PRINCIPAL_ENVIRONMENT = 4
    PRINCIPAL_SERVICE_ACCOUNT = 5
    PRINCIPAL_RUNNER_MANAGER = 6


class TaskExecutionPhase(enum.Enum):
    """The phase of a task execution or of one of its steps."""

    TASK_EXECUTION_PHASE_UNSPECIFIED = 0
    TASK_EXECUTION_PHASE_PENDING = 1
    TASK_EXECUTION_PHASE_RUNNING = 2
    TASK_EXECUTION_PHASE_SUCCEEDED = 3
    TASK_EXECUTION_PHASE_FAILED = 4
    TASK_EXECUTION_PHASE_STOPPED = 5


# --- shared resources ------------------------------------------------------------------


@model
class Subject(Message):
    """A principal (user, runner, ...) and its id."""

    __proto_name__ = "gitpod.v1.Subject"

    id: Annotated[str, Uuid(), IgnoreIfUnpopulated(), Doc("id is the UUID of the subject")] = ""
    principal: Annotated[
        Principal, DefinedOnly(), Doc("Principal is the principal of the subject")
    ] = Principal.PRINCIPAL_UNSPECIFIED


@model
class AutomationTrigger(Message):
    """A trigger that starts a task; at most one member is set."""

    __proto_name__ = "gitpod.v1.AutomationTrigger"

    __oneofs__ = {
        "trigger": (
            "manual",
            "post_machine_start",
            "post_environment_start",
            "post_devcontainer_start",
            "prebuild",
            "before_snapshot",
        )
    }

    manual: bool | None = None
    post_machine_start: bool | None = None
    post_environment_start: bool | None = None
    post_devcontainer_start: bool | None = None
    prebuild: bool | None = None
    before_snapshot: bool | None = None


@model
class SecretRef(Message):
    """A reference to a secret."""

    __proto_name__ = "gitpod.v1.SecretRef"

    id: Annotated[str, Uuid(), Doc("id is the UUID of the secret to reference.")] = ""


@model
class EnvironmentVariableSource(Message):
    """Where an environment variable's value comes from."""

    __proto_name__ = "gitpod.v1.EnvironmentVariableSource"

    __oneofs__ = {"source": ("secret_ref",)}

    secret_ref: Annotated[SecretRef | None, Doc("secret_ref references a secret by ID.")] = None


@model
class EnvironmentVariableItem(Message):
    """An environment variable: a literal ``value`` or a ``valueFrom`` source."""

    __proto_name__ = "gitpod.v1.EnvironmentVariableItem"

    __oneofs__ = {"source": ("value", "value_from")}

    name: Annotated[str, MinLength(1), Doc("name is the environment variable name.")] = ""
    value: Annotated[str | None, Doc("value is a literal string value.")] = None
    value_from: Annotated[
        EnvironmentVariableSource | None, Doc("value_from specifies a source for the value.")
    ] = None


@model
class RunsOnDocker(Message):
    """Run inside a docker container."""

    __proto_name__ = "gitpod.v1.RunsOn.Docker"

    image: Annotated[str, MinLength(1)] = ""
    environment: tuple[str, ...] = ()


@model
class RunsOnMachine(Message):
    """Machine runs the service/task directly on the VM/machine level."""

    __proto_name__ = "gitpod.v1.RunsOn.Machine"


@model
class RunsOn(Message):
    """Where a task runs: ``docker`` or ``machine``."""

    __proto_name__ = "gitpod.v1.RunsOn"

    __oneofs__ = {"target": ("docker", "machine")}

    docker: RunsOnDocker | None = None
    machine: Annotated[
        RunsOnMachine | None,
        Doc("Machine runs the service/task directly on the VM/machine level."),
    ] = None


@model
class TaskSpec(Message):
    """What a task runs, and where."""

    __proto_name__ = "gitpod.v1.TaskSpec"

    command: Annotated[str, Doc("command contains the command the task should execute")] = ""
    runs_on: Annotated[
        RunsOn | None, Doc("runs_on specifies the environment the task should run on.")
    ] = None
    env: Annotated[
        tuple[EnvironmentVariableItem, ...],
        Doc("env specifies environment variables for the task."),
    ] = ()
    prebuild_requires_success: Annotated[
        bool,
        Doc("prebuild_requires_success makes a prebuild fail when this task fails."),
    ] = False


@model
class TaskMetadata(Message):
    """A task's user-facing identity and triggers."""

    __proto_name__ = "gitpod.v1.TaskMetadata"

    reference: Annotated[
        str,
        Pattern(REFERENCE_PATTERN),
        Doc(
            "reference is a user-facing identifier for the task which must be unique on the"
            " environment. It is used to express dependencies between tasks, and to identify"
            " the task in user interactions (e.g. the CLI)."
        ),
    ] = ""
    name: Annotated[
        str,
        MinLength(1),
        Doc(
            "name is a user-facing name for the task. Unlike the reference, this field is not"
            " unique, and not referenced by the system. This is a short descriptive name for"
            " the task."
        ),
    ] = ""
    description: Annotated[
        str,
        Doc(
            "description is a user-facing description for the task. It can be used to provide"
            " context and documentation for the task."
        ),
    ] = ""
    created_at: Annotated[Time, Doc("created_at is the time the task was created.")] = ""
    creator: Annotated[
        Subject | None, Doc("creator describes the principal who created the task.")
    ] = None
    triggered_by: Annotated[
        tuple[AutomationTrigger, ...],
        Doc("triggered_by is a list of trigger that start the task."),
    ] = ()


@model
class Task(Message):
    """An automation task of an environment."""

    __proto_name__ = "gitpod.v1.Task"

    __response_required__ = ("id",)

    id: Id = ""
    environment_id: Id = ""
    metadata: TaskMetadata | None = None
    spec: TaskSpec | None = None
    depends_on: Annotated[
        Ids, Doc("dependencies specifies the IDs of the automations this task depends on.")
    ] = ()


@model
class TaskExecutionMetadata(Message):
    """Who started an execution, and when it started and finished."""

    __proto_name__ = "gitpod.v1.TaskExecutionMetadata"

    task_id: Annotated[Id, Doc("task_id is the ID of the main task being executed.")] = ""
    environment_id: Annotated[
        Id,
        Doc("environment_id is the ID of the environment in which the task run is executed."),
    ] = ""
    created_at: Annotated[Time, Doc("created_at is the time the task was created.")] = ""
    creator: Annotated[
        Subject | None,
        Doc("creator describes the principal who created/started the task run."),
    ] = None
    started_by: Annotated[
        str, Doc("started_by describes the trigger that started the task execution.")
    ] = ""
    started_at: Annotated[
        Time, Doc("started_at is the time the task execution actually started to run.")
    ] = ""
    completed_at: Annotated[Time, Doc("completed_at is the time the task execution was done.")] = ""


@model
class TaskExecutionSpecTask(Message):
    """The task a plan step runs."""

    __proto_name__ = "gitpod.v1.TaskExecutionSpec.Task"

    id: Id = ""
    spec: TaskSpec | None = None


@model
class TaskExecutionSpecStep(Message):
    """One step of an execution plan: a task (or a service)."""

    __proto_name__ = "gitpod.v1.TaskExecutionSpec.Step"

    __oneofs__ = {"step": ("task", "service_id")}

    id: Annotated[Id, Doc("ID is the ID of the execution step")] = ""
    depends_on: tuple[str, ...] = ()
    label: str = ""
    task: TaskExecutionSpecTask | None = None
    service_id: Annotated[str | None, Uuid()] = None


@model
class TaskExecutionSpecGroup(Message):
    """Steps that run concurrently."""

    __proto_name__ = "gitpod.v1.TaskExecutionSpec.Group"

    steps: tuple[TaskExecutionSpecStep, ...] = ()


@model
class TaskExecutionSpec(Message):
    """The plan of an execution and the phase it should reach."""

    __proto_name__ = "gitpod.v1.TaskExecutionSpec"

    plan: Annotated[
        tuple[TaskExecutionSpecGroup, ...],
        Doc(
            "plan is a list of groups of steps. The steps in a group are executed"
            " concurrently, while the groups are executed sequentially. The order of the"
            " groups is the order in which they are executed."
        ),
    ] = ()
    desired_phase: Annotated[
        TaskExecutionPhase,
        DefinedOnly(),
        Doc(
            "desired_phase is the phase the task execution should be in. Used to stop a"
            " running task execution early."
        ),
    ] = TaskExecutionPhase.TASK_EXECUTION_PHASE_UNSPECIFIED


@model
class TaskExecutionStatusStep(Message):
    """The status of one plan step; a step that has not started is absent."""

    __proto_name__ = "gitpod.v1.TaskExecutionStatus.Step"

    id: Annotated[Id, Doc("ID is the ID of the execution step")] = ""
    phase: Annotated[
        TaskExecutionPhase, DefinedOnly(), Doc("phase is the current phase of the execution step")
    ] = TaskExecutionPhase.TASK_EXECUTION_PHASE_UNSPECIFIED
    failure_message: Annotated[
        str,
        Doc(
            "failure_message summarises why the step failed to operate. If this is non-empty"
            " the step has failed to operate and will likely transition to a failed state."
        ),
    ] = ""
    output: Annotated[
        dict[str, str],
        MapKeyLength(1, 128),
        MapValueMaxLength(4096),
        Doc(
            "output contains the output of the task execution. setting an output field to"
            " empty string will unset it."
        ),
    ] = field(default_factory=dict)


@model
class TaskExecutionStatus(Message):
    """The observed state of an execution."""

    __proto_name__ = "gitpod.v1.TaskExecutionStatus"

    status_version: Annotated[
        str,
        Int64String(unsigned=True),
        Doc(
            "version of the status update. Task executions themselves are unversioned, but"
            " their status has different versions. The value of this field has no semantic"
            " meaning (e.g. don't interpret it as as a timestamp), but it can be used to"
            " impose a partial order. If a.status_version < b.status_version then a was the"
            " status before b."
        ),
    ] = ""
    phase: Annotated[
        TaskExecutionPhase,
        Doc("the phase of a task execution represents the aggregated phase of all steps."),
    ] = TaskExecutionPhase.TASK_EXECUTION_PHASE_UNSPECIFIED
    failure_message: Annotated[
        str,
        Doc(
            "failure_message summarises why the task execution failed to operate. If this is"
            " non-empty the task execution has failed to operate and will likely transition"
            " to a failed state."
        ),
    ] = ""
    steps: Annotated[
        tuple[TaskExecutionStatusStep, ...],
        Doc(
            "steps provides the status for each individual step of the task execution. If a"
            " step is missing it has not yet started."
        ),
    ] = ()
    log_url: Annotated[
        str,
        Doc(
            "log_url is the URL to the logs of the task's steps. If this is empty, the task"
            " either has no logs or has not yet started."
        ),
    ] = ""


@model
class TaskExecution(Message):
    """One run of a task and of the tasks it depends on."""

    __proto_name__ = "gitpod.v1.TaskExecution"

    __response_required__ = ("id",)

    id: Id = ""
    metadata: TaskExecutionMetadata | None = None
    spec: TaskExecutionSpec | None = None
    status: TaskExecutionStatus | None = None


@model
class PaginationRequest(Message):
    """Which page of a list to return."""

    __proto_name__ = "gitpod.v1.PaginationRequest"

    page_size: Annotated[
        int,
        Range(0, PAGE_SIZE_MAX),
        Doc("Page size is the maximum number of results to retrieve per page. Defaults to 25."),
    ] = 0
    token: Annotated[
        str,
        Doc(
            "Token for the next set of results that was returned as next_token of a response."
            " Opaque: a token the server did not issue gets `invalid_argument` (HTTP 400)."
        ),
    ] = ""


@model
class PaginationResponse(Message):
    """Where the next page starts."""

    __proto_name__ = "gitpod.v1.PaginationResponse"

    next_token: Annotated[
        str, Doc("Token passed for retrieving the next set of results. Empty on the last page.")
    ] = ""


# --- requests and responses ------------------------------------------------------------


@model
class CreateTaskRequest(Message):
    """Create a task in an environment."""

    __proto_name__ = "gitpod.v1.CreateTaskRequest"

    environment_id: Id = ""
    metadata: TaskMetadata | None = None
    spec: TaskSpec | None = None
    depends_on: Annotated[Ids, Doc(DEPENDS_ON_DOC)] = ()


@model
class CreateTaskResponse(Message):
    """The created task."""

    __proto_name__ = "gitpod.v1.CreateTaskResponse"

    __response_required__ = ("task",)

    task: Task | None = None


@model
class GetTaskRequest(Message):
    """Read one task."""

    __proto_name__ = "gitpod.v1.GetTaskRequest"

    id: Id = ""


@model
class GetTaskResponse(Message):
    """The task."""

    __proto_name__ = "gitpod.v1.GetTaskResponse"

    __response_required__ = ("task",)

    task: Task | None = None


@model
class ListTasksRequestFilter(Message):
    """Restricts a task list; each list is OR-ed, the lists are AND-ed."""

    __proto_name__ = "gitpod.v1.ListTasksRequest.Filter"

    environment_ids: Annotated[Ids, MaxItems(LIST_FILTER_MAX_ITEMS)] = ()
    references: Annotated[
        tuple[Annotated[str, MinLength(1)], ...], MaxItems(LIST_FILTER_MAX_ITEMS)
    ] = ()
    task_ids: Annotated[Ids, MaxItems(LIST_FILTER_MAX_ITEMS)] = ()


@model
class ListTasksRequest(Message):
    """List tasks, a page at a time."""

    __proto_name__ = "gitpod.v1.ListTasksRequest"

    pagination: PaginationRequest | None = None
    filter: ListTasksRequestFilter | None = None


@model
class ListTasksResponse(Message):
    """A page of tasks."""

    __proto_name__ = "gitpod.v1.ListTasksResponse"

    pagination: PaginationResponse | None = None
    tasks: tuple[Task, ...] = ()


@model
class AutomationTriggerUpdate(Message):
    """The new trigger list of a task."""

    __proto_name__ = "gitpod.v1.UpdateTaskRequest.AutomationTriggerUpdate"

    trigger: tuple[AutomationTrigger, ...] = ()


@model
class UpdateTaskRequestTaskMetadata(Message):
    """The metadata fields an update may replace; an absent field is kept."""

    __proto_name__ = "gitpod.v1.UpdateTaskRequest.TaskMetadata"

    name: Annotated[str | None, MinLength(1)] = None
    description: str | None = None
    triggered_by: AutomationTriggerUpdate | None = None


@model
class UpdateTaskRequestTaskSpec(Message):
    """The spec fields an update may replace; an absent field is kept."""

    __proto_name__ = "gitpod.v1.UpdateTaskRequest.TaskSpec"

    command: str | None = None
    runs_on: RunsOn | None = None
    env: tuple[EnvironmentVariableItem, ...] = ()
    prebuild_requires_success: bool | None = None


@model
class UpdateTaskRequest(Message):
    """Change some fields of a task."""

    __proto_name__ = "gitpod.v1.UpdateTaskRequest"

    id: Id = ""
    metadata: UpdateTaskRequestTaskMetadata | None = None
    spec: UpdateTaskRequestTaskSpec | None = None
    depends_on: Annotated[Ids, Doc(DEPENDS_ON_DOC)] = ()


@model
class UpdateTaskResponse(Message):
    """Empty."""

    __proto_name__ = "gitpod.v1.UpdateTaskResponse"


@model
class DeleteTaskRequest(Message):
    """Delete a task."""

    __proto_name__ = "gitpod.v1.DeleteTaskRequest"

    id: Id = ""


@model
class DeleteTaskResponse(Message):
    """Empty."""

    __proto_name__ = "gitpod.v1.DeleteTaskResponse"


@model
class StartTaskRequest(Message):
    """Start a new execution of a task."""

    __proto_name__ = "gitpod.v1.StartTaskRequest"

    id: Id = ""


@model
class StartTaskResponse(Message):
    """The new execution."""

    __proto_name__ = "gitpod.v1.StartTaskResponse"

    __response_required__ = ("task_execution",)

    task_execution: TaskExecution | None = None


@model
class ListTaskExecutionsRequestFilter(Message):
    """Restricts an execution list; each list is OR-ed, the lists are AND-ed."""

    __proto_name__ = "gitpod.v1.ListTaskExecutionsRequest.Filter"

    task_ids: Annotated[Ids, MaxItems(LIST_FILTER_MAX_ITEMS)] = ()
    task_references: Annotated[tuple[str, ...], MaxItems(LIST_FILTER_MAX_ITEMS)] = ()
    environment_ids: Annotated[Ids, MaxItems(LIST_FILTER_MAX_ITEMS)] = ()
    phases: Annotated[tuple[TaskExecutionPhase, ...], MaxItems(LIST_FILTER_MAX_ITEMS)] = ()


@model
class ListTaskExecutionsRequest(Message):
    """List executions, a page at a time."""

    __proto_name__ = "gitpod.v1.ListTaskExecutionsRequest"

    pagination: PaginationRequest | None = None
    filter: ListTaskExecutionsRequestFilter | None = None


@model
class ListTaskExecutionsResponse(Message):
    """A page of executions."""

    __proto_name__ = "gitpod.v1.ListTaskExecutionsResponse"

    pagination: PaginationResponse | None = None
    task_executions: tuple[TaskExecution, ...] = ()


@model
class GetTaskExecutionRequest(Message):
    """Read one execution."""

    __proto_name__ = "gitpod.v1.GetTaskExecutionRequest"

    id: Id = ""


@model
class GetTaskExecutionResponse(Message):
    """The execution."""

    __proto_name__ = "gitpod.v1.GetTaskExecutionResponse"

    __response_required__ = ("task_execution",)

    task_execution: TaskExecution | None = None


@model
class StopTaskExecutionRequest(Message):
    """Stop an execution that has not finished."""

    __proto_name__ = "gitpod.v1.StopTaskExecutionRequest"

    id: Id = ""


@model
class StopTaskExecutionResponse(Message):
    """Empty."""

    __proto_name__ = "gitpod.v1.StopTaskExecutionResponse"


# --- errors ----------------------------------------------------------------------------


@model
class ConnectErrorDetail(Message):
    """A Connect error detail: a protobuf Any, as Connect's JSON error format writes it."""

    type: str = ""
    value: str = ""


@model
class ConnectError(Message):
    """The body of every Connect error response, whatever the request codec."""

    __response_required__ = ("code",)

    code: Code = Code.unknown
    message: str = ""
    details: tuple[ConnectErrorDetail, ...] = ()
