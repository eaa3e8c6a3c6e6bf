"""Every dialect: the suite passes the fake in each, and catches a server broken in one.

Each broken server of :mod:`tests.contracts.mutants_dialects` must be caught by its named
check, and by no other check (the checks that read a body leave an unreadable one to
``response_decodes``, and a refused dialect to ``dialect_supported``).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from contracts import SuiteConfig, run
from contracts.__main__ import main
from contracts.dialects import DIALECTS, Dialect, variants
from contracts.exchange import Client
from tests.contracts.mutants import serve
from tests.contracts.mutants_dialects import DIALECT_MUTANTS, DialectMutant, WireRewrite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("mutant", DIALECT_MUTANTS, ids=[m.name for m in DIALECT_MUTANTS])
def test_contracts_dialect_mutant_is_caught_by_its_check_alone(mutant: DialectMutant) -> None:
    with serve(None, wrap=lambda app: WireRewrite(app, mutant)) as url:
        report = run(
            SuiteConfig(
                base_url=url, max_examples=10, seed=7, only=(mutant.suite,), lifecycle_timeout=5
            ),
            progress=None,
        )
    assert not report.ok, f"{mutant.name} went unnoticed"
    assert report.failed_checks == {mutant.check}, report.summary()


def test_contracts_gzip_that_is_not_gzip_is_a_contract_failure_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    mutant = next(m for m in DIALECT_MUTANTS if m.name == "gzip_header_on_plain_body")
    with serve(None, wrap=lambda app: WireRewrite(app, mutant)) as url:
        status = main(["--base-url", url, "--only", "positive", "--max-examples", "3"])
    out, err = capsys.readouterr()
    assert status == 1, out + err
    assert "cannot reach" not in out + err
    failure = out.split(": response_decodes", 1)[1]
    received = failure.splitlines()[1].strip()
    assert received.startswith("Received: HTTP ") and "but the body is not gzip" in received, out


def test_contracts_pass_the_fake_in_each_dialect_alone(mock_url: str) -> None:
    for family in ("json", "proto", "get", "gzip"):
        report = run(
            SuiteConfig(
                base_url=mock_url,
                max_examples=5,
                seed=11,
                dialects=(family,),
                lifecycle_timeout=10,
            ),
            progress=None,
        )
        assert report.ok, report.summary()
        assert report.dialect_requests.get(family, 0) > 0, report.summary()
        assert f"dialect {family}" in report.summary()


_EVERY_DIALECT = [dialect for family in DIALECTS for dialect in variants(family)]


@pytest.mark.parametrize("dialect", _EVERY_DIALECT, ids=lambda dialect: dialect.name)
def test_contracts_curl_reproduction_repeats_the_dialect(mock_url: str, dialect: Dialect) -> None:
    request = {"pagination": {"pageSize": 3}}
    with Client(mock_url, "curl-tenant", token_placeholder="CONTRACTS_TOKEN") as client:
        exchange = client.send("test", "ListTasks", request, dialect=dialect)
    assert exchange.status == 200 and exchange.body is not None
    # Pasted into a POSIX shell, the command sends the same request (binary and gzip bodies
    # through printf) and gets the same answer, byte for byte.
    replayed = subprocess.run(
        ["sh", "-c", exchange.curl],
        capture_output=True,
        check=True,
        env={**os.environ, "CONTRACTS_TOKEN": "curl-tenant"},
        timeout=30,
    ).stdout
    assert replayed == exchange.content, exchange.curl
