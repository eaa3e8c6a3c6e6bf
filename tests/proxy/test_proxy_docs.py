"""The proxy's examples in the README and docs/proxy.md run as written (ports and URLs aside).

The README's CI step runs with a fake as "staging" and a small integration test of the
user's: it passes in front of the fake, and fails (exit 1) in front of a broken server.
The seeding example of docs/proxy.md loads a recording into a fresh fake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.contracts.mutants import MUTANTS, serve
from tests.support.factories import task_body
from tests.support.server_process import REPO_ROOT, ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
INTEGRATION_TEST = f'''
import os

import httpx


def test_create_then_get():
    url = os.environ["ONA_BASE_URL"] + "{SERVICE}"
    headers = {{"Authorization": "Bearer integration"}}
    created = httpx.post(url + "/CreateTask", json={json.dumps(task_body("ci"))}, headers=headers)
    task = created.json()["task"]
    got = httpx.post(url + "/GetTask", json={{"id": task.get("id", "")}}, headers=headers)
    assert got.status_code in (200, 400)
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ci_step() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "proxy" in b)
    return textwrap.dedent(block.split("run: |\n", 1)[1])


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


def _run_ci_step(staging: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    (workdir / "tests" / "integration").mkdir(parents=True)
    (workdir / "tests" / "integration" / "test_calls.py").write_text(INTEGRATION_TEST)
    script = _ci_step().replace("8090", str(_free_port()))
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=workdir,
        env={**_environment(), "STAGING_URL": staging},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_readme_ci_step_passes_in_front_of_the_fake(tmp_path: Path) -> None:
    with ServerProcess("--log-level", "warning") as staging:
        result = _run_ci_step(staging.url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 server violation(s)" in result.stdout
    assert "<failure" not in (tmp_path / "proxy.xml").read_text()


def test_readme_ci_step_fails_in_front_of_a_broken_server(tmp_path: Path) -> None:
    mutant = next(m for m in MUTANTS if m.name == "missing_required_field")
    with serve(mutant) as staging:
        result = _run_ci_step(staging, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'type="response_schema_conformance"' in (tmp_path / "proxy.xml").read_text()


def test_docs_seeding_example_loads_a_recording(tmp_path: Path) -> None:
    """docs/proxy.md: import-recording, then PUT /_mock/state with the tenant's token."""
    page = (REPO_ROOT / "docs" / "proxy.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", page, re.S) if "--data-binary" in b)
    task = {
        "id": "3f1d1f8e-6a8e-4d1b-9a4e-2c6f3b1a0d11",
        "environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048",
        "metadata": {
            "createdAt": "2026-01-01T00:00:00Z",
            "creator": {
                "id": "9b7c3d52-1f7e-4e4b-8f0a-6f3c2b1d0e9a",
                "principal": "PRINCIPAL_USER",
            },
            "name": "Seeded",
            "reference": "seed",
        },
        "spec": {"command": "make"},
    }
    line = {
        "format": 1, "seq": 1, "time": "2026-01-01T00:00:01Z", "caller": "caller-1",
        "path": f"{SERVICE}/CreateTask", "httpMethod": "POST", "method": "CreateTask",
        "dialect": "json", "request": {}, "status": 200, "code": "ok",
        "response": {"task": task}, "ms": 1.0,
    }  # fmt: skip
    (tmp_path / "calls.jsonl").write_text(json.dumps(line) + "\n")
    assert shutil.which("curl") is not None
    with ServerProcess("--clock", "manual", "--log-level", "warning") as fresh:
        script = block.replace("http://127.0.0.1:8080", fresh.url)
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env={**_environment(), "TOKEN": "docs-seed"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        got = httpx.post(
            f"{fresh.url}{SERVICE}/GetTask",
            json={"id": task["id"]},
            headers={"Authorization": "Bearer docs-seed"},
        )
    assert got.status_code == 200 and got.json()["task"] == task
