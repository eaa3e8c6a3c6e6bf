"""Fixtures of the proxy tests: the fake as a real process, and a proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy_process import ProxyProcess
from tests.support.server_process import ServerProcess


@pytest.fixture(scope="module")
def fake() -> Iterator[ServerProcess]:
    """``python -m mockserver`` on a manual clock; tests use their own token (tenant)."""
    with ServerProcess(
        "--clock", "manual", "--pending-delay", "1", "--step-duration", "2",
        "--log-level", "warning",
    ) as server:  # fmt: skip
        yield server


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return tmp_path / "recording.jsonl"


@pytest.fixture
def proxy(fake: ServerProcess, recording: Path, tmp_path: Path) -> Iterator[ProxyProcess]:
    """A proxy in front of the fake, recording and writing a JUnit report at exit."""
    with ProxyProcess(
        "--upstream", fake.url, "--record", str(recording),
        "--junit-xml", str(tmp_path / "junit.xml"),
    ) as process:  # fmt: skip
        yield process
