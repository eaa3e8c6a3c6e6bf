"""No false positives: a conforming server passes the generated suites under many seeds.

Each seed draws other requests (and other state machine runs); a check that misreads the
document, e.g. a scalar sent where the document says array, then shows up as a failure
against the fake, which conforms. Every case draws a dialect, so each run covers JSON,
binary, Connect GET and gzip. Marked slow: twenty short runs (the deterministic
cases, the same under every seed, are capped by ``max_examples`` too).
"""

from __future__ import annotations

import pytest

from contracts import SuiteConfig, run
from contracts.dialects import DIALECTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEEDS = range(1, 21)


@pytest.mark.parametrize("seed", SEEDS)
def test_contracts_conforming_server_passes_under_seed(mock_url: str, seed: int) -> None:
    config = SuiteConfig(
        base_url=mock_url,
        seed=seed,
        max_examples=5,
        only=("positive", "negative", "stateful"),
    )
    report = run(config, progress=None)
    assert report.ok, report.summary()
    assert report.conclusive
    # Every dialect took part (each case draws one), and passed.
    assert set(report.dialect_requests) >= set(DIALECTS), report.dialect_requests
