"""Run the selected suites against one implementation and collect a :class:`Report`."""

from __future__ import annotations

import contextlib
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable

from contracts.cleanup import Cleanup
from contracts.config import SUITES, SuiteConfig
from contracts.context import Progress, RunContext
from contracts.exchange import Client, Exchange, Observer
from contracts.failures import CheckFailed, Findings
from contracts.invariants import ExecutionLedger, TaskLedger
from contracts.preflight import SetupError, check_server, read_document
from contracts.report import Report
from contracts.suites.callers import run_callers
from contracts.suites.fuzz import run_auth, run_negative, run_positive
from contracts.suites.lifecycle import run_lifecycle
from contracts.suites.stateful import run_stateful

__all__ = ["SECOND_TOKEN_VARIABLE", "SUITE_ERROR", "TOKEN_VARIABLE", "SetupError", "run"]

SUITE_ERROR = "suite_ran_to_completion"
# The environment variables the reproduction commands read user-given tokens from.
TOKEN_VARIABLE = "CONTRACTS_TOKEN"
SECOND_TOKEN_VARIABLE = "CONTRACTS_SECOND_TOKEN"

_RUNNERS: dict[str, Callable[[RunContext], None]] = {
    "positive": run_positive,
    "negative": run_negative,
    "auth": run_auth,
    "stateful": run_stateful,
    "lifecycle": run_lifecycle,
    "callers": run_callers,
}
assert tuple(_RUNNERS) == SUITES


def _starts_only(observer: Observer) -> Observer:
    def observe(suite: str, exchange: Exchange) -> None:
        if exchange.operation == "StartTask":
            observer(suite, exchange)

    return observe


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
    tasks = TaskLedger(findings)
    cleanup = Cleanup()

    def count(suite: str, exchange: Exchange) -> None:
        findings.count_request(exchange.dialect.family)

    client = Client(
        config.base_url,
        token,
        token_placeholder=TOKEN_VARIABLE if config.token else None,
        timeout=config.request_timeout,
        observers=(count, ledger, tasks, cleanup),
        rate_limit=config.rate_limit,
        retries=config.retries,
        allowed=document.read_only_operations if config.read_only else None,
    )
    second_client = None
    if config.second_token is not None and "callers" in config.suites:
        second_client = client.for_caller(
            config.second_token,
            token_placeholder=SECOND_TOKEN_VARIABLE,
            # The second caller's exchanges are judged like the first's; cleanup hears only
            # of what a StartTask of its may have started (a defect), never of its deletes,
            # which would make cleanup forget a task that is still there.
            observers=(count, ledger, tasks, _starts_only(cleanup)),
        )
    environments = config.environment_ids or tuple(str(uuid.uuid4()) for _ in range(3))
    ctx = RunContext(
        config,
        document,
        client,
        findings,
        ledger,
        seed,
        say,
        environment_ids=environments,
        second_client=second_client,
    )
    started = time.monotonic()
    interrupted = False
    begun: list[str] = []  # the suites that started, for a summary after Ctrl-C
    with client, contextlib.nullcontext() if second_client is None else second_client:
        check_server(client, document, config.environment_ids, token_given=config.token is not None)
        say(
            f"contracts: {config.base_url}, seed {seed}, suites {', '.join(config.suites)}, "
            f"dialects {','.join(config.dialects)}"
        )
        try:
            for suite in config.suites:
                begun.append(suite)
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
        dialect_requests=dict(findings.dialect_requests),
        dialect_cases=dict(findings.dialect_cases),
        dialect_failures=dict(findings.dialect_failures),
        seconds=time.monotonic() - started,
        transient=dict(findings.transient),
        skipped=dict(findings.skipped),
        retried=client.retried,
        cleanup=cleaned,
        interrupted=interrupted,
        begun=tuple(begun),
        positive_outcomes={
            operation: (ok, sent) for operation, (ok, sent) in ctx.shaper.outcomes.items()
        },
    )
