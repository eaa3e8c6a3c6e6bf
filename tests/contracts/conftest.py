"""Fixtures of the contract-suite tests: the fake as a real listening process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server_process import ServerProcess


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    """``python -m mockserver`` on a free port, real clock, short delays; its base URL."""
    with ServerProcess(
        "--clock", "real", "--pending-delay", "0.1", "--step-duration", "0.2"
    ) as server:
        yield server.url
