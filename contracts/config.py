"""How a contract run is configured: one frozen value, built by the CLI or the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_EXAMPLES", "SUITES", "SuiteConfig"]

SUITES: tuple[str, ...] = ("positive", "negative", "auth", "stateful", "lifecycle")
DEFAULT_MAX_EXAMPLES = 100


@dataclass(frozen=True)
class SuiteConfig:
    """Everything a run needs to know about the implementation under test.

    ``token``: sent as ``Authorization: Bearer``; None makes up a random one per run (a
    server that partitions state by token then isolates the run). ``seed``: None picks one,
    which the report prints so the run can be repeated. ``schema``: a path or URL of the
    OpenAPI document, else the one committed with the ``openapi`` package.
    """

    base_url: str
    token: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    workers: int = 1
    only: tuple[str, ...] = SUITES
    lifecycle_timeout: float = 30.0
    schema: str | None = None
    request_timeout: float = 30.0

    def __post_init__(self) -> None:
        unknown = [suite for suite in self.only if suite not in SUITES]
        if unknown:
            raise ValueError(f"unknown suite(s) {', '.join(unknown)}; choose from {SUITES}")
        if self.max_examples < 1:
            raise ValueError("max_examples must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
