"""How much state the fake keeps before it answers ``resource_exhausted``.

A fake shared by CI runs and fuzzers must not be killed for memory: every way of adding
state has a ceiling, generous enough that no test suite meets it (a small task costs about
2 KB, an execution about 1.5 KB, so the defaults stop short of a few GB).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """Ceilings on stored state; a write past one gets ``resource_exhausted``."""

    max_tenants: int = 1_000  # tenants holding tasks, executions or their own settings
    max_tasks: int = 100_000  # per tenant
    max_executions: int = 100_000  # per tenant
    max_objects: int = 1_000_000  # tasks and executions of all tenants together

    def __post_init__(self) -> None:
        for name in ("max_tenants", "max_tasks", "max_executions", "max_objects"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be an integer >= 1, got {value!r}")


DEFAULT_LIMITS = Limits()
