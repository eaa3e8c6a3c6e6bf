"""Where the proxy reports: every violation kept, logged once, summed up at exit."""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from contracts.proxy.judge import CLIENT, SERVER, Violation

__all__ = ["HEADER", "MAX_KEPT", "ViolationLog", "header_value"]

HEADER = "x-contract-violations"
logger = logging.getLogger("contracts.proxy")


def header_value(violations: Sequence[Violation]) -> str:
    """``<count>; <first check>``, or ``0`` for a conforming exchange."""
    if not violations:
        return "0"
    return f"{len(violations)}; {violations[0].check}"


# Violations kept for the endpoint and the reports; past it, only counted (a long run in
# front of a server that breaks a promise on every call must not grow without bound).
MAX_KEPT = 10_000


class ViolationLog:
    """The violations seen, in order (the first :data:`MAX_KEPT`), how many there were of
    each side, and how many exchanges were forwarded and judged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._violations: list[Violation] = []
        self.counts = {SERVER: 0, CLIENT: 0}
        self.judged = 0
        self.forwarded = 0

    def count_forwarded(self, judged: bool) -> None:
        with self._lock:
            self.forwarded += 1
            self.judged += judged

    def add(self, violations: Sequence[Violation]) -> None:
        for violation in violations:
            logger.warning(
                "%s violation: %s [%s] %s: %s",
                violation.side,
                violation.method,
                violation.dialect,
                violation.check,
                violation.message,
            )
        with self._lock:
            for violation in violations:
                self.counts[violation.side] += 1
            self._violations.extend(violations[: max(MAX_KEPT - len(self._violations), 0)])

    @property
    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def of_side(self, side: str) -> list[Violation]:
        return [violation for violation in self.violations if violation.side == side]

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {"violations": [violation.to_json() for violation in self.violations]}

    def summary(self) -> str:
        """What the proxy saw: counts, then each distinct (side, method, check) once."""
        server, client = self.of_side(SERVER), self.of_side(CLIENT)
        lines = [
            f"contracts proxy: {self.forwarded} calls forwarded, {self.judged} judged; "
            f"{self.counts[SERVER]} server violation(s), {self.counts[CLIENT]} client "
            "violation(s)"
        ]
        if len(server) + len(client) < sum(self.counts.values()):
            lines.append(f"  (the first {MAX_KEPT} are kept and shown)")
        seen: dict[tuple[str, str, str], int] = {}
        first: dict[tuple[str, str, str], Violation] = {}
        for violation in server + client:
            key = (violation.side, violation.method, violation.check)
            seen[key] = seen.get(key, 0) + 1
            first.setdefault(key, violation)
        for key, count in seen.items():
            violation = first[key]
            times = f" ({count} times)" if count > 1 else ""
            lines.append(f"  {violation.side} {violation.method}: {violation.check}{times}")
            lines.append(f"      {violation.message}")
            lines.append(f"      {violation.curl}")
        verdict = (
            "FAILED: the server broke the contract"
            if self.counts[SERVER]
            else "PASSED: no server violation"
        )
        clients = " (the clients broke it, see above)" if self.counts[CLIENT] else ""
        lines.append(verdict + clients)
        return "\n".join(lines)

    def write_junit(self, path: str | Path) -> None:
        """One testsuite per side, one testcase per method and check."""
        root = ET.Element("testsuites", name="contracts-proxy")
        for side in (SERVER, CLIENT):
            violations = self.of_side(side)
            cases: dict[tuple[str, str], list[Violation]] = {}
            for violation in violations:
                cases.setdefault((violation.method, violation.check), []).append(violation)
            suite = ET.SubElement(
                root,
                "testsuite",
                name=f"proxy.{side}",
                tests=str(max(len(cases), 1)),
                failures=str(len(cases)),
                errors="0",
            )
            if not cases:
                ET.SubElement(suite, "testcase", classname=f"proxy.{side}", name="no violation")
            for (method, check), found in cases.items():
                case = ET.SubElement(suite, "testcase", classname=f"proxy.{side}", name=method)
                node = ET.SubElement(
                    case, "failure", type=check, message=f"{check}: {found[0].message}"[:500]
                )
                node.text = "\n".join(f"{v.message}\n    {v.curl}" for v in found[:20])
        ET.indent(root)
        Path(path).write_text(
            ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", encoding="utf-8"
        )
