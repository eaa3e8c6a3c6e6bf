"""The outcome of a run: the verdict, a readable summary, and JUnit XML for CI."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.cleanup import CleanupResult
from contracts.config import SuiteConfig, version
from contracts.context import Unit
from contracts.failures import Failure

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NO_VERDICT",
    "EXIT_OK",
    "Report",
    "failure_json",
    "shard_path",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the implementation breaks the contract
EXIT_NO_VERDICT = 2  # a setup problem, or calls that kept failing transiently
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


@dataclass(frozen=True)
class Report:
    config: SuiteConfig
    seed: int
    failures: tuple[Failure, ...]
    units: tuple[Unit, ...]
    cases: dict[str, int]
    requests: int
    seconds: float
    transient: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    cleanup: CleanupResult | None = None
    interrupted: bool = False
    begun: tuple[str, ...] | None = None  # the suites that started (None: all of them)
    # Suites that judged nothing, and why (no --second-token, ...): never shown as ok.
    skipped: dict[str, str] = field(default_factory=dict)
    dialect_requests: dict[str, int] = field(default_factory=dict)
    dialect_cases: dict[str, int] = field(default_factory=dict)
    dialect_failures: dict[str, int] = field(default_factory=dict)
    # Positive cases per operation: (answered 2xx, sent).
    positive_outcomes: dict[str, tuple[int, int]] = field(default_factory=dict)
    rounds: int = 1  # a campaign's rounds, the last one cut short by its deadline
    # Under --database: the previous campaign's signatures, still failing or fixed.
    previous: dict[str, list[str]] | None = None

    @property
    def ok(self) -> bool:
        """True iff the implementation met every check the run made."""
        return not self.failures

    @property
    def conclusive(self) -> bool:
        """False when the run was interrupted or calls kept failing transiently."""
        return not self.interrupted and not self.transient

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.failures:
            return EXIT_FAILED
        return EXIT_OK if self.conclusive else EXIT_NO_VERDICT

    @property
    def failed_checks(self) -> set[str]:
        return {failure.check for failure in self.failures}

    def summary(self, seed_option: str = "--seed") -> str:
        """The readable report; ``seed_option`` is how the caller repeats a seed."""
        mode = " read-only" if self.config.read_only else ""
        kind = "Campaign" if self.config.duration is not None else "Contract run"
        rounds = f", {self.rounds} round(s)" if self.config.duration is not None else ""
        lines = [
            f"{kind}{mode} against {self.config.base_url} (seed {self.seed}{rounds})",
            "",
        ]
        begun = self.config.suites if self.begun is None else self.begun
        for suite in self.config.suites:
            if suite not in begun:
                # After Ctrl-C: "0 cases ok" would claim a verdict nothing earned.
                lines.append(f"  {suite:<10} {'-':>5} cases   not run")
                continue
            failed = [f for f in self.failures if f.suite == suite]
            verdict = "ok" if not failed else f"{len(failed)} failing check(s)"
            if self.interrupted and suite == begun[-1]:
                verdict += ", interrupted"
            if suite in self.skipped and not failed:
                verdict = f"NOT RUN: {self.skipped[suite]}"
            lines.append(f"  {suite:<10} {self.cases.get(suite, 0):>5} cases   {verdict}")
        if self.positive_outcomes:
            shares = ", ".join(
                f"{operation} {ok}/{sent}"
                for operation, (ok, sent) in sorted(self.positive_outcomes.items())
            )
            lines.append(f"  positive cases answered 2xx: {shares}")
        lines.append("")
        lines += self._dialect_lines()
        retried = f" ({self.retried} retried after 429/503)" if self.retried else ""
        lines.append(f"{self.requests} requests in {self.seconds:.1f} s{retried}")
        if self.cleanup is not None:
            lines += self.cleanup.describe()
        if self.transient:
            calls = ", ".join(f"{op} {n}x" for op, n in sorted(self.transient.items()))
            lines += [
                "",
                f"Kept failing transiently (429/503 after {self.config.retries} retries), "
                f"not judged: {calls}.",
            ]
        if self.previous is not None:
            lines += [
                "",
                f"Earlier failures: {len(self.previous['still_failing'])} still failing, "
                f"{len(self.previous['fixed'])} fixed.",
            ]
            lines += [f"  still failing: {sig}" for sig in self.previous["still_failing"]]
            lines += [f"  fixed: {sig}" for sig in self.previous["fixed"]]
        if self.failures:
            lines += ["", f"{len(self.failures)} failure(s):", ""]
            for number, failure in enumerate(self.failures, 1):
                lines.append(f"{number}. {failure.render()}")
                lines.append("")
        repeat = f"Repeat with {seed_option} {self.seed}."
        if self.config.duration is not None:
            # Which cases a round reached depended on time: the requests above replay it.
            repeat = "Replay each failure with its command above."
        if self.interrupted:
            lines += ["", f"INTERRUPTED: no verdict; {len(self.failures)} failure(s) so far."]
        elif self.failures:
            lines.append(
                f"FAILED: the implementation breaks the contract "
                f"(checks: {', '.join(sorted(self.failed_checks))}). {repeat}"
            )
        elif self.transient:
            lines += [
                "",
                "NO VERDICT: no contract failure, but some calls were never answered "
                f"(lower the rate with --rate-limit, or try later). {repeat}",
            ]
        else:
            lines += ["", "PASSED: the implementation conforms to the contract."]
            if self.skipped:
                unjudged = "; ".join(f"{suite}: {why}" for suite, why in self.skipped.items())
                lines.append(f"Not checked (not run): {unjudged}.")
        return "\n".join(lines)

    def _dialect_lines(self) -> list[str]:
        """A line per dialect: the generated cases (positive, negative, auth, stateful) and
        all requests sent in it, and the failed checks on its answers.

        A method with side effects has no Connect GET, so a run of ``get`` alone still
        sends those as JSON POST: that is why ``json`` may be listed though not chosen.
        """
        families = [*self.config.dialects]
        families += sorted(set(self.dialect_requests) - set(families))
        lines = []
        for family in families:
            failed = self.dialect_failures.get(family, 0)
            requests = self.dialect_requests.get(family, 0)
            # A dialect no request went out in has earned no verdict (Ctrl-C, --only).
            verdict = "ok" if requests else "not used"
            if failed:
                verdict = f"{failed} failed check(s)"
            cases = self.dialect_cases.get(family, 0)
            lines.append(
                f"  dialect {family:<6} {cases:>5} cases {requests:>6} requests   {verdict}"
            )
        return [*lines, ""] if lines else []

    def write_junit(self, path: str | Path) -> None:
        """One ``testsuite`` per suite, one ``testcase`` per operation or scenario."""
        root = ET.Element("testsuites", name="contracts", time=f"{self.seconds:.3f}")
        for suite in self.config.suites:
            units = [unit for unit in self.units if unit.suite == suite]
            failures = [f for f in self.failures if f.suite == suite]
            names = [unit.name for unit in units]
            if suite in self.skipped and not names:
                names = ["(not run)"]
            names += sorted({f.operation for f in failures} - set(names))
            element = ET.SubElement(
                root,
                "testsuite",
                name=suite,
                tests=str(len(names)),
                failures=str(len({f.operation for f in failures})),
                errors="0",
                skipped="1" if suite in self.skipped and not failures else "0",
                time=f"{sum(unit.seconds for unit in units):.3f}",
            )
            seconds = {unit.name: unit.seconds for unit in units}
            for name in names:
                case = ET.SubElement(
                    element,
                    "testcase",
                    classname=f"contracts.{suite}",
                    name=name,
                    time=f"{seconds.get(name, 0.0):.3f}",
                )
                if suite in self.skipped and not failures:
                    ET.SubElement(case, "skipped", message=self.skipped[suite])
                for failure in (f for f in failures if f.operation == name):
                    node = ET.SubElement(
                        case,
                        "failure",
                        type=failure.check,
                        message=f"{failure.check}: Received: {failure.received}"[:500],
                    )
                    node.text = failure.render()
        ET.indent(root)
        Path(path).write_text(
            ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", encoding="utf-8"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data (``--report``): one entry per failure signature."""
        return {
            "version": version(),
            "base_url": self.config.base_url,
            "seed": self.seed,
            "duration": self.config.duration,
            "seconds": round(self.seconds, 3),
            "rounds": self.rounds,
            "suites": list(self.config.suites),
            "operations": list(self.config.operations),
            "dialects": list(self.config.dialects),
            "cases": dict(self.cases),
            "requests": self.requests,
            "dialect_requests": dict(self.dialect_requests),
            "transient": dict(self.transient),
            "interrupted": self.interrupted,
            "exit_status": self.exit_status,
            "failures": [failure_json(failure) for failure in self.failures],
            "previous": self.previous or {"still_failing": [], "fixed": []},
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")


def failure_json(failure: Failure) -> dict[str, Any]:
    """One failure signature as the JSON report lists it."""
    return {
        "signature": failure.signature,
        "check": failure.check,
        "method": failure.operation,
        "outcome": failure.outcome,
        "dialect": failure.dialect,
        "suite": failure.suite,
        "count": failure.occurrences,
        "first_seen": round(failure.first_seen, 3),
        "received": failure.received,
        "expected": failure.expected,
        "shrunk": failure.shrunk,
        "reproduction": failure.curl,
        "example": failure.example,
    }


def shard_path(path: str | Path) -> Path:
    """Where a shard writes a report: under pytest-xdist, named for the worker
    (``report.json`` becomes ``report.gw0.json``), so that workers never share a file."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    target = Path(path)
    if worker:
        return target.with_name(f"{target.stem}.{worker}{target.suffix}")
    return target
