"""``python -m contracts`` / ``contracts``: check an implementation against the contract."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

from contracts.checks import RESPONSE_TIME, response_time_within
from contracts.config import (
    CAMPAIGN_ROUND_EXAMPLES,
    DEFAULT_MAX_EXAMPLES,
    HUNTS,
    SUITES,
    SuiteConfig,
    version,
)
from contracts.dialects import DIALECTS, parse_dialects
from contracts.exchange import Client
from contracts.merge import MergeError, merge_files
from contracts.preflight import check_server, read_document
from contracts.report import EXIT_FAILED, EXIT_NO_VERDICT, EXIT_OK
from contracts.runner import SetupError, run
from contracts.saved_requests import still_fails

__all__ = ["main"]


def _proxy(argv: list[str]) -> int:
    from contracts.proxy.cli import main as proxy_main

    return proxy_main(argv)


def _replay(argv: list[str]) -> int:
    """``contracts replay FILE ...``: a campaign's JSON report (``--report``) has its failing
    requests sent again; anything else is read as the proxy's recording (JSON Lines)."""
    if any(_is_campaign_report(arg) for arg in argv):
        return _replay_report(argv)
    from contracts.replay import main as replay_main

    return replay_main(argv)


def _is_campaign_report(arg: str) -> bool:
    """Whether ``arg`` names a file holding one JSON object with ``failures``: a report."""
    path = Path(arg)
    if arg.startswith("-") or not path.is_file():
        return False
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False  # JSON Lines (a recording) is not one JSON document
    return isinstance(data, dict) and "failures" in data


def _suites(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [suite for suite in chosen if suite not in SUITES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SUITES)}")
    return chosen


def _dialects(text: str) -> tuple[str, ...]:
    try:
        return parse_dialects(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts",
        description="Contract and fuzz suite for implementations of the Ona "
        "EnvironmentAutomationService task API (Connect unary: JSON and binary, POST, "
        "GET and gzip). "
        "Exit status 0 iff the implementation conforms; 1 if it breaks the contract; "
        "2 for a setup problem (one line on stderr) or no verdict; 130 on Ctrl-C. "
        "Also: 'contracts proxy --upstream URL' (a validating proxy), "
        "'contracts replay FILE --base-url URL' (send a proxy recording, or a campaign "
        "report's failing requests, again) and 'contracts merge REPORT...' (one report "
        "from many shards).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", help="bearer token (default: a random one per run)")
    parser.add_argument(
        "--second-token",
        metavar="T2",
        help="a second caller with no access to the run's environments: the callers suite "
        "checks that it can neither read, change nor list what the first created "
        "(object-level authorization); without it that suite does not run",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help=f"generated cases per operation and suite (default {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument("--seed", type=int, help="repeat the run that printed this seed")
    parser.add_argument("--workers", type=int, default=1, help="operations fuzzed in parallel")
    parser.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report")
    parser.add_argument(
        "--only",
        type=_suites,
        default=SUITES,
        help=f"comma-separated suites (default: all of {','.join(SUITES)})",
    )
    parser.add_argument(
        "--dialects",
        type=_dialects,
        default=DIALECTS,
        help="comma-separated dialects each case draws one from: json (JSON POST), proto "
        "(binary POST), get (Connect GET), gzip (gzip bodies) (default: all)",
    )
    parser.add_argument(
        "--lifecycle-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long an execution may take to finish (default 30)",
    )
    parser.add_argument(
        "--schema",
        metavar="PATH_OR_URL",
        help="OpenAPI document to use instead of the committed one",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="per-request timeout (default 30)",
    )
    campaign = parser.add_argument_group("as a fuzzer (a campaign)")
    campaign.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="run rounds of every suite with fresh seeds until this time is spent, at "
        f"most {CAMPAIGN_ROUND_EXAMPLES} cases per operation a round (default: one bounded "
        "pass of --max-examples)",
    )
    campaign.add_argument(
        "--fail-fast", action="store_true", help="stop at the first failure (default: go on)"
    )
    campaign.add_argument(
        "--max-response-time",
        type=float,
        metavar="MS",
        help="an answer slower than this many milliseconds fails the response_time check",
    )
    campaign.add_argument(
        "--hunt",
        choices=HUNTS,
        action="append",
        default=[],
        help="steer generation (hypothesis.target) towards slow and large answers",
    )
    campaign.add_argument(
        "--database",
        metavar="DIR",
        help="keep failing examples and this report in DIR; the next campaign replays "
        "them first and says which earlier failures are fixed (default: keep nothing)",
    )
    campaign.add_argument(
        "--report",
        metavar="FILE",
        help="write the JSON report (one entry per failure signature) to FILE",
    )
    deployment = parser.add_argument_group("against a real deployment")
    deployment.add_argument(
        "--environment-id",
        action="append",
        default=[],
        metavar="ID",
        help="create tasks in this environment only (repeatable; default: random ids, "
        "which only a fake accepts)",
    )
    deployment.add_argument(
        "--keep",
        action="store_true",
        help="leave the tasks and executions the run created (default: delete and stop them)",
    )
    deployment.add_argument(
        "--read-only",
        action="store_true",
        help="call only GetTask, ListTasks, GetTaskExecution and ListTaskExecutions "
        "(a smoke check of production); skips the stateful suite",
    )
    deployment.add_argument(
        "--rate-limit",
        type=float,
        metavar="N",
        help="send at most N requests per second (default: no limit)",
    )
    deployment.add_argument(
        "--retries",
        type=int,
        default=5,
        metavar="N",
        help="retry a 429 or 503 up to N times, honouring Retry-After (default 5)",
    )
    return parser


