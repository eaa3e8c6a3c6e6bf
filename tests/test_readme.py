"""The README's examples work as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# The README and the reference pages under docs/: their examples are tested as written.
DOCUMENTS = (README, *sorted((ROOT / "docs").glob("*.md")))


def _python_blocks() -> list[str]:
    return [
        block
        for document in DOCUMENTS
        for block in re.findall(r"```python\n(.*?)```", document.read_text(encoding="utf-8"), re.S)
    ]


def test_readme_in_process_example_runs() -> None:
    block = next(b for b in _python_blocks() if "with MockServer(" in b)
    result = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("http://127.0.0.1:")
    assert result.stdout.rstrip().endswith("GetTaskExecution")


def test_readme_first_lines_give_the_two_commands() -> None:
    first_block = README.read_text(encoding="utf-8").split("```")[1]
    assert "python3 -m mockserver" in first_block
    assert "tox" in first_block


def _run_against_server(block: str) -> str:
    """Run a README block against a real server on a free port, for the 8080 it names."""
    with ServerProcess("--clock", "manual") as server:
        code = block.replace("http://127.0.0.1:8080", server.url)
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.e2e
def test_readme_sdk_example_prints_the_named_phase() -> None:
    block = next(b for b in _python_blocks() if "ona_sdk.create_client" in b)
    assert _run_against_server(block) == "TASK_EXECUTION_PHASE_PENDING\n"


@pytest.mark.e2e
def test_readme_json_codec_example_sends_a_token() -> None:
    block = next(b for b in _python_blocks() if "google_protobuf_json_codec" in b)
    assert _run_against_server(block) == "0 tasks\n"


@pytest.mark.e2e
@pytest.mark.slow
def test_readme_pytest_example_passes_under_xdist(tmp_path: Path) -> None:
    block = next(b for b in _python_blocks() if "def test_a_build_succeeds(mockserver)" in b)
    (tmp_path / "test_my_client.py").write_text(block)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--rootdir", str(tmp_path), str(tmp_path / "test_my_client.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
