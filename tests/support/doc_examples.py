"""The fenced examples of the README and docs/*.md, and how to run one as written.

A block is run as its fence says: ``bash`` by bash, ``sh`` by the system's ``sh`` (dash on
Debian: a block marked ``sh`` must be POSIX), ``python`` by Python (a block whose first
line is ``# name.py`` is that file: written for the page's later blocks, and run by
pytest when it is a test file no later block runs).
``yaml`` blocks are loaded as a scenario when that is what they are, else parsed. ``text``
and ``json`` blocks are output, synopses or data: shown, never run.

An HTML comment on the line before the fence changes that, and is seen by readers of the
source only:

- ``<!-- not-tested: REASON -->``: not run (an install, a real deployment, minutes of
  load); keep these rare, and say why;
- ``<!-- slow: REASON -->``: run, but marked slow.

Shell and Python blocks run against real fakes on free ports of 127.0.0.1: every
``127.0.0.1:PORT`` and ``--port PORT`` of the block is rewritten to a free port; for 8080,
the quick start's, a fake on a manual clock is started unless the block starts one; a
``mockserver`` the block starts (``python3 -m mockserver`` or ``mockserver``) runs in the
background until the block ends, so a block written for two terminals runs in one.
``python3 -m pip`` is left out: the package under test is already installed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.server_process import REPO_ROOT, ServerProcess

__all__ = ["DOCUMENTS", "RUNNABLE", "SHOWN", "Block", "blocks", "run_block"]

DOCUMENTS = (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")))
RUNNABLE = ("bash", "sh", "python", "yaml")
SHOWN = ("text", "json")  # output, synopses, data: never run

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(not-tested|slow):\s*(.+?)\s*-->\s*$")
_FILE_NAME = re.compile(r"^# (\w+\.py)\b")
_QUICK_START_PORT = 8080
_TIMEOUT = 120.0
_SLOW_TIMEOUT = 600.0


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    not_tested: str | None = None  # the reason
    slow: str | None = None

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(REPO_ROOT)}:{self.line}"

    @property
    def file_name(self) -> str | None:
        """``name.py`` for a Python block that is a file (its first line says so)."""
        found = _FILE_NAME.match(self.text)
        return found.group(1) if found and self.language == "python" else None


def blocks(document: Path) -> list[Block]:
    """Every fenced block of a Markdown document, in order."""
    found: list[Block] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        marker = _MARKER.match(lines[start - 1]) if start > 0 else None
        kind, reason = (marker.group(1), marker.group(2)) if marker else (None, None)
        found.append(
            Block(
                document,
                start + 1,
                fence.group(1),
                "\n".join(body) + "\n",
                not_tested=reason if kind == "not-tested" else None,
                slow=reason if kind == "slow" else None,
            )
        )
    return found


# -- running ----------------------------------------------------------------------------

# Shell functions that stand in for commands a block may run; POSIX, for sh blocks too.
_PRELUDE = r"""
_docs_mockserver() {
  _docs_out="$DOCS_DIR/mockserver.$$.$(date +%s%N).out"
  case " $* " in
    *" --port "*) ;;
    *) set -- --port "$DOCS_QUICK_START_PORT" "$@" ;;
  esac
  command python3 -m mockserver "$@" >"$_docs_out" 2>&1 &
  _docs_pid=$!
  echo "$_docs_pid" >>"$DOCS_DIR/pids"
  _docs_tries=0
  until grep -q "mockserver listening on" "$_docs_out"; do
    if ! kill -0 "$_docs_pid" 2>/dev/null || [ "$_docs_tries" -gt 300 ]; then
      cat "$_docs_out" >&2
      return 1
    fi
    _docs_tries=$((_docs_tries + 1))
    sleep 0.1
  done
  grep "mockserver listening on" "$_docs_out"
}
mockserver() { _docs_mockserver "$@"; }
python3() {
  if [ "$1" = "-m" ] && [ "$2" = "mockserver" ]; then
    shift 2
    _docs_mockserver "$@"
    return
  fi
  if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "(docs test: left out: python3 -m pip ...)" >&2
    return 0
  fi
  command python3 "$@"
}
"""

_PORT = re.compile(r"(127\.0\.0\.1:|--port )(\d{2,5})\b")
_STARTS_SERVER = re.compile(r"^\s*(python3 -m mockserver|mockserver)\b", re.M)
# A Connect error body as the fake writes it: a block's output must not hold one.
_CONNECT_ERROR = re.compile(r'\{"code":\s*"[a-z_]+",\s*"message"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(directory: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    env["DOCS_DIR"] = str(directory)
    return env


@contextlib.contextmanager
def _ports(block: Block) -> Iterator[dict[int, int]]:
    """The block's ports mapped to free ones; a fake for 8080 unless the block starts it."""
    named = {int(port) for _, port in _PORT.findall(block.text)} | {_QUICK_START_PORT}
    mapping = {port: _free_port() for port in named}
    if _STARTS_SERVER.search(block.text) or f"127.0.0.1:{_QUICK_START_PORT}" not in block.text:
        yield mapping
        return
    with ServerProcess("--clock", "manual") as server:
        mapping[_QUICK_START_PORT] = int(server.url.rsplit(":", 1)[1])
        yield mapping


