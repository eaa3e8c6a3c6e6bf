"""Names of the nine EnvironmentAutomationService RPCs the fake implements."""

from __future__ import annotations

METHOD_NAMES: tuple[str, ...] = (
    "CreateTask",
    "GetTask",
    "ListTasks",
    "UpdateTask",
    "DeleteTask",
    "StartTask",
    "ListTaskExecutions",
    "GetTaskExecution",
    "StopTaskExecution",
)
