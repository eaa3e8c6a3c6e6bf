"""Generated requests: positive (valid), negative (schema-breaking body), auth (no token).

Cases come from schemathesis (``APIOperation.as_strategy``) driven by Hypothesis with a
fixed seed per operation, so ``--seed`` repeats a run. Every response is checked by the
common checks; each suite adds its own expectation. Failures are recorded, not raised,
so Hypothesis neither stops nor shrinks: one run reports every defect it meets.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.internal import lambda_sources
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from contracts.boundaries import boundary_cases
from contracts.checks import (
    COMMON_CHECKS,
    Check,
    invalid_request_rejected,
    missing_token_rejected,
    valid_request_accepted,
)
from contracts.context import RunContext
from contracts.dialects import Dialect, draw_dialect
from contracts.exchange import Exchange
from contracts.failures import CheckFailed, Failure
from contracts.hunting import MAX_DOUBLINGS, Grown, aim_at_cost, grown
from contracts.saved_requests import saved_example
from contracts.suites.proto3 import judge_unknown_field, send_refusals

__all__ = ["personalize", "run_auth", "run_negative", "run_positive"]

_AUTH_EXAMPLES = 3
# The share of positive reads sent a second time with an unknown field: a third keeps the
# run short and still gives every read operation several pairs.
_UNKNOWN_FIELD_SHARE = 0.34
_REFERENCE = re.compile(r"[a-zA-Z0-9_-]{1,128}")
# A placeholder only: the client sets the real header, and fixing it here stops
# schemathesis from generating (or mutating) an Authorization header.
_FIXED_HEADERS = {"Authorization": "Bearer placeholder"}


def personalize(ctx: RunContext, body: object) -> object:
    """Put the run's own environment ids and a run suffix on references.

    Generated values repeat from run to run with the same seed; against a shared server
    that would make runs collide (a reference reused in an environment). Valid values are
    replaced by valid values, so the request keeps its validity.
    """
    if not isinstance(body, dict):
        return body
    body = dict(body)
    env = body.get("environmentId")
    if isinstance(env, str) and env:
        choices = ctx.environment_ids
        body["environmentId"] = choices[zlib.crc32(env.encode()) % len(choices)]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("reference"), str):
        reference = metadata["reference"]
        if _REFERENCE.fullmatch(reference):
            suffix = f"-{ctx.run_id}"
            # Keep a long reference's length: it may sit exactly at the pattern's limit.
            unique = (
                reference[: -len(suffix)] + suffix
                if len(reference) > len(suffix)
                else reference + suffix
            )
            body["metadata"] = {**metadata, "reference": unique}
    return body


def _examples_database(ctx: RunContext) -> ExampleDatabase | None:
    """Hypothesis' example database under ``--database DIR``, else none (nothing kept)."""
    if ctx.config.database is None:
        return None
    return DirectoryBasedExampleDatabase(str(Path(ctx.config.database) / "examples"))


def _keyed(test: Any, suite: str, operation: str) -> Any:
    """Give the test one database key per suite and operation.

    Hypothesis derives the key from the test function's source, which is the same closure
    for every operation; the search and the shrinking of one operation share a key, so a
    shrunk failure saved by one campaign is the first case the next one replays.
    """
    test._hypothesis_internal_database_key = f"contracts:{suite}:{operation}".encode()
    return test


def _settings(ctx: RunContext, max_examples: int) -> settings:
    database = _examples_database(ctx)
    phases = [Phase.explicit, Phase.generate]
    if database is not None:
        phases.insert(0, Phase.reuse)
    if ctx.config.hunt:
        phases.append(Phase.target)
    return settings(
        max_examples=max_examples,
        database=database,
        deadline=None,
        derandomize=False,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )


def _operation_seed(ctx: RunContext, suite: str, operation: str) -> int:
    return ctx.seed ^ zlib.crc32(f"{suite}:{operation}".encode())


class _Example:
    """A document example in the shape of a generated case (only ``body`` is read)."""

    def __init__(self, body: object) -> None:
        self.body = body


