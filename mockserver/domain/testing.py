"""A deterministic harness for tests of the domain (and of layers built on it).

``World()`` wires a :class:`Backend` to a :class:`ManualClock` and :class:`SequentialIds`
and offers short helpers for the common calls.
"""

from __future__ import annotations

from typing import Any

from mockserver.domain.backend import Backend
from mockserver.domain.caller import Caller
from mockserver.domain.clock import ManualClock
from mockserver.domain.ids import SequentialIds
from mockserver.domain.scenario import Scenario
from mockserver.domain.timing import Timing
from mockserver.domain.types import JsonObject

ENV_A = "aaaaaaaa-0000-4000-8000-000000000001"
ENV_B = "bbbbbbbb-0000-4000-8000-000000000002"
MISSING_ID = "ffffffff-ffff-4fff-8fff-ffffffffffff"


class World:
    """A backend on a manual clock, with a default caller ``alice``."""

    def __init__(
        self,
        timing: Timing | None = None,
        scenario: Scenario | str | None = None,
    ) -> None:
        self.clock = ManualClock()
        if isinstance(scenario, str):
            scenario = Scenario.from_yaml(scenario)
        self.backend = Backend(self.clock, SequentialIds(), timing or Timing(), scenario=scenario)
        self.alice = Caller("alice-token")
        self.bob = Caller("bob-token")

    def call(self, method: str, request: JsonObject, caller: Caller | None = None) -> JsonObject:
        """Any RPC as ``caller`` (default alice)."""
        return self.backend.call(caller or self.alice, method, request)

    def create(
        self,
        reference: str = "",
        *,
        environment_id: str = ENV_A,
        depends_on: list[str] | None = None,
        caller: Caller | None = None,
        **metadata_and_spec: Any,
    ) -> JsonObject:
        """CreateTask; keyword ``name``/``description`` go to metadata, the rest to spec."""
        metadata: JsonObject = {}
        if reference:
            metadata["reference"] = reference
        for key in ("name", "description", "triggeredBy"):
            if key in metadata_and_spec:
                metadata[key] = metadata_and_spec.pop(key)
        request: JsonObject = {
            "environmentId": environment_id,
            "metadata": metadata,
            "spec": metadata_and_spec,
        }
        if depends_on:
            request["dependsOn"] = depends_on
        task: JsonObject = self.call("CreateTask", request, caller)["task"]
        return task

    def task(self, task_id: str, caller: Caller | None = None) -> JsonObject:
        """GetTask."""
        task: JsonObject = self.call("GetTask", {"id": task_id}, caller)["task"]
        return task

    def start(self, task_id: str, caller: Caller | None = None) -> JsonObject:
        """StartTask; the execution."""
        execution: JsonObject = self.call("StartTask", {"id": task_id}, caller)["taskExecution"]
        return execution

    def execution(self, execution_id: str, caller: Caller | None = None) -> JsonObject:
        """GetTaskExecution."""
        execution: JsonObject = self.call("GetTaskExecution", {"id": execution_id}, caller)[
            "taskExecution"
        ]
        return execution

    def stop(self, execution_id: str, caller: Caller | None = None) -> None:
        """StopTaskExecution."""
        self.call("StopTaskExecution", {"id": execution_id}, caller)

    def advance(self, seconds: float) -> None:
        """Move the manual clock forward."""
        self.clock.advance(seconds)