def _rewrite(text: str, mapping: dict[int, int]) -> str:
    return _PORT.sub(lambda m: f"{m.group(1)}{mapping.get(int(m.group(2)), m.group(2))}", text)


def _stop_started(directory: Path) -> None:
    pids = directory / "pids"
    if not pids.exists():
        return
    for line in pids.read_text().split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(line), signal.SIGTERM)


def _shell(block: Block, directory: Path) -> subprocess.CompletedProcess[str]:
    env = _environment(directory)
    with _ports(block) as mapping:
        env["DOCS_QUICK_START_PORT"] = str(mapping[_QUICK_START_PORT])
        script = _PRELUDE + "\n" + _rewrite(block.text, mapping)
        # -e and pipefail: a failing step fails the block, not just its last command.
        shell = ["bash", "-e", "-o", "pipefail"] if block.language == "bash" else ["sh", "-e"]
        try:
            return subprocess.run(
                [*shell, "-c", script],
                cwd=directory,
                env=env,
                capture_output=True,
                text=True,
                timeout=_SLOW_TIMEOUT if block.slow else _TIMEOUT,
            )
        finally:
            _stop_started(directory)


def _python(block: Block, directory: Path, later: list[Block]) -> subprocess.CompletedProcess[str]:
    env = _environment(directory)
    name = block.file_name
    if name is not None:
        (directory / name).write_text(block.text, encoding="utf-8")
        if not name.startswith("test_") or any(name in other.text for other in later):
            return subprocess.CompletedProcess([], 0, "", "")  # a later block runs it
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
        return subprocess.run(
            command, cwd=directory, env=env, capture_output=True, text=True, timeout=_SLOW_TIMEOUT
        )
    with _ports(block) as mapping:
        return subprocess.run(
            [sys.executable, "-c", _rewrite(block.text, mapping)],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
        )


def run_block(block: Block, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ``block`` as written in ``directory``, after writing the files its page's
    earlier blocks define; the completed process (stdout, stderr, exit status)."""
    page = blocks(block.document) if block.document.exists() else []
    for earlier in page:
        if earlier.line < block.line and earlier.file_name is not None:
            (directory / earlier.file_name).write_text(earlier.text, encoding="utf-8")
    later = [other for other in page if other.line > block.line]
    if block.language in ("bash", "sh"):
        return _shell(block, directory)
    if block.language == "python":
        return _python(block, directory, later)
    if block.language == "yaml":
        return subprocess.run(
            [sys.executable, "-c", _YAML_CHECK],
            input=block.text,
            env=_environment(directory),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
        )
    raise ValueError(f"{block.name}: a ```{block.language} block is not run")


# A scenario (only its keys at the top) is loaded as the server would; other YAML (a CI
# job, say) is parsed.
_YAML_CHECK = """
import sys, yaml
from mockserver.domain import Scenario
text = sys.stdin.read()
data = yaml.safe_load(text)
if isinstance(data, dict) and set(data) <= {"rules", "latency", "faults"}:
    Scenario.from_yaml(text)
"""


def connect_error_in(output: str) -> str | None:
    """The first Connect error body in ``output``, if any."""
    found = _CONNECT_ERROR.search(output)
    return None if found is None else output[found.start() : found.start() + 200]
