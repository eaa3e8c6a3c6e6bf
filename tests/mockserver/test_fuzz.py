"""Whatever the body, the server answers with a Connect response and never a 5xx."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.config import ServerConfig
from openapi.methods import METHODS
from tests.support.asgi import SERVICE_PATH, AsgiClient

_APPS: dict[bool, Starlette] = {}


def _client(strict: bool) -> AsgiClient:
    if strict not in _APPS:
        _APPS[strict] = create_app(ServerConfig(clock="manual", strict=strict))
    return AsgiClient(_APPS[strict])


_KEYS = st.sampled_from(
    [
        "id", "environmentId", "environment_id", "metadata", "spec", "dependsOn", "filter",
        "pagination", "pageSize", "page_size", "token", "name", "reference", "triggeredBy",
        "manual", "prebuild", "runsOn", "docker", "machine", "env", "value", "valueFrom",
        "phases", "taskIds", "references", "command", "x",
    ]
) | st.text(max_size=8)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["07e03a28-65a5-4d98-b532-8ea67b188048", "TASK_EXECUTION_PHASE_RUNNING"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=20,
)


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        body = response.json()
        assert isinstance(body["code"], str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from([m.name for m in METHODS]),
    body=st.dictionaries(_KEYS, _JSON, max_size=6) | _JSON,
    strict=st.booleans(),
)
def test_fuzz_random_json_never_gets_a_5xx(method: str, body: Any, strict: bool) -> None:
    client = _client(strict)
    content = json.dumps(body).encode()
    response = client.request(
        "POST",
        f"{SERVICE_PATH}/{method}",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    _check(response)


@settings(max_examples=100, deadline=None)
@given(
    method=st.sampled_from([m.name for m in METHODS]),
    content=st.binary(max_size=64),
)
def test_fuzz_random_bytes_never_get_a_5xx(method: str, content: bytes) -> None:
    response = _client(False).request(
        "POST",
        f"{SERVICE_PATH}/{method}",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    _check(response)