def _body_is_negative(case: Any) -> bool:
    meta = case.meta
    if meta is None:
        return False
    component = meta.components.get(ParameterLocation.BODY)
    return component is not None and component.mode is GenerationMode.NEGATIVE


def _fuzz_operation(
    ctx: RunContext,
    suite: str,
    operation: str,
    mode: GenerationMode,
    max_examples: int,
    checks: tuple[Check, ...],
    authenticated: bool,
) -> None:
    schema = ctx.document.schemathesis_schema(mode)
    api_operation = schema.find_operation_by_id(operation)
    strategy = api_operation.as_strategy(generation_mode=mode, headers=dict(_FIXED_HEADERS))
    if mode is GenerationMode.NEGATIVE:
        strategy = strategy.filter(_body_is_negative)
    elif "slow" in ctx.config.hunt:
        strategy = st.builds(Grown, strategy, st.integers(0, MAX_DOUBLINGS))

    # Valid bodies that can succeed (see contracts.realistic); auth cases stay as generated.
    shaped = mode is GenerationMode.POSITIVE and authenticated

    def prepare(case: Any) -> object | None:
        """The body to send for ``case``, or None when it is not a case of this suite."""
        body: object = case.body
        if not isinstance(body, bytes):
            body = ctx.document.strip_aliases(body)
        if mode is GenerationMode.NEGATIVE:
            if _valid_on_the_wire(ctx, operation, body):
                return None  # broken only in ways a Connect server ignores
            return body
        body = personalize(ctx, body)
        if shaped:
            body = ctx.shaper.shape(operation, body)
        if isinstance(case, Grown) and case.doublings:
            body = grown(
                body,
                case.doublings,
                lambda candidate: ctx.document.accepts_on_the_wire(operation, candidate),
            )
        return body

    negative = mode is GenerationMode.NEGATIVE

    def dialect_for(body: object) -> Dialect:
        # A negative case goes binary only if the binary message is still invalid.
        return draw_dialect(
            ctx.seed,
            operation,
            body,
            ctx.config.dialects,
            still_invalid=(
                (lambda message: not ctx.document.accepts_on_the_wire(operation, message))
                if negative
                else None
            ),
        )

    def exercise(case: Any) -> None:
        ctx.stop_if_interrupted()
        body = prepare(case)
        if body is None:
            return
        dialect = dialect_for(body)
        ctx.findings.count_case(suite, dialect.family)
        exchange = ctx.client.send(
            suite, operation, body, authenticated=authenticated, dialect=dialect
        )
        ctx.check(suite, exchange, checks)
        if shaped:
            ctx.shaper.observe(exchange)
            if (
                operation in ctx.document.read_only_operations
                and isinstance(body, dict)
                and not isinstance(case, _Example)  # a generated case (which shrinks)
                and ctx.shaper.draw(operation) < _UNKNOWN_FIELD_SHARE
            ):
                judge_unknown_field(ctx, suite, operation, body, exchange, checks)
        if "slow" in ctx.config.hunt and not isinstance(case, _Example):
            aim_at_cost(exchange)

    checks = (*checks, *ctx.extra_checks)
    seed = _operation_seed(ctx, suite, operation)
    given_strategy: Any = given(strategy)
    test: Any = given_strategy(exercise)
    # The seed first: hypothesis.seed() turns the database off in the settings it finds.
    test = hypothesis.seed(seed)(test)
    test = _keyed(_settings(ctx, max_examples)(test), suite, operation)
    with ctx.unit(suite, operation):
        # Deterministic cases first: the document's examples (positive), each limit and one
        # step past it, and schemathesis' coverage cases, capped at max_examples. A
        # campaign sends them in its first round only: they are the same every round.
        if ctx.round > 0:
            explicit = []
        elif authenticated:
            explicit = _explicit_bodies(ctx, schema, api_operation, mode, max_examples)
        else:
            explicit = list(ctx.document.examples(operation))
        for body in explicit:
            exercise(_Example(body))
        if mode is GenerationMode.NEGATIVE and authenticated and ctx.round == 0:
            # The mapping's refusals are the same every round: the first sends them.
            examples = [personalize(ctx, body) for body in ctx.document.examples(operation)]
            send_refusals(ctx, suite, operation, checks, examples)

        def ours() -> list[Failure]:
            return [
                f for f in ctx.findings.failures if (f.suite, f.operation) == (suite, operation)
            ]

        seen_before = {f.signature: f.occurrences for f in ours()}
        test()
        # Failures the generated cases met (invariants span several calls) and that have no
        # shrunk reproduction yet: shrink the first, and use its minimal case for every
        # check it breaks too. An explicit case met first counts: generation met it again.
        names = {check.__name__: check for check in checks}
        pending = [
            f.check
            for f in ours()
            if f.check in names and not f.shrunk and f.occurrences > seen_before.get(f.signature, 0)
        ]
        if pending:
            found = _shrink(
                ctx, suite, operation, strategy, prepare, seed, max_examples,
                names[pending[0]], authenticated, dialect_for,
            )  # fmt: skip
            for name in pending if found is not None else []:
                assert found is not None
                try:
                    names[name](found, ctx.document)
                except CheckFailed:
                    ctx.findings.shrink(
                        suite,
                        operation,
                        name,
                        found.curl,
                        saved_example(found, ctx.client.base_url),
                        found.outcome,
                    )


