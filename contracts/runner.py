"""Run the selected suites against one implementation and collect a :class:`Report`."""

from __future__ import annotations

import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable

from contracts.cleanup import Cleanup
from contracts.config import SUITES, SuiteConfig
from contracts.context import Progress, RunContext
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed, Findings
from contracts.invariants import ExecutionLedger
from contracts.preflight import SetupError, check_server, read_document
from contracts.report import Report
from contracts.suites.fuzz import run_auth, run_negative, run_positive
from contracts.suites.lifecycle import run_lifecycle
from contracts.suites.stateful import run_stateful

__all__ = ["SUITE_ERROR", "TOKEN_VARIABLE", "SetupError", "run"]

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
    """Run ``config.suites`` (in the canonical order) and report.

    Never raises for a defect of the implementation. Raises :class:`SetupError` when the
    run cannot judge it (schema unreadable, server unreachable, token refused, ...), after
    cleaning up whatever it had created. Ctrl-C ends the suites early; the run still
    cleans up and reports, marked interrupted.
    """
    say: Progress = progress if progress is not None else (lambda line: None)
    document = read_document(config.schema)
    seed = config.seed if config.seed is not None else random.SystemRandom().getrandbits(32)
    token = config.token or f"contracts-{secrets.token_hex(8)}"
    findings = Findings()
    ledger = ExecutionLedger(findings)
    cleanup = Cleanup()

    def count(suite: str, exchange: Exchange) -> None:
        findings.count_request()

    client = Client(
        config.base_url,
        token,
        token_placeholder=TOKEN_VARIABLE if config.token else None,
        timeout=config.request_timeout,
        observers=(count, ledger, cleanup),
        rate_limit=config.rate_limit,
        retries=config.retries,
        allowed=document.read_only_operations if config.read_only else None,
    )
    environments = config.environment_ids or tuple(str(uuid.uuid4()) for _ in range(3))
    ctx = RunContext(
        config, document, client, findings, ledger, seed, say, environment_ids=environments
    )
    started = time.monotonic()
    interrupted = False
    with client:
        check_server(client, config.environment_ids, token_given=config.token is not None)
        say(f"contracts: {config.base_url}, seed {seed}, suites {', '.join(config.suites)}")
        try:
            for suite in config.suites:
                say(f"{suite} ...")
                suite_started = time.monotonic()
                try:
                    _RUNNERS[suite](ctx)
                except SetupError:
                    raise
                except Exception as exc:
                    ctx.fail(
                        suite,
                        "(suite)",
                        CheckFailed(
                            SUITE_ERROR, f"{type(exc).__name__}: {exc}", "the suite to finish"
                        ),
                        "",
                    )
                say(f"{suite}: {time.monotonic() - suite_started:.1f} s")
        except KeyboardInterrupt:
            interrupted = True
            say("interrupted: cleaning up (Ctrl-C again to leave it undone)")
        except SetupError as problem:
            problem.cleanup = cleanup.run(client, keep=config.keep)
            raise
        cleaned = cleanup.run(client, keep=config.keep)
    return Report(
        config=config,
        seed=seed,
        failures=tuple(findings.failures),
        units=tuple(ctx.units),
        cases=dict(findings.cases),
        requests=findings.requests,
        seconds=time.monotonic() - started,
        transient=dict(findings.transient),
        retried=client.retried,
        cleanup=cleaned,
        interrupted=interrupted,
        positive_outcomes={
            operation: (ok, sent) for operation, (ok, sent) in ctx.shaper.outcomes.items()
        },
    )
