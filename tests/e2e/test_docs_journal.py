"""docs/control-api.md, "Reading the journal": its shell examples, run by bash as written
against a real server (for the 8080 they name)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

PAGE = Path(__file__).resolve().parents[2] / "docs" / "control-api.md"


def _blocks() -> list[str]:
    section = PAGE.read_text(encoding="utf-8").split("## Reading the journal", 1)[1]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def _bash(block: str, server: ServerProcess, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", block.replace("http://127.0.0.1:8080", server.url)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_docs_journal_examples_run_as_written(tmp_path: Path) -> None:
    query, replay = _blocks()
    with ServerProcess("--clock", "manual") as server:
        output = _bash(query, server, tmp_path)
        assert '"older":null,"total":1}' in output  # what the comment shows
        assert output.count('"method":"GetTask"') == 2  # both queries found the call
        _bash(replay, server, tmp_path)
        journal = httpx.get(
            f"{server.url}/_mock/requests", headers={"Authorization": "Bearer dev"}
        ).json()["requests"]
    assert [entry["method"] for entry in journal] == ["GetTask", "GetTask"]
    assert journal[1]["request"] == journal[0]["request"]
