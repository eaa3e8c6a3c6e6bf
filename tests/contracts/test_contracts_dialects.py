"""Every dialect: the suite passes the fake in each, and catches a server broken in one.

Each broken server of :mod:`tests.contracts.mutants_dialects` must be caught by its named
check, and by no other check (the checks that read a body leave an unreadable one to
``response_decodes``, and a refused dialect to ``dialect_supported``).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from contracts import SuiteConfig, run
from contracts.__main__ import main
from contracts.dialects import DIALECTS, Dialect, variants
from contracts.exchange import Client
from tests.contracts.mutants import serve
from tests.contracts.mutants_dialects import DIALECT_MUTANTS, DialectMutant, WireRewrite
from tests.contracts.test_contracts_plugin import _pytest as run_pytest

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


def test_contracts_dialects_option_picks_what_runs(capsys: pytest.CaptureFixture[str]) -> None:
    mutant = next(m for m in DIALECT_MUTANTS if m.name == "binary_refused")
    common = ["--only", "positive", "--max-examples", "3", "--seed", "5"]
    with serve(None, wrap=lambda app: WireRewrite(app, mutant)) as url:
        # JSON alone never meets the defect; binary does, and the summary says where.
        assert main(["--base-url", url, "--dialects", "json", *common]) == 0
        out = capsys.readouterr().out
        assert "dialect json" in out and "dialect proto" not in out
        assert main(["--base-url", url, "--dialects", "proto", *common]) == 1
        out = capsys.readouterr().out
    assert "dialect_supported" in out and "(in proto)" in out
    proto_line = next(line for line in out.splitlines() if "dialect proto" in line)
    assert "failed check(s)" in proto_line, out


def test_contracts_unknown_dialect_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["--base-url", "http://127.0.0.1:9", "--dialects", "json,xml"])
    assert usage.value.code == 2
    assert "unknown dialect(s) xml" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown dialect"):
        SuiteConfig(base_url="http://127.0.0.1:9", dialects=("soap",))


def test_contracts_plugin_takes_contracts_dialects(tmp_path: Path) -> None:
    mutant = next(m for m in DIALECT_MUTANTS if m.name == "binary_refused")
    with serve(None, wrap=lambda app: WireRewrite(app, mutant)) as url:
        args = ["--contracts-base-url", url, "--contracts-only", "lifecycle"]
        refused = run_pytest(tmp_path, *args, "--contracts-dialects", "proto")
        passed = run_pytest(tmp_path, *args, "--contracts-dialects", "json")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "dialect_supported" in refused.stdout
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_contracts_client_reads_a_gzipped_answer(mock_url: str, codec: str) -> None:
    environment = str(uuid.uuid4())
    gzip_dialect = Dialect("gzip", codec)
    with Client(mock_url, f"gzip-{codec}") as client:
        for index in range(12):
            task = {
                "environmentId": environment,
                "metadata": {"name": f"task {index}", "reference": f"gzip-{index}"},
                "spec": {"command": "echo " + "x" * 100},
            }
            assert client.send("test", "CreateTask", task, dialect=gzip_dialect).status == 200
        listed = client.send(
            "test", "ListTasks", {"filter": {"environmentIds": [environment]}}, dialect=gzip_dialect
        )
    # Large enough for the fake to compress it: the client undid the gzip itself.
    assert listed.response_headers.get("content-encoding") == "gzip"
    assert listed.decode_problem is None
    assert len(listed.body["tasks"]) == 12
