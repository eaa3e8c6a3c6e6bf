"""ServerConfig: defaults, validation, and the URL it derives."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.config import ServerConfig, base_url


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"clock": "fast"}, "clock"),
        ({"port": -1}, "port"),
        ({"pending_delay": -0.5}, "pending_delay"),
        ({"step_duration": float("nan")}, "step_duration"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"journal_size": 0}, "journal_size"),
        ({"tokens": frozenset({" padded"})}, "tokens"),
    ],
)
def test_config_rejects_bad_values(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ServerConfig(**settings)


def test_config_url_prefers_the_public_url() -> None:
    assert ServerConfig(port=9000).url == "http://127.0.0.1:9000"
    assert ServerConfig(public_url="http://fake.test/").url == "http://fake.test"


def test_config_base_url_brackets_ipv6() -> None:
    assert base_url("::1", 80) == "http://[::1]:80"
    assert base_url("localhost", 80) == "http://localhost:80"
