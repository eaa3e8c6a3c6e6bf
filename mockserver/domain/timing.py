"""The default pace of executions, a typed value handed to the backend."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """How long an execution stays PENDING, and how long a step runs without a scenario rule.

    Both are seconds; the values in force when a task is started are recorded in its
    execution, so a later change does not move executions that already exist.
    """

    pending_delay: float = 1.0
    step_duration: float = 2.0

    def __post_init__(self) -> None:
        for name in ("pending_delay", "step_duration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"Timing.{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Timing.{name} must be a finite number >= 0, got {value!r}")
