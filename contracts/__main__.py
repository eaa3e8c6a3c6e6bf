"""``python -m contracts`` / ``contracts``: check an implementation against the contract."""

from __future__ import annotations

import argparse
import sys

from contracts.config import DEFAULT_MAX_EXAMPLES, SUITES, SuiteConfig
from contracts.runner import run

__all__ = ["main"]


def _suites(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [suite for suite in chosen if suite not in SUITES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SUITES)}")
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts",
        description="Contract and fuzz suite for implementations of the Ona "
        "EnvironmentAutomationService task API (Connect, unary JSON). "
        "Exit status 0 iff the implementation conforms.",
    )
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", help="bearer token (default: a random one per run)")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 conforms, 1 does not, 2 usage error)."""
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
        )
    except ValueError as exc:
        print(f"contracts: error: {exc}", file=sys.stderr)
        return 2
    report = run(config)
    print(report.summary())
    if args.junit_xml:
        report.write_junit(args.junit_xml)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
