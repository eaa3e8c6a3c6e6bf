"""Run the selected suites against one implementation and collect a :class:`Report`."""

from __future__ import annotations

import contextlib
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable

from contracts.checks import Check, response_time_within
from contracts.cleanup import Cleanup
from contracts.config import SUITES, SuiteConfig
from contracts.context import BudgetSpent, Progress, RunContext, SliceSpent
from contracts.database import CampaignDatabase, compare
from contracts.exchange import Client, Exchange, Observer
from contracts.failures import CheckFailed, Findings
from contracts.invariants import ExecutionLedger, TaskLedger
from contracts.preflight import SetupError, check_server, read_document
from contracts.progress import ProgressMeter
from contracts.report import Report
from contracts.saved_requests import judge_for, replay
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


_REPLAY_SUITE = "replay"
# A suite's share of a campaign round: at least this many seconds, else the budget over
# twice the suites, so that a short campaign reaches every suite at least once.
_MIN_SLICE = 0.5
# Odd and large: consecutive rounds' seeds share no low bits.
_ROUND_STRIDE = 0x9E3779B1


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def round_seed(seed: int, number: int) -> int:
    """The seed of a campaign's round ``number`` (round 0 has the run's own seed)."""
    return (seed + number * _ROUND_STRIDE) & 0xFFFFFFFF


def _replay_previous(ctx: RunContext, previous: list[dict[str, object]]) -> None:
    """Send each earlier failure's saved request again, first, judged by its own check.

    A failure that spans several calls has no saved request: only the search can meet it
    again. A replayed failure is recorded under its first suite, so it keeps its signature.
    """
    extra: dict[str, Check] = {check.__name__: check for check in ctx.extra_checks}
    for failure in previous:
        example = failure.get("example")
        check = judge_for(str(failure.get("check")), extra)
        if not isinstance(example, dict) or check is None:
            continue
        ctx.stop_if_interrupted()
        suite = str(failure.get("suite") or _REPLAY_SUITE)
        exchange = replay(ctx.client, example)
        ctx.client.record(suite, exchange)
        ctx.check(suite, exchange, (check,))


def run(config: SuiteConfig, progress: Progress | None = _stderr) -> Report:
    """Run ``config.suites`` (in the canonical order) and report.

    Never raises for a defect of the implementation. Raises :class:`SetupError` when the
    run cannot judge it (schema unreadable, server unreachable, token refused, ...), after
    cleaning up whatever it had created. Ctrl-C ends the suites early; the run still
    cleans up and reports, marked interrupted.

    With ``config.duration`` the suites run in rounds, each with a fresh seed, until the
    time is spent; the round under way stops at its next case, then the run cleans up.
    With ``config.database`` the previous campaign's failures are replayed first.
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
    if config.max_response_time is not None:
        ctx.extra_checks = (response_time_within(config.max_response_time),)
    if config.fail_fast:
        findings.on_new = lambda failure: ctx.stopped.set()
    database = CampaignDatabase(config.database) if config.database else None
    previous = database.previous_failures() if database is not None else []
    started = time.monotonic()
    interrupted = False
    begun: list[str] = []  # the suites that started, for a summary after Ctrl-C
    with client, contextlib.nullcontext() if second_client is None else second_client:
        check_server(client, document, config.environment_ids, token_given=config.token is not None)
        # The campaign's clock starts once the server is known to answer.
        if config.duration is not None:
            ctx.deadline = time.monotonic() + config.duration
        say(
            f"contracts: {config.base_url}, seed {seed}, suites {', '.join(config.suites)}, "
            f"dialects {','.join(config.dialects)}"
            + (f", for {config.duration:g} s" if config.duration is not None else "")
        )
        meter = (
            ProgressMeter(
                config.duration, lambda: (sum(findings.cases.values()), len(findings.failures))
            )
            if config.duration is not None and progress is not None
            else contextlib.nullcontext()
        )
        try:
            with meter:
                if previous:
                    say(f"replaying {len(previous)} earlier failure(s) ...")
                    _replay_previous(ctx, previous)
                _rounds(ctx, say, begun)
        except BudgetSpent:
            pass  # time is up, or --fail-fast met a failure: clean up and report
        except KeyboardInterrupt:
            interrupted = True
            say("interrupted: cleaning up (Ctrl-C again to leave it undone)")
        except SetupError as problem:
            problem.cleanup = cleanup.run(client, keep=config.keep)
            raise
        cleaned = cleanup.run(client, keep=config.keep)
    seen = {failure.signature for failure in findings.failures}
    report = Report(
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
        rounds=ctx.round + 1 if config.duration is not None else 1,
        previous=compare(previous, seen) if database is not None else None,
    )
    if database is not None and not interrupted:
        database.save(report.to_json())
    return report


def _rounds(ctx: RunContext, say: Progress, begun: list[str]) -> None:
    """Every suite once; under ``--duration``, again with a fresh seed until time is up.

    ``begun`` gets each suite as it starts, for a summary after Ctrl-C.

    In a campaign each suite gets at most its share of a round's time (a round's cases
    are bounded too), so that a slow suite cannot starve the others.
    """
    first_seed = ctx.seed
    suites = ctx.config.suites
    duration = ctx.config.duration
    share = max(_MIN_SLICE, duration / (2 * len(suites))) if duration is not None else None
    while True:
        for suite in suites:
            ctx.slice_end = None
            ctx.stop_if_interrupted()
            if ctx.round == 0:
                begun.append(suite)
                say(f"{suite} ...")
            suite_started = time.monotonic()
            if share is not None:
                ctx.slice_end = suite_started + share
                ctx.slice_floor = (suite, ctx.findings.cases.get(suite, 0))
            try:
                _RUNNERS[suite](ctx)
            except SliceSpent:
                pass
            except SetupError:
                raise
            except Exception as exc:
                ctx.fail(
                    suite,
                    "(suite)",
                    CheckFailed(SUITE_ERROR, f"{type(exc).__name__}: {exc}", "the suite to finish"),
                    "",
                )
            if ctx.round == 0:
                say(f"{suite}: {time.monotonic() - suite_started:.1f} s")
        ctx.slice_end = None
        if ctx.deadline is None:
            return
        ctx.round += 1
        ctx.seed = round_seed(first_seed, ctx.round)
