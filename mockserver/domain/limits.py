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
    """Ceilings on stored state (a write past one gets ``resource_exhausted``) and on the
    size of what one request builds or answers."""

    max_tenants: int = 1_000  # tenants holding tasks, executions or their own settings
    max_tasks: int = 100_000  # per tenant
    max_executions: int = 100_000  # per tenant
    max_objects: int = 1_000_000  # tasks and executions of all tenants together
    # What one request may make the fake do or send (see docs/reliability.md):
    # steps in one execution's plan (StartTask past it gets resource_exhausted); a
    # chain of 1,000 steps renders in ~1 ms, one of 8,000 kept ~12 MB per start.
    max_plan_steps: int = 1_000
    # Estimated JSON bytes of one list page or overview: a longer page is cut short and
    # carries a next token (pageSize is a maximum); an execution that could not fit one
    # page is refused at StartTask. Unbounded, 25 executions of an 8,000-step chain made
    # one 37 MB page that blocked every other client for 1.2 s; a 4 MiB page of
    # 1,000-step executions still took ~0.5 s to render on a loaded machine, 1 MiB ~0.1 s.
    max_page_bytes: int = 1024 * 1024
    # Bytes of one GET /_mock/logs answer; a longer log ends with a truncation line.
    max_log_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in (
            "max_tenants",
            "max_tasks",
            "max_executions",
            "max_objects",
            "max_plan_steps",
            "max_page_bytes",
            "max_log_bytes",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be an integer >= 1, got {value!r}")


DEFAULT_LIMITS = Limits()
