"""The fake's domain layer: tasks, executions, phases and time, with no HTTP in sight.

The HTTP layer decodes a request into a proto3-JSON dict, calls :meth:`Backend.call` with
the :class:`Caller`, and encodes the returned dict (or renders the :class:`DomainError`).
"""

from mockserver.domain.backend import Backend
from mockserver.domain.caller import Caller
from mockserver.domain.clock import Clock, ManualClock, RealClock
from mockserver.domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
    Unimplemented,
)
from mockserver.domain.faults import Fault, FaultRule
from mockserver.domain.ids import IdGenerator, RandomIds, SeededIds, SequentialIds
from mockserver.domain.limits import DEFAULT_LIMITS, Limits
from mockserver.domain.methods import METHOD_NAMES
from mockserver.domain.phases import (
    EXECUTION_TRANSITIONS,
    STEP_TRANSITIONS,
    TERMINAL,
    Phase,
    can_reach,
    can_transition,
)
from mockserver.domain.scenario import Match, Rule, Scenario, ScenarioError, StepBehaviour
from mockserver.domain.timestamps import format_timestamp, in_timestamp_range, parse_timestamp
from mockserver.domain.timing import Timing
from mockserver.domain.types import JsonObject

__all__ = [
    "DEFAULT_LIMITS",
    "EXECUTION_TRANSITIONS",
    "METHOD_NAMES",
    "STEP_TRANSITIONS",
    "TERMINAL",
    "AlreadyExists",
    "Backend",
    "Caller",
    "Clock",
    "DomainError",
    "FailedPrecondition",
    "Fault",
    "FaultRule",
    "IdGenerator",
    "InvalidArgument",
    "JsonObject",
    "Limits",
    "ManualClock",
    "Match",
    "NotFound",
    "Phase",
    "RandomIds",
    "RealClock",
    "ResourceExhausted",
    "Rule",
    "Scenario",
    "ScenarioError",
    "SeededIds",
    "SequentialIds",
    "StepBehaviour",
    "Timing",
    "Unavailable",
    "Unimplemented",
    "can_reach",
    "can_transition",
    "format_timestamp",
    "in_timestamp_range",
    "parse_timestamp",
]
