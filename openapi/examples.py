"""Request examples, after the ones on the published reference page.

They are documentation first; schemathesis also replays them in its "examples" phase,
so each one must be valid against its request schema (a test checks that).
"""

from __future__ import annotations

from typing import Any

__all__ = ["REQUEST_EXAMPLES"]

_ENVIRONMENT_ID = "07e03a28-65a5-4d98-b532-8ea67b188048"
_TASK_ID = "d2c94c27-3b76-4a42-b88c-95a85e392c68"
_EXECUTION_ID = "d2c94c27-3b76-4a42-b88c-95a85e392c68"

REQUEST_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "CreateTask": {
        "create_basic_task": {
            "summary": "Create a basic task",
            "value": {
                "environmentId": _ENVIRONMENT_ID,
                "metadata": {
                    "name": "Build Project",
                    "description": "Builds the project artifacts",
                    "reference": "build-project",
                    "triggeredBy": [{"postEnvironmentStart": True}],
                },
                "spec": {
                    "command": "npm run build",
                    "runsOn": {
                        "docker": {"image": "node:18", "environment": ["NODE_ENV=production"]}
                    },
                },
            },
        },
        "create_task_with_triggers_and_env": {
            "summary": "Create a manually triggered task with environment variables",
            "description": "`dependsOn` (not shown) lists ids of tasks of the same environment "
            "that must exist; an example cannot name one, so it leaves it out.",
            "value": {
                "environmentId": _ENVIRONMENT_ID,
                "metadata": {
                    "name": "Run Tests",
                    "description": "Runs the test suite after building",
                    "reference": "run-tests",
                    "triggeredBy": [{"manual": True}],
                },
                "spec": {
                    "command": "npm test",
                    "env": [{"name": "CI", "value": "true"}],
                    "runsOn": {"machine": {}},
                },
            },
        },
    },
    "GetTask": {"get_task": {"summary": "Get a specific task", "value": {"id": _TASK_ID}}},
    "ListTasks": {
        "list_environment_tasks": {
            "summary": "List tasks for an environment",
            "value": {"filter": {"environmentIds": [_ENVIRONMENT_ID]}},
        },
        "list_with_pagination": {
            "summary": "List with pagination",
            "value": {"pagination": {"pageSize": 20}},
        },
    },
    "UpdateTask": {
        "update_task_name": {
            "summary": "Update task name",
            "value": {"id": _TASK_ID, "metadata": {"name": "Updated Task Name"}},
        },
        "update_task_command": {
            "summary": "Update task command",
            "value": {"id": _TASK_ID, "spec": {"command": "npm run test:coverage"}},
        },
        "update_task_triggers": {
            "summary": "Update task triggers",
            "value": {
                "id": _TASK_ID,
                "metadata": {"triggeredBy": {"trigger": [{"manual": True}]}},
            },
        },
    },
    "DeleteTask": {"delete_task": {"summary": "Delete a task", "value": {"id": _TASK_ID}}},
    "StartTask": {"start_task": {"summary": "Start a task", "value": {"id": _TASK_ID}}},
    "ListTaskExecutions": {
        "list_task_executions": {
            "summary": "List task executions",
            "value": {"filter": {"taskIds": [_TASK_ID]}},
        },
        "filter_by_phase": {
            "summary": "Filter by phase",
            "value": {
                "filter": {
                    "phases": ["TASK_EXECUTION_PHASE_RUNNING", "TASK_EXECUTION_PHASE_FAILED"]
                },
                "pagination": {"pageSize": 20},
            },
        },
    },
    "GetTaskExecution": {
        "get_execution": {"summary": "Get execution details", "value": {"id": _EXECUTION_ID}}
    },
    "StopTaskExecution": {
        "stop_execution": {"summary": "Stop an execution", "value": {"id": _EXECUTION_ID}}
    },
}
