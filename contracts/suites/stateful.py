"""Sequences of calls that follow the document's links, as a schemathesis state machine.

CreateTask feeds GetTask, UpdateTask, DeleteTask and StartTask; StartTask feeds
GetTaskExecution and StopTaskExecution; ListTasks feeds GetTask. Each call draws a dialect
and is sent by the run's client; schemathesis follows the links through the answer read
as proto3 JSON. Each response passes the same checks as in the positive suite, and every
execution seen goes through the ledger.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import hypothesis
import requests
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.transport import Response
from schemathesis.generation.stateful import run_state_machine_as_test

from contracts.checks import COMMON_CHECKS, valid_request_accepted
from contracts.context import RunContext
from contracts.dialects import draw_dialect
from contracts.exchange import Exchange
from contracts.suites.fuzz import personalize

__all__ = ["run_stateful"]

_SUITE = "stateful"
_STEPS = 8
_ATTEMPTS = 3


def _as_json_response(exchange: Exchange) -> Response:
    """The answer as schemathesis reads it to follow links: proto3 JSON, whatever the dialect.

    The request is the JSON POST of the same message, since the document's links name
    fields of the JSON request body.
    """
    headers = {k: v for k, v in exchange.request_headers.items() if k.lower() != "content-type"}
    request = requests.Request(
        "POST",
        exchange.url.split("?", 1)[0],
        headers={**headers, "Content-Type": "application/json"},
        data=json.dumps(exchange.request_json).encode(),
    ).prepare()
    body = exchange.body
    content = exchange.content if body is None else json.dumps(body).encode()
    response_headers = {k: [v] for k, v in exchange.response_headers.items()}
    if body is not None:
        response_headers["content-type"] = ["application/json"]
    response_headers.pop("content-encoding", None)
    return Response(
        status_code=exchange.status,
        headers=response_headers,
        content=content,
        request=request,
        elapsed=exchange.received_at - exchange.sent_at,
        verify=True,
    )


_ROOTS_LOCK = threading.Lock()


@contextlib.contextmanager
def _start_where_links_start() -> Iterator[None]:
    """While building the machine, let it start only where the document's links start.

    schemathesis (4.x) picks entry points by a naming heuristic: it reads
    ``environmentId`` as a key of an "Environment" resource that no operation of this API
    returns (environments live in another service), so it never starts from CreateTask;
    and GetTask and StartTask look to it as if they produced their own ids, so it starts
    from random ids there and every link stays unused. The links say it plainly: an
    operation that links leave from, and that no document link names the subject of (fills
    its ``id``), is where a scenario starts: CreateTask (a link from ListTasks only lends it
    an ``environmentId``) and ListTasks. If schemathesis changes, its own choice stands.
    """
    module: Any = importlib.import_module("schemathesis.specs.openapi.stateful")
    original = getattr(module, "classify_root_transitions", None)
    if original is None:
        yield
        return

    def classify(operations: Any, transitions: Any, graph: Any) -> Any:
        roots = original(operations, transitions, graph)
        starts = set()
        for operation in operations:
            links = transitions.operations.get(operation.label)
            if links is None or not links.outgoing:
                continue
            if not [link for link in links.incoming if _names_subject(link)]:
                starts.add(operation.label)
        if starts and hasattr(roots, "reliable"):
            roots.reliable, roots.fallback = starts, set()
        return roots

    with _ROOTS_LOCK:
        module.classify_root_transitions = classify
        try:
            yield
        finally:
            module.classify_root_transitions = original


def _names_subject(link: Any) -> bool:
    """A document link (not an inferred one) that fills the ``id`` of the request it leads to."""
    if getattr(link, "is_inferred", False):
        return False
    body = getattr(link, "body", None)
    return not isinstance(body, dict) or "id" in body


def run_stateful(ctx: RunContext) -> None:
    """Run the link-driven state machine for ``max_examples`` scenarios (at least 5)."""
    schema = ctx.document.schemathesis_schema(GenerationMode.POSITIVE)
    # Only the document's links: inferred ones once put a task id where an array belongs.
    schema.config.phases.stateful.inference.algorithms = []
    with _start_where_links_start():
        base: Any = schema.as_state_machine()
    client = ctx.client
    checks = (*COMMON_CHECKS, valid_request_accepted)

    class Machine(base):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            ctx.stop_if_interrupted()
            body: object = case.body if isinstance(case.body, dict) else {}
            body = personalize(ctx, ctx.document.strip_aliases(body))
            case.body = body
            operation = str(case.operation.definition.raw.get("operationId", case.operation.label))
            dialect = draw_dialect(ctx.seed, operation, body, ctx.config.dialects)
            # Paced, retried and recorded as every other request of the run.
            exchange = client.send(_SUITE, operation, body, dialect=dialect)
            ctx.findings.count_case(_SUITE, dialect.family)
            valid = ctx.document.accepts_on_the_wire(exchange.operation, exchange.request_json)
            # A link may fill a field so that the request breaks the document; such a request
            # proves nothing about acceptance, only the common checks apply to its answer.
            ctx.check(_SUITE, exchange, checks if valid else COMMON_CHECKS)
            return _as_json_response(exchange)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            """Checked in :meth:`call`; failures are recorded there, never raised."""

    scenarios = max(5, ctx.config.round_examples // 2)
    with ctx.unit(_SUITE, "links"):
        for attempt in range(_ATTEMPTS):
            machine: Any = hypothesis.seed(ctx.seed + attempt)(Machine)
            try:
                run_state_machine_as_test(
                    machine,
                    settings=settings(
                        max_examples=scenarios,
                        stateful_step_count=_STEPS,
                        database=None,
                        deadline=None,
                        phases=[Phase.explicit, Phase.generate],
                        suppress_health_check=list(HealthCheck),
                        verbosity=Verbosity.quiet,
                    ),
                )
                break
            except (Flaky, Unsatisfiable):
                # The server's state steers which rules can run, so the same draws may take
                # another path on a later scenario; Hypothesis calls that flaky. It says
                # nothing about the server: start over with the next seed, as schemathesis
                # itself does, a bounded number of times.
                continue
    if ctx.round == 0:
        ctx.progress(f"  {_SUITE:<9} {scenarios} scenarios done")
