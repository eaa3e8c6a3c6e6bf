"""Against each defective variant of the fake, the suite fails, and names the right check."""

from __future__ import annotations

import pytest

from contracts import SuiteConfig, run
from tests.contracts.mutants import MUTANTS, Mutant, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[mutant.name for mutant in MUTANTS])
def test_contracts_mutant_is_caught(mutant: Mutant) -> None:
    with serve(mutant) as url:
        report = run(
            SuiteConfig(
                base_url=url, max_examples=10, seed=7, only=(mutant.suite,), lifecycle_timeout=5
            ),
            progress=None,
        )
    assert not report.ok, f"{mutant.name} went unnoticed"
    assert mutant.check in report.failed_checks, report.summary()
