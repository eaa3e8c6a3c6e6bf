"""Run the selected suites against one implementation and collect a :class:`Report`."""

from __future__ import annotations

import random
import secrets
import sys
import time
from collections.abc import Callable

from contracts.config import SUITES, SuiteConfig
from contracts.context import Progress, RunContext
from contracts.document import load_document
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed, Findings
from contracts.invariants import ExecutionLedger
from contracts.report import Report
from contracts.suites.fuzz import run_auth, run_negative, run_positive
from contracts.suites.lifecycle import run_lifecycle
from contracts.suites.stateful import run_stateful

__all__ = ["SUITE_ERROR", "TOKEN_VARIABLE", "run"]

SUITE_ERROR = "suite_ran_to_completion"
# The environment variable the reproduction commands read a user-given token from.
TOKEN_VARIABLE = "CONTRACTS_TOKEN"

_RUNNERS: dict[str, Callable[[RunContext], None]] = {
    "positive": run_positive,
    "negative": run_negative,
    "auth": run_auth,
    "stateful": run_stateful,
    "lifecycle": run_lifecycle,
}
assert tuple(_RUNNERS) == SUITES


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(config: SuiteConfig, progress: Progress | None = _stderr) -> Report:
    """Run ``config.only`` (in the canonical order) and report; never raises for a defect."""
    say: Progress = progress if progress is not None else (lambda line: None)
    document = load_document(config.schema)
    seed = config.seed if config.seed is not None else random.SystemRandom().getrandbits(32)
    token = config.token or f"contracts-{secrets.token_hex(8)}"
    findings = Findings()
    ledger = ExecutionLedger(findings)

    def count(suite: str, exchange: Exchange) -> None:
        findings.count_request()

    client = Client(
        config.base_url,
        token,
        token_placeholder=TOKEN_VARIABLE if config.token else None,
        timeout=config.request_timeout,
        observers=(count, ledger),
    )
    ctx = RunContext(config, document, client, findings, ledger, seed, say)
    started = time.monotonic()
    say(f"contracts: {config.base_url}, seed {seed}, suites {', '.join(config.only)}")
    with client:
        for suite in SUITES:
            if suite not in config.only:
                continue
            say(f"{suite} ...")
            suite_started = time.monotonic()
            try:
                _RUNNERS[suite](ctx)
            except Exception as exc:
                ctx.fail(
                    suite,
                    "(suite)",
                    CheckFailed(SUITE_ERROR, f"{type(exc).__name__}: {exc}", "the suite to finish"),
                    "",
                )
            say(f"{suite}: {time.monotonic() - suite_started:.1f} s")
    return Report(
        config=config,
        seed=seed,
        failures=tuple(findings.failures),
        units=tuple(ctx.units),
        cases=dict(findings.cases),
        requests=findings.requests,
        seconds=time.monotonic() - started,
    )
