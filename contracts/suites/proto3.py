"""The proto3 JSON cases of the fuzz suites: unknown-field pairs and the mapping's refusals.

Kept apart from :mod:`contracts.suites.fuzz`, which calls them: the positive suite sends
some reads again with an unknown field (:func:`judge_unknown_field`), the negative suite
sends the refusals :mod:`contracts.refusals` builds from the document's examples
(:func:`send_refusals`).
"""

from __future__ import annotations

from typing import Any

from contracts.checks import Check, unknown_fields_ignored
from contracts.context import RunContext
from contracts.dialects import JSON_POST
from contracts.document import proto_name
from contracts.exchange import Exchange
from contracts.failures import CheckFailed
from contracts.realistic import with_unknown_field
from contracts.refusals import refusals

__all__ = ["judge_unknown_field", "send_refusals"]


def judge_unknown_field(
    ctx: RunContext,
    suite: str,
    operation: str,
    body: dict[str, Any],
    plain: Exchange,
    checks: tuple[Check, ...],
) -> None:
    """Send ``body`` again with an unknown field: the answer must not change. For reads
    only, whose answer a second call does not change.

    A generated body may carry unknown fields already, which would hide the difference;
    then the pair is sent afresh: the body with its known fields only, then with one
    unknown field more.
    """
    known = ctx.document.request_properties(operation)
    known |= {proto_name(name) for name in known}  # proto names are known too
    stripped = {key: value for key, value in body.items() if key in known}
    # Unknown fields are a JSON matter (a binary message has no field names), so both of
    # the pair go as JSON POST: a first answer in another dialect is no baseline for them.
    if stripped != body or plain.dialect != JSON_POST:
        plain = ctx.client.send(suite, operation, stripped)
        ctx.check(suite, plain, checks)
    extended = ctx.client.send(suite, operation, with_unknown_field(stripped))
    ctx.check(suite, extended, checks)
    if plain.transient or extended.transient:
        return
    try:
        unknown_fields_ignored(plain, extended)
    except CheckFailed as problem:
        ctx.fail(suite, operation, problem, extended.curl)


def send_refusals(
    ctx: RunContext,
    suite: str,
    operation: str,
    checks: tuple[Check, ...],
    examples: list[object],
) -> None:
    """Each refusal built from ``examples`` (valid bodies), judged by ``checks``."""
    for example in examples:
        for body in refusals(ctx.document, example):
            ctx.stop_if_interrupted()
            ctx.findings.count_case(suite)
            exchange = ctx.client.send(suite, operation, body)
            ctx.check(suite, exchange, checks)