class _Reproduced(Exception):
    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange.curl)
        self.exchange = exchange


def _shrink(
    ctx: RunContext,
    suite: str,
    operation: str,
    strategy: Any,
    prepare: Any,
    seed: int,
    max_examples: int,
    check: Check,
    authenticated: bool,
    dialect_for: Callable[[object], Dialect],
) -> Exchange | None:
    """Search the same generated cases again and let Hypothesis shrink the first failure.

    The first search records failures without raising (so one run reports every defect);
    this one raises when ``check_name`` fails, so Hypothesis shrinks the case, and the
    failure's reproduction becomes the smallest request that still breaks the check. A
    failure that does not come back (the server's state moved on) keeps its first example.
    Returns the exchange of the minimal case, or None.
    """

    def probe(case: Any) -> None:
        ctx.stop_if_interrupted()
        body = prepare(case)
        if body is None:
            return
        exchange = ctx.client.send(
            suite, operation, body, authenticated=authenticated, dialect=dialect_for(body)
        )
        if "slow" in ctx.config.hunt:
            aim_at_cost(exchange)
        try:
            check(exchange, ctx.document)
        except CheckFailed:
            raise _Reproduced(exchange) from None

    given_strategy: Any = given(strategy)
    test: Any = hypothesis.seed(seed)(given_strategy(probe))
    test = settings(
        _settings(ctx, max_examples),
        phases=[
            *([Phase.reuse] if ctx.config.database is not None else []),
            Phase.generate,
            *([Phase.target] if ctx.config.hunt else []),
            Phase.shrink,
        ],
        max_examples=max_examples,
    )(test)
    test = _keyed(test, suite, operation)
    try:
        test()
    except _Reproduced as found:
        return found.exchange
    except hypothesis.errors.HypothesisException:
        pass  # Flaky and friends: it did not come back the same way
    return None


def _explicit_bodies(
    ctx: RunContext, schema: Any, api_operation: Any, mode: GenerationMode, limit: int
) -> list[object]:
    operation = str(api_operation.definition.raw.get("operationId"))
    positive = mode is GenerationMode.POSITIVE
    bodies: list[object] = list(ctx.document.examples(operation)) if positive else []
    for boundary in boundary_cases(ctx.document, operation):
        bodies.append(boundary.at_limit if positive else boundary.past_limit)
    coverage = schema.iter_coverage_cases(
        api_operation,
        generation_modes=[mode],
        generation_config=schema.config.generation_for(operation=api_operation),
    )
    taken = 0
    for case in coverage:
        if taken >= limit:
            break
        if _sent_as_generated(case) and (positive or _body_is_negative(case)):
            bodies.append(case.body)
            taken += 1
    return bodies


