"""The run summary says what was judged, and what was not."""

from __future__ import annotations

from contracts.config import SuiteConfig
from contracts.report import Report


def _report(**fields: object) -> Report:
    config = SuiteConfig("http://127.0.0.1:1", only=("positive", "auth", "lifecycle"))
    settings: dict[str, object] = {
        "config": config,
        "seed": 1,
        "failures": (),
        "units": (),
        "cases": {"positive": 12},
        "requests": 12,
        "seconds": 1.0,
    }
    settings.update(fields)
    return Report(**settings)  # type: ignore[arg-type]


def test_report_after_ctrl_c_says_which_suites_never_ran() -> None:
    summary = _report(interrupted=True, begun=("positive",)).summary()
    lines = summary.splitlines()
    assert "  positive      12 cases   ok, interrupted" in lines
    assert "  auth           - cases   not run" in lines
    assert "  lifecycle      - cases   not run" in lines
    # Nothing that did not run is called ok.
    assert not [line for line in lines if " 0 cases" in line and line.endswith("ok")]
    assert "  dialect json       0 cases      0 requests   not used" in lines


def test_report_of_a_full_run_judges_every_suite() -> None:
    lines = _report(cases={"positive": 12, "auth": 3, "lifecycle": 5}).summary().splitlines()
    assert "  auth           3 cases   ok" in lines
    assert not any("not run" in line or "interrupted" in line for line in lines)