def _merge(argv: list[str]) -> int:
    """``contracts merge REPORT... [-o OUT]``: one deduplicated report from many shards."""
    parser = argparse.ArgumentParser(
        prog="contracts merge",
        description="Merge JSON reports (--report) of shards into one, each failure "
        "signature once. Exit status as the merged verdict: 0, 1, or 2.",
    )
    parser.add_argument("reports", nargs="+", metavar="REPORT")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here (default: stdout)")
    args = parser.parse_args(argv)
    try:
        merged = merge_files(args.reports)
    except MergeError as problem:
        print(f"contracts merge: error: {problem}", file=sys.stderr)
        return EXIT_NO_VERDICT
    text = json.dumps(merged, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        for failure in merged["failures"]:
            print(f"{failure['count']:>6}x  {failure['signature']}")
        print(f"{len(merged['failures'])} distinct failure(s) from {len(args.reports)} report(s)")
    else:
        sys.stdout.write(text)
    return int(merged["exit_status"])


@contextlib.contextmanager
def _hypothesis_home(database: str | None) -> Iterator[None]:
    """Where Hypothesis keeps its files (a cache of constants) during the run.

    By default that is ``.hypothesis/`` in the working directory, which a CLI run must
    not leave behind: under ``--database DIR`` it is ``DIR/hypothesis``, otherwise a
    temporary directory removed at the end. (The pytest plugin leaves Hypothesis'
    settings to the session it runs in.)
    """
    with tempfile.TemporaryDirectory(prefix="contracts-hypothesis-") as scratch:
        set_hypothesis_home_dir(Path(database) / "hypothesis" if database else scratch)
        try:
            yield
        finally:
            set_hypothesis_home_dir(None)


def _replay_report(argv: list[str]) -> int:
    """``contracts replay REPORT --base-url URL``: send a report's failing requests again."""
    parser = argparse.ArgumentParser(
        prog="contracts replay",
        description="Send each failure's saved request (the JSON report's \"example\") to "
        "URL again, exactly, and judge it by its check. Exit 1 if one still fails, 0 if "
        "none does, 2 if none could be judged.",
    )
    parser.add_argument("report", metavar="REPORT")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", help="bearer token (default: a random one)")
    parser.add_argument("--max-response-time", type=float, metavar="MS")
    parser.add_argument("--request-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--schema", metavar="PATH_OR_URL")
    args = parser.parse_args(argv)
    try:
        failures = merge_files([args.report])["failures"]
        document = read_document(args.schema)
    except (MergeError, SetupError) as problem:
        print(f"contracts replay: error: {problem}", file=sys.stderr)
        return EXIT_NO_VERDICT
    extra = (
        {RESPONSE_TIME: response_time_within(args.max_response_time)}
        if args.max_response_time
        else {}
    )
    judged = failing = 0
    token = args.token or f"contracts-{secrets.token_hex(8)}"
    with Client(args.base_url, token, timeout=args.request_timeout) as client:
        try:
            check_server(client, document, (), token_given=args.token is not None)
        except SetupError as problem:
            print(f"contracts replay: error: {problem}", file=sys.stderr)
            return EXIT_NO_VERDICT
        for failure in failures:
            example = failure.get("example")
            if not isinstance(example, dict):
                print(f"not replayable  {failure['signature']} (spans several calls)")
                continue
            verdict, _ = still_fails(client, document, str(failure["check"]), example, extra)
            if verdict is None:
                print(f"not judged      {failure['signature']}")
                continue
            judged += 1
            failing += verdict
            print(f"{'still failing' if verdict else 'fixed':<15} {failure['signature']}")
    if failing:
        return EXIT_FAILED
    return EXIT_OK if judged else EXIT_NO_VERDICT


# Subcommands; the proxy's is imported when used, so a suite run never loads its server.
_COMMANDS = {"proxy": _proxy, "replay": _replay, "merge": _merge}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status.

    0 conforms, 1 does not, 2 no verdict (a usage or setup problem, or calls that kept
    failing transiently), 130 interrupted. ``contracts merge ...`` merges reports;
    ``contracts replay ...`` sends a recording, or a report's failing requests, again;
    ``contracts proxy ...`` runs the validating proxy.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _COMMANDS:
        return _COMMANDS[argv[0]](argv[1:])
    args = _parser().parse_args(argv)
    try:
        config = SuiteConfig(
            base_url=args.base_url,
            token=args.token,
            max_examples=args.max_examples,
            seed=args.seed,
            workers=args.workers,
            only=args.only,
            lifecycle_timeout=args.lifecycle_timeout,
            schema=args.schema,
            request_timeout=args.request_timeout,
            environment_ids=tuple(args.environment_id),
            keep=args.keep,
            read_only=args.read_only,
            rate_limit=args.rate_limit,
            retries=args.retries,
            second_token=args.second_token,
            dialects=args.dialects,
            duration=args.duration,
            fail_fast=args.fail_fast,
            max_response_time=args.max_response_time,
            hunt=tuple(dict.fromkeys(args.hunt)),
            database=args.database,
        )
    except ValueError as exc:
        print(f"contracts: error: {exc}", file=sys.stderr)
        return EXIT_NO_VERDICT
    try:
        with _hypothesis_home(args.database):
            report = run(config)
    except SetupError as problem:
        print(f"contracts: error: {problem}", file=sys.stderr)
        if problem.cleanup is not None and (problem.cleanup.left_tasks or problem.cleanup.kept):
            for line in problem.cleanup.describe():
                print(line, file=sys.stderr)
        return EXIT_NO_VERDICT
    print(report.summary())
    # Where it was told: naming files per pytest-xdist worker is the pytest plugin's job
    # (a CLI run started from a test under xdist would otherwise write elsewhere).
    if args.junit_xml:
        report.write_junit(args.junit_xml)
    if args.report:
        report.write_json(args.report)
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