def _sent_as_generated(case: Any) -> bool:
    """A coverage case that only varies the JSON body (not the method, headers or media)."""
    return (
        str(case.method).upper() == "POST"
        and isinstance(case.body, dict | list | str | int | float | bool)
        and not {name.lower() for name in (case.headers or {})} - {"authorization"}
    )


def _valid_on_the_wire(ctx: RunContext, operation: str, body: object) -> bool:
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return False  # not JSON at all: certainly invalid
        body = ctx.document.strip_aliases(body)
    return ctx.document.accepts_on_the_wire(operation, body)


_PARSE_LOCK = threading.Lock()


def _serialize_lambda_descriptions() -> None:
    """Let only one thread at a time describe a lambda (Hypothesis parses its source).

    On CPython 3.11 concurrent ``ast.parse`` calls can fail with "AST constructor recursion
    depth mismatch"; Hypothesis describes lambdas when it validates recursive strategies,
    which schemathesis builds. Wrapping that one private helper keeps workers independent.
    """
    describe = getattr(lambda_sources, "_lambda_description", None)
    if describe is None or getattr(describe, "_contracts_locked", False):
        return

    def locked(*args: Any, **kwargs: Any) -> Any:
        with _PARSE_LOCK:
            return describe(*args, **kwargs)

    locked._contracts_locked = True  # type: ignore[attr-defined]
    lambda_sources._lambda_description = locked


def _run(
    ctx: RunContext,
    suite: str,
    mode: GenerationMode,
    max_examples: int,
    checks: tuple[Check, ...],
    authenticated: bool = True,
) -> None:
    allowed = ctx.client.allowed
    chosen = ctx.config.operations
    operations = sorted(
        (
            op
            for op in ctx.document.operations
            if (allowed is None or op in allowed) and (not chosen or op in chosen)
        ),
        key=_producers_first,
    )

    def one(operation: str) -> None:
        _fuzz_operation(ctx, suite, operation, mode, max_examples, checks, authenticated)
        if ctx.round == 0:  # a campaign's later rounds show in its progress line instead
            ctx.progress(f"  {suite:<9} {operation:<20} done")

    if ctx.config.workers > 1:
        _serialize_lambda_descriptions()
    with ThreadPoolExecutor(max_workers=ctx.config.workers) as pool:
        futures = [pool.submit(one, operation) for operation in operations]
        try:
            for future in futures:
                future.result()
        except KeyboardInterrupt:
            # Workers notice at their next case; operations not yet begun never start.
            ctx.interrupted.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _producers_first(operation: str) -> tuple[int, str]:
    """CreateTask, then StartTask, then the rest by name: positive cases of the methods
    that take an id then find tasks and executions the run created (contracts.realistic)."""
    return ({"CreateTask": 0, "StartTask": 1}.get(operation, 2), operation)


def run_positive(ctx: RunContext) -> None:
    """Valid requests: a documented status and body, JSON, never a 5xx, not rejected."""
    _run(
        ctx,
        "positive",
        GenerationMode.POSITIVE,
        ctx.config.round_examples,
        (*COMMON_CHECKS, valid_request_accepted),
    )


def run_negative(ctx: RunContext) -> None:
    """Requests whose body breaks the schema: 400 ``invalid_argument``."""
    _run(
        ctx,
        "negative",
        GenerationMode.NEGATIVE,
        ctx.config.round_examples,
        (*COMMON_CHECKS, invalid_request_rejected),
    )


def run_auth(ctx: RunContext) -> None:
    """Valid requests without a bearer token: 401 ``unauthenticated``."""
    _run(
        ctx,
        "auth",
        GenerationMode.POSITIVE,
        min(_AUTH_EXAMPLES, ctx.config.round_examples),
        (*COMMON_CHECKS, missing_token_rejected),
        authenticated=False,
    )
