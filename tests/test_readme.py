"""The README's examples work as written."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.doc_examples import blocks
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
    block = next(b for b in _python_blocks() if 'with MockServer(clock="manual"' in b)
    result = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("http://127.0.0.1:")
    assert result.stdout.rstrip().endswith("GetTaskExecution")


def _first_block_commands() -> list[str]:
    first_block = README.read_text(encoding="utf-8").split("```")[1]
    lines = first_block.splitlines()[1:]  # after the language
    return [line.split("   #", 1)[0].strip() for line in lines if line.strip()]


def test_readme_first_lines_give_the_two_commands_ci_runs_the_second() -> None:
    install_and_run, test = _first_block_commands()
    assert install_and_run.startswith("python3 -m pip install . && ")
    assert "python3 -m mockserver --clock manual" in install_and_run
    assert test == "python3 -m pip install tox && tox"
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == test  # CI runs exactly the README's test command


def test_readme_first_block_says_how_long_tox_takes() -> None:
    comment = README.read_text(encoding="utf-8").split("```")[1].splitlines()[2]
    assert re.search(r"tox\s+#.*\bminutes\b", comment), comment


@pytest.mark.e2e
def test_readme_first_line_pasted_leaves_the_fake_running_and_reaches_the_next(
    tmp_path: Path,
) -> None:
    """Pasted into bash, the first line installs (left out here), puts the fake in the
    background and returns, so the second line runs. Written as before (the fake in the
    foreground) the shell never gets past it."""
    install_and_run, _ = _first_block_commands()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = install_and_run.replace(
        "python3 -m mockserver", f"command python3 -m mockserver --port {port}"
    )
    script = (
        'python3() { if [ "$1 $2" = "-m pip" ]; then return 0; fi; command python3 "$@"; }\n'
        f"{line}\n"
        f"for _ in $(seq 150); do curl -sf http://127.0.0.1:{port}/_mock/health && break;"
        " sleep 0.2; done\necho; echo reached the next line\n"
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    # A session of its own: the fake it leaves behind is stopped with it, by its group id.
    # Output to a file: the fake keeps a pipe open, the shell's exit is what counts.
    with (tmp_path / "out").open("w") as out_file:
        shell = subprocess.Popen(
            ["bash", "-c", script], cwd=tmp_path, env=env, stdout=out_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            shell.wait(timeout=60)
            err = ""
        except subprocess.TimeoutExpired:
            err = "the shell never got past the first line"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait()
    out = (tmp_path / "out").read_text()
    assert out.splitlines()[-2:] == ['{"status":"ok"}', "reached the next line"], err + out


def test_readme_pytest_extra_brings_pytest_xdist() -> None:
    """``pytest -n 4`` as docs/testing.md says needs pytest-xdist: its extra brings it."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {re.split(r"[<>=]", item)[0] for item in extras["pytest"]} == {"pytest", "pytest-xdist"}
    page = blocks(ROOT / "docs" / "testing.md")
    runs = [b.text for b in page if b.language == "bash" and "pytest -n 4" in b.text]
    assert runs and all("pip install '.[pytest]'" in text for text in runs)


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
def test_readme_sdk_errors_example_names_the_code() -> None:
    block = next(b for b in _python_blocks() if "from connectrpc.errors import ConnectError" in b)
    out = _run_against_server(block)
    assert out.startswith("not_found - task 00000000-0000-4000-8000-000000000000 not found")
