"""pytest plugin (entry point ``ona_contracts``): the contract suites inside a pytest run.

Two ways to use it:

* From the command line, against a running server: ``pytest --contracts-base-url URL``
  adds one test per generated suite and operation (``contracts[positive-CreateTask]``,
  ...) and one per sequence suite (``contracts[stateful]``, ``contracts[lifecycle]``), so
  pytest-xdist (``-n 4``) spreads a long campaign over processes.
* From your own tests, against a server your fixtures start: define a
  ``contracts_base_url`` fixture and bind ``test_contracts = contract_tests()`` in a test
  module; it is parametrized by suite, honours ``--contracts-only``, and fails with the
  suite's readable summary.

``--contracts-duration SECONDS`` makes the run a campaign whose budget the tests share
equally; ``--contracts-report FILE`` writes one JSON report for the session (under
pytest-xdist one per worker, ``FILE`` named for it: ``report.gw0.json``), which
``python -m contracts merge`` joins.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from contracts.config import DEFAULT_MAX_EXAMPLES, SUITES, SuiteConfig
from contracts.dialects import DIALECTS, parse_dialects
from contracts.merge import merge_reports
from contracts.preflight import SetupError, read_document
from contracts.report import Report, shard_path
from contracts.runner import run

__all__ = ["contract_tests"]

# Suites that generate cases per operation; the others are sequences over several.
_PER_OPERATION = ("positive", "negative", "auth")
_SEED_OPTION = "--contracts-seed"
_REPORTS = pytest.StashKey[list[Report]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "Ona task API contract suite")
    group.addoption("--contracts-base-url", help="run the contract suites against this URL")
    group.addoption("--contracts-token", help="bearer token (default: random per run)")
    group.addoption(
        "--contracts-second-token",
        help="a second caller with no access to the run's environments (callers suite)",
    )
    group.addoption(
        "--contracts-max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help="cases per operation",
    )
    group.addoption(f"{_SEED_OPTION}", type=int, help="seed, to repeat a run")
    group.addoption("--contracts-workers", type=int, default=1, help="operations in parallel")
    group.addoption("--contracts-only", help=f"comma-separated subset of {','.join(SUITES)}")
    group.addoption(
        "--contracts-lifecycle-timeout", type=float, default=30.0, help="execution time budget (s)"
    )
    group.addoption("--contracts-schema", help="OpenAPI document path or URL")
    group.addoption(
        "--contracts-environment-id",
        action="append",
        default=[],
        help="create tasks in this environment only (repeatable)",
    )
    group.addoption(
        "--contracts-keep", action="store_true", help="leave what the run created in place"
    )
    group.addoption(
        "--contracts-read-only",
        action="store_true",
        help="call only the four methods without side effects",
    )
    group.addoption("--contracts-rate-limit", type=float, help="requests per second at most")
    group.addoption(
        "--contracts-dialects",
        help=f"comma-separated dialects each case draws from (default all: {','.join(DIALECTS)})",
    )
    group.addoption(
        "--contracts-duration",
        type=float,
        help="a campaign of this many seconds, shared equally by the contract tests",
    )
    group.addoption("--contracts-fail-fast", action="store_true", help="stop at a failure")
    group.addoption(
        "--contracts-max-response-time", type=float, help="slower answers (ms) fail response_time"
    )
    group.addoption(
        "--contracts-hunt", action="append", default=[], help="slow: look for slow requests"
    )
    group.addoption("--contracts-database", help="directory keeping failures between campaigns")
    group.addoption(
        "--contracts-report", help="write the session's JSON report here (one per xdist worker)"
    )


def _config(config: pytest.Config, base_url: str) -> SuiteConfig:
    only = config.getoption("--contracts-only")
    dialects = config.getoption("--contracts-dialects")
    try:
        return SuiteConfig(
            base_url=base_url,
            token=config.getoption("--contracts-token"),
            max_examples=config.getoption("--contracts-max-examples"),
            seed=config.getoption(_SEED_OPTION),
            workers=config.getoption("--contracts-workers"),
            only=tuple(s.strip() for s in only.split(",") if s.strip()) if only else SUITES,
            lifecycle_timeout=config.getoption("--contracts-lifecycle-timeout"),
            schema=config.getoption("--contracts-schema"),
            environment_ids=tuple(config.getoption("--contracts-environment-id")),
            keep=config.getoption("--contracts-keep"),
            read_only=config.getoption("--contracts-read-only"),
            rate_limit=config.getoption("--contracts-rate-limit"),
            second_token=config.getoption("--contracts-second-token"),
            dialects=parse_dialects(dialects) if dialects else DIALECTS,
            duration=config.getoption("--contracts-duration"),
            fail_fast=config.getoption("--contracts-fail-fast"),
            max_response_time=config.getoption("--contracts-max-response-time"),
            hunt=tuple(dict.fromkeys(config.getoption("--contracts-hunt"))),
            database=config.getoption("--contracts-database"),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"contracts: {exc}") from None


class ContractFailure(Exception):
    """A suite found the implementation in breach; the message is the run's summary."""


