"""Sequences of calls that follow the document's links, as a schemathesis state machine.

CreateTask feeds GetTask, UpdateTask, DeleteTask and StartTask; StartTask feeds
GetTaskExecution and StopTaskExecution; ListTasks feeds GetTask. Each response passes the
same checks as in the positive suite, and every execution seen goes through the ledger.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.generation.stateful import run_state_machine_as_test

from contracts.checks import COMMON_CHECKS, valid_request_accepted
from contracts.context import RunContext
from contracts.exchange import Exchange
from contracts.suites.fuzz import personalize

__all__ = ["run_stateful"]

_SUITE = "stateful"
_STEPS = 8
_ATTEMPTS = 3


def _exchange(ctx: RunContext, case: Any, response: Any, sent_at: float) -> Exchange:
    request = response.request
    headers = {str(k): str(v) for k, v in request.headers.items()}
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    operation = str(case.operation.definition.raw.get("operationId", case.operation.label))
    return Exchange(
        operation=operation,
        url=str(request.url),
        request_headers=headers,
        request_body=body,
        status=int(response.status_code),
        response_headers={str(k).lower(): ", ".join(v) for k, v in response.headers.items()},
        content=bytes(response.content),
        sent_at=sent_at,
        received_at=time.monotonic(),
        curl=ctx.client.curl(str(request.url), headers, body),
    )


def _retry_after(response: Any) -> str | None:
    for name, values in response.headers.items():
        if str(name).lower() == "retry-after":
            return ", ".join(values) if isinstance(values, list) else str(values)
    return None


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
    headers = {"Authorization": f"Bearer {client.token}", "Connect-Protocol-Version": "1"}

    class Machine(base):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            ctx.stop_if_interrupted()
            if isinstance(case.body, dict):
                case.body = personalize(ctx, ctx.document.strip_aliases(case.body))
            sent_at = 0.0

            def attempt() -> Any:
                nonlocal sent_at
                sent_at = time.monotonic()
                return case.call(base_url=client.base_url, headers=headers, **kwargs)

            # The same pacing and retries as every other request of the run.
            response = client.retrying(attempt, lambda r: int(r.status_code), _retry_after)
            exchange = _exchange(ctx, case, response, sent_at)
            ctx.findings.count_case(_SUITE)
            client.record(_SUITE, exchange)
            valid = ctx.document.accepts_on_the_wire(exchange.operation, exchange.request_json)
            # A link may fill a field so that the request breaks the document; such a request
            # proves nothing about acceptance, only the common checks apply to its answer.
            ctx.check(_SUITE, exchange, checks if valid else COMMON_CHECKS)
            return response

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            """Checked in :meth:`call`; failures are recorded there, never raised."""

    scenarios = max(5, ctx.config.max_examples // 2)
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
    ctx.progress(f"  {_SUITE:<9} {scenarios} scenarios done")
