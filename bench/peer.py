"""The document, judged by upstream schemathesis over many seeds.

Starts the fake (``python -m mockserver --token peer``) on a free port of 127.0.0.1 once
per seed (a fresh store, so one run's tasks never feed the next), runs upstream
``schemathesis run --checks all`` with every phase, ``--generation-database none`` (no
failure replayed from an earlier run) and that seed, and prints one line per seed: the
failures, the API links covered, the test cases. Nothing here is a pass/fail test; the
figures go to docs/openapi.md ("The document, judged by schemathesis").

    python bench/peer.py                 # seeds 1..10, one after another (~60 s each)
    python bench/peer.py --seeds 5 7     # only these
    python bench/peer.py --show-failures # the failure lines of each run, too

Exit status: 0 when every run reported 0 failures, 1 when one did, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server_process import ServerProcess  # noqa: E402

TOKEN = "peer"
RUN_TIMEOUT = 900.0  # seconds; a run takes ~60 s on an idle machine

_LINKS = re.compile(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total")
_CASES = re.compile(r"(\d+) generated, (\d+) (?:found (\d+) unique failures|passed)")
_FAILURES = re.compile(r"(\d+) unique failures?|Failures? found: (\d+)")
_CODE = re.compile(r"\b(ST\d{3})\b")


@dataclasses.dataclass
class PeerRun:
    seed: int
    exit_code: int
    links_covered: int
    links_total: int
    failures: int
    codes: list[str]
    output: str

    def line(self) -> str:
        codes = " ".join(sorted(set(self.codes)))
        return (
            f"seed {self.seed:>3}: {self.failures} failures {codes}".rstrip()
            + f", links {self.links_covered}/{self.links_total}, exit {self.exit_code}"
        )


def run_seed(seed: int, document: Path) -> PeerRun:
    """One schemathesis run against a fresh fake."""
    with ServerProcess("--token", TOKEN) as server:
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            str(document),
            "--url",
            server.url,
            "--checks",
            "all",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--no-color",
        ]
        env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
        done = subprocess.run(
            command,
            cwd=ROOT,  # schemathesis.toml is read from here
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
            env=env,
        )
    output = done.stdout + done.stderr
    return parse(seed, done.returncode, output)


def parse(seed: int, exit_code: int, output: str) -> PeerRun:
    links = _LINKS.search(output)
    failures = 0
    for match in _FAILURES.finditer(output):
        failures = max(failures, int(match.group(1) or match.group(2)))
    codes = _CODE.findall(output) if exit_code else []
    if exit_code and not failures:
        failures = len(set(codes)) or 1
    return PeerRun(
        seed=seed,
        exit_code=exit_code,
        links_covered=int(links.group(1)) if links else 0,
        links_total=int(links.group(3)) if links else 0,
        failures=failures,
        codes=codes,
        output=output,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    parser.add_argument("--document", type=Path, default=ROOT / "openapi" / "openapi.yaml")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)
    runs = []
    for seed in args.seeds:
        try:
            peer = run_seed(seed, args.document)
        except (OSError, subprocess.SubprocessError, RuntimeError) as error:
            print(f"seed {seed}: setup error: {error}", file=sys.stderr)
            return 2
        runs.append(peer)
        print(peer.line(), flush=True)
        if args.show_failures and peer.exit_code:
            print(peer.output, flush=True)
    failing = [peer for peer in runs if peer.exit_code]
    reached = sum(1 for peer in runs if peer.links_covered >= 15)
    print(
        f"{len(runs) - len(failing)}/{len(runs)} runs without failure; "
        f"{reached}/{len(runs)} runs covered at least 15 links"
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
