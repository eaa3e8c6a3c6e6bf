"""Fixtures of the contract-suite tests: the fake as a real listening process."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    """``python -m mockserver`` on a free port, real clock, short delays; its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "--port",
            "0",
            "--clock",
            "real",
            "--pending-delay",
            "0.1",
            "--step-duration",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    url = None
    while url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        match = _LISTENING.search(line)
        url = match.group(1) if match else None
    if url is None:
        process.kill()
        pytest.fail("python -m mockserver did not report its URL")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