def _judge(report: Report) -> None:
    """Raise (pytest's way) unless the run passed; summaries name the pytest options."""
    summary = report.summary(seed_option=_SEED_OPTION)
    if report.interrupted:
        raise KeyboardInterrupt
    if not report.ok:
        raise ContractFailure(summary)
    if not report.conclusive:
        pytest.skip(summary.splitlines()[-1])
    if report.skipped:
        pytest.skip("; ".join(f"{suite}: {why}" for suite, why in report.skipped.items()))


def _run(config: SuiteConfig, pytest_config: pytest.Config | None = None) -> Report:
    try:
        report = run(config, progress=None)
    except SetupError as problem:
        pytest.fail(f"contracts: {problem}", pytrace=False)
    if pytest_config is not None:
        pytest_config.stash.setdefault(_REPORTS, []).append(report)
    return report


def _share(config: SuiteConfig, parts: int) -> SuiteConfig:
    """A campaign's budget split equally between ``parts`` tests."""
    if config.duration is None or parts <= 1:
        return config
    return dataclasses.replace(config, duration=config.duration / parts)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--contracts-report", None)
    reports = session.config.stash.get(_REPORTS, [])
    if path and reports:
        merged = merge_reports([report.to_json() for report in reports])
        shard_path(path).write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")


class ContractItem(pytest.Item):
    """One suite (and, for the generated suites, one operation) against the base URL."""

    def __init__(self, *, suite_config: SuiteConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite_config = suite_config

    def runtest(self) -> None:
        _judge(_run(self.suite_config, self.config))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ContractFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "contracts", None, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    base_url = config.getoption("--contracts-base-url")
    if not base_url:
        return
    base = _config(config, base_url)
    try:
        document = read_document(base.schema)
    except SetupError as problem:
        raise pytest.UsageError(f"contracts: {problem}") from None
    allowed = document.read_only_operations if base.read_only else None
    operations = sorted(op for op in document.operations if allowed is None or op in allowed)
    tests = sum(len(operations) if suite in _PER_OPERATION else 1 for suite in base.suites)
    base = _share(base, tests)
    for suite in base.suites:
        narrowed = dataclasses.replace(base, only=(suite,))
        if suite not in _PER_OPERATION:
            items.append(
                ContractItem.from_parent(session, name=f"contracts[{suite}]", suite_config=narrowed)
            )
            continue
        for operation in operations:
            items.append(
                ContractItem.from_parent(
                    session,
                    name=f"contracts[{suite}-{operation}]",
                    suite_config=dataclasses.replace(narrowed, operations=(operation,)),
                )
            )


@pytest.fixture(scope="session")
def contracts_base_url(pytestconfig: pytest.Config) -> str:
    """Override in your conftest to point the suites at a server your fixtures start."""
    url: str | None = pytestconfig.getoption("--contracts-base-url")
    if not url:
        pytest.skip("no implementation to check: pass --contracts-base-url or override the fixture")
    return url


@pytest.fixture(scope="session")
def contracts_config(pytestconfig: pytest.Config, contracts_base_url: str) -> SuiteConfig:
    """The run configuration from the ``--contracts-*`` options and ``contracts_base_url``."""
    return _config(pytestconfig, contracts_base_url)


def contract_tests(suites: Sequence[str] = SUITES) -> Callable[..., None]:
    """A test function, parametrized by suite, to bind in a test module of yours.

    A suite left out by ``--contracts-only`` (or by ``--contracts-read-only``) is skipped.
    """

    @pytest.mark.parametrize("suite", list(suites))
    def test_contract(
        suite: str, contracts_config: SuiteConfig, request: pytest.FixtureRequest
    ) -> None:
        if suite not in contracts_config.suites:
            pytest.skip(f"{suite} is not among the suites chosen (--contracts-only)")
        shared = _share(contracts_config, len(contracts_config.suites))
        report = _run(dataclasses.replace(shared, only=(suite,)), request.config)
        if report.interrupted:
            raise KeyboardInterrupt
        if not report.ok:
            pytest.fail(report.summary(seed_option=_SEED_OPTION), pytrace=False)
        if not report.conclusive:
            pytest.skip(report.summary(seed_option=_SEED_OPTION).splitlines()[-1])
        if report.skipped:
            pytest.skip("; ".join(f"{name}: {why}" for name, why in report.skipped.items()))

    return test_contract
