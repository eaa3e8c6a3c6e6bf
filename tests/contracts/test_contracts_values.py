"""Positive cases reach the server's logic: values over the whole valid range, 2xx shares."""

from __future__ import annotations

import pytest

from contracts import SuiteConfig, run
from tests.contracts.mutants import Mutant, serve
from tests.contracts.mutants_dialects import AsJsonPost
from tests.contracts.mutants_values import BOTH_NAMES_MUTANT, UNKNOWN_FIELD_MUTANT, VALUE_MUTANTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("mutant", VALUE_MUTANTS, ids=[mutant.name for mutant in VALUE_MUTANTS])
def test_contracts_value_mutant_is_caught(mutant: Mutant) -> None:
    # The mutant reads JSON; AsJsonPost makes its defect one of every dialect, so a value
    # the suite sends in binary or gzip meets it too.
    with serve(mutant, wrap=AsJsonPost) as url:
        report = run(
            SuiteConfig(base_url=url, max_examples=15, seed=7, only=("positive",)),
            progress=None,
        )
    assert mutant.check in report.failed_checks, report.summary()
    failure = next(f for f in report.failures if f.check == mutant.check)
    assert failure.operation in ("CreateTask", "UpdateTask"), failure.render()


def test_contracts_positive_cases_mostly_succeed_on_the_fake() -> None:
    with serve(None) as url:
        report = run(
            SuiteConfig(base_url=url, max_examples=15, seed=7, only=("positive",)),
            progress=None,
        )
    assert report.ok, report.summary()
    created, sent = report.positive_outcomes["CreateTask"]
    # Unique references and dependencies on the run's own tasks: nearly every valid
    # CreateTask is created (an example without metadata is too).
    assert created >= 0.9 * sent, report.summary()
    for operation in ("GetTask", "StartTask", "UpdateTask"):
        ok, _ = report.positive_outcomes[operation]
        assert ok > 0, f"no positive {operation} succeeded: {report.summary()}"
    assert "positive cases answered 2xx: CreateTask" in report.summary()


@pytest.mark.parametrize(
    "mutant", [UNKNOWN_FIELD_MUTANT, BOTH_NAMES_MUTANT], ids=lambda mutant: mutant.name
)
def test_contracts_proto3_json_mutant_is_caught(mutant: Mutant) -> None:
    with serve(mutant) as url:
        report = run(
            SuiteConfig(base_url=url, max_examples=15, seed=7, only=(mutant.suite,)),
            progress=None,
        )
    assert mutant.check in report.failed_checks, report.summary()
