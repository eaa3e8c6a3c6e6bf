"""pytest plugin (entry point ``ona_contracts``): the contract suites inside a pytest run.

Two ways to use it:

* From the command line, against a running server: ``pytest --contracts-base-url URL``
  adds one test per suite (``contracts[positive]``, ...) to the session.
* From your own tests, against a server your fixtures start: define a
  ``contracts_base_url`` fixture and bind ``test_contracts = contract_tests()`` in a test
  module; it is parametrized by suite and fails with the suite's readable summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from contracts.config import DEFAULT_MAX_EXAMPLES, SUITES, SuiteConfig
from contracts.runner import run

__all__ = ["contract_tests"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "Ona task API contract suite")
    group.addoption("--contracts-base-url", help="run the contract suites against this URL")
    group.addoption("--contracts-token", help="bearer token (default: random per run)")
    group.addoption(
        "--contracts-max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help="cases per operation",
    )
    group.addoption("--contracts-seed", type=int, help="seed, to repeat a run")
    group.addoption("--contracts-workers", type=int, default=1, help="operations in parallel")
    group.addoption("--contracts-only", help=f"comma-separated subset of {','.join(SUITES)}")
    group.addoption(
        "--contracts-lifecycle-timeout", type=float, default=30.0, help="execution time budget (s)"
    )
    group.addoption("--contracts-schema", help="OpenAPI document path or URL")


def _config(config: pytest.Config, base_url: str) -> SuiteConfig:
    only = config.getoption("--contracts-only")
    return SuiteConfig(
        base_url=base_url,
        token=config.getoption("--contracts-token"),
        max_examples=config.getoption("--contracts-max-examples"),
        seed=config.getoption("--contracts-seed"),
        workers=config.getoption("--contracts-workers"),
        only=tuple(s.strip() for s in only.split(",")) if only else SUITES,
        lifecycle_timeout=config.getoption("--contracts-lifecycle-timeout"),
        schema=config.getoption("--contracts-schema"),
    )


class ContractFailure(Exception):
    """A suite found the implementation in breach; the message is the run's summary."""


class ContractItem(pytest.Item):
    """One suite run against ``--contracts-base-url``."""

    def __init__(self, *, suite_config: SuiteConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite_config = suite_config

    def runtest(self) -> None:
        report = run(self.suite_config, progress=None)
        if not report.ok:
            raise ContractFailure(report.summary())

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
    for suite in base.only:
        items.append(
            ContractItem.from_parent(
                session,
                name=f"contracts[{suite}]",
                suite_config=dataclasses.replace(base, only=(suite,)),
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
    """A test function, parametrized by suite, to bind in a test module of yours."""

    @pytest.mark.parametrize("suite", list(suites))
    def test_contract(suite: str, contracts_config: SuiteConfig) -> None:
        report = run(dataclasses.replace(contracts_config, only=(suite,)), progress=None)
        if not report.ok:
            pytest.fail(report.summary(), pytrace=False)

    return test_contract
