"""Against each defective variant of the fake, the suite fails, and names the right check."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from contracts import SuiteConfig, run
from tests.contracts.mutants import MUTANTS, Mutant, serve
from tests.contracts.mutants_dialects import AsJsonPost

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[mutant.name for mutant in MUTANTS])
def test_contracts_mutant_is_caught(mutant: Mutant) -> None:
    # The mutant edits JSON; AsJsonPost makes its defect one of every dialect.
    with serve(mutant, wrap=AsJsonPost) as url:
        report = run(
            SuiteConfig(
                base_url=url, max_examples=10, seed=7, only=(mutant.suite,), lifecycle_timeout=5
            ),
            progress=None,
        )
    assert not report.ok, f"{mutant.name} went unnoticed"
    assert mutant.check in report.failed_checks, report.summary()


def _crash_on_extra_field(exchange: Any) -> None:
    body = exchange.request
    if exchange.operation == "GetTaskExecution" and isinstance(body, dict) and set(body) - {"id"}:
        exchange.status, exchange.short_circuit = 500, True
        exchange.response = {"code": "internal", "message": "boom"}


def test_contracts_failure_found_by_generation_is_shrunk() -> None:
    # Only generated cases carry unknown fields; Hypothesis shrinks them to one empty key.
    mutant = Mutant("extra_field_crashes", "positive", "not_a_server_error")
    mutant.before = _crash_on_extra_field
    with serve(mutant) as url:
        report = run(
            SuiteConfig(
                base_url=url, max_examples=20, seed=3, only=("positive",), dialects=("json",)
            ),
            progress=None,
        )
    failure = next(f for f in report.failures if f.check == "not_a_server_error")
    assert failure.shrunk, failure.render()
    body = re.search(r"--data-raw '(.*?)'", failure.curl)
    assert body is not None
    minimal = json.loads(body.group(1))
    assert len(minimal) == 2 and "id" in minimal  # the id, and one extra field
    assert all(
        value in (None, "", 0, False, [], {}) for key, value in minimal.items() if key != "id"
    )
    assert "shrunk to a minimal case" in report.summary()
