"""The outcome of a run: the verdict, a readable summary, and JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from contracts.config import SuiteConfig
from contracts.context import Unit
from contracts.failures import Failure

__all__ = ["Report"]


@dataclass(frozen=True)
class Report:
    config: SuiteConfig
    seed: int
    failures: tuple[Failure, ...]
    units: tuple[Unit, ...]
    cases: dict[str, int]
    requests: int
    seconds: float

    @property
    def ok(self) -> bool:
        """True iff the implementation met every check the run made."""
        return not self.failures

    @property
    def failed_checks(self) -> set[str]:
        return {failure.check for failure in self.failures}

    def summary(self) -> str:
        lines = [
            f"Contract run against {self.config.base_url} (seed {self.seed})",
            "",
        ]
        for suite in self.config.only:
            failed = [f for f in self.failures if f.suite == suite]
            verdict = "ok" if not failed else f"{len(failed)} failing check(s)"
            lines.append(f"  {suite:<10} {self.cases.get(suite, 0):>5} cases   {verdict}")
        lines.append("")
        lines.append(f"{self.requests} requests in {self.seconds:.1f} s")
        if self.failures:
            lines += ["", f"{len(self.failures)} failure(s):", ""]
            for number, failure in enumerate(self.failures, 1):
                lines.append(f"{number}. {failure.render()}")
                lines.append("")
            lines.append(
                f"FAILED: the implementation breaks the contract "
                f"(checks: {', '.join(sorted(self.failed_checks))}). "
                f"Repeat with --seed {self.seed}."
            )
        else:
            lines += ["", "PASSED: the implementation conforms to the contract."]
        return "\n".join(lines)

    def write_junit(self, path: str | Path) -> None:
        """One ``testsuite`` per suite, one ``testcase`` per operation or scenario."""
        root = ET.Element("testsuites", name="contracts", time=f"{self.seconds:.3f}")
        for suite in self.config.only:
            units = [unit for unit in self.units if unit.suite == suite]
            failures = [f for f in self.failures if f.suite == suite]
            names = [unit.name for unit in units]
            names += sorted({f.operation for f in failures} - set(names))
            element = ET.SubElement(
                root,
                "testsuite",
                name=suite,
                tests=str(len(names)),
                failures=str(len({f.operation for f in failures})),
                errors="0",
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
