"""Integers beyond 64 bits in a scenario or an import are refused at the door (400, naming
the field), and a request that answers an error never takes effect.

They once got in: ``GET /_mock/state`` then answered 500 (orjson writes 64-bit integers
only), and with ``--state`` the PUT answered 500 with the scenario in force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver.app import create_app
from mockserver.config import ServerConfig
from mockserver.domain import Scenario, ScenarioError
from mockserver.domain.faults import FAULT_KEYS
from mockserver.domain.scenario import RULE_KEYS
from mockserver.state_file import read_state
from tests.support.asgi import AsgiClient, connect_error

HUGE = 100_000_000_000_000_000_000_000  # 77 bits
ADMIN = "operator"

# Every place a scenario holds a number, with a huge one in it.
HUGE_SCENARIOS = {
    "faults[0].times": {"faults": [{"code": "internal", "times": HUGE}]},
    "faults[0].seed": {"faults": [{"code": "internal", "rate": 0.5, "seed": HUGE}]},
    "faults[0].seed (negative)": {"faults": [{"code": "internal", "seed": -HUGE}]},
    "faults[0].retry_after": {"faults": [{"code": "unavailable", "retry_after": HUGE}]},
    "faults[0].rate_limit.requests": {"faults": [{"rate_limit": {"requests": HUGE}}]},
    "faults[0].rate": {"faults": [{"code": "internal", "rate": HUGE}]},
    "faults[0].latency": {"faults": [{"latency": HUGE}]},
    "faults[0].jitter": {"faults": [{"latency": 1, "jitter": HUGE}]},
    "faults[0].rate_limit.per": {"faults": [{"rate_limit": {"requests": 1, "per": HUGE}}]},
    "rules[0].duration": {"rules": [{"duration": HUGE}]},
    "latency.GetTask": {"latency": {"GetTask": HUGE}},
}


def _field(case: str) -> str:
    return case.split(" ")[0]


def _app(tmp_path: Path | None = None) -> Any:
    path = None if tmp_path is None else tmp_path / "state.db"
    return create_app(
        ServerConfig(clock="manual", state_path=path, admin_tokens=frozenset({ADMIN}))
    )


def test_every_key_a_scenario_may_carry_is_audited() -> None:
    """A new key with a number in it needs a case above."""
    numeric = {"times", "seed", "retry_after", "rate_limit", "rate", "latency", "jitter"}
    assert {key for key in FAULT_KEYS if key in numeric} <= {
        _field(case).split(".")[1] for case in HUGE_SCENARIOS if case.startswith("faults")
    }
    assert "duration" in RULE_KEYS


@pytest.mark.parametrize("case", list(HUGE_SCENARIOS))
def test_a_scenario_with_a_huge_integer_is_refused_naming_the_field(case: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        Scenario.from_dict(HUGE_SCENARIOS[case])
    assert str(raised.value).startswith(f"{_field(case)}: ")


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63)])
def test_a_64_bit_seed_is_taken_and_written(value: int) -> None:
    scenario = Scenario.from_dict({"faults": [{"code": "internal", "seed": value}]})
    assert orjson.loads(orjson.dumps(scenario.to_dict()))["faults"][0]["seed"] == value


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("case", list(HUGE_SCENARIOS))
def test_put_scenario_with_a_huge_integer_is_400_and_takes_no_effect(
    tmp_path: Path, case: str, with_state: bool
) -> None:
    client = AsgiClient(_app(tmp_path if with_state else None))
    before = client.request("GET", "/_mock/scenario").json()
    response = client.request(
        "PUT", "/_mock/scenario", content=json.dumps(HUGE_SCENARIOS[case]).encode()
    )
    assert connect_error(response, 400, "invalid_argument").startswith(
        f"invalid scenario: {_field(case)}: "
    )
    assert client.request("GET", "/_mock/scenario").json() == before
    assert client.request("GET", "/_mock/state").status_code == 200
    assert client.request("GET", "/_mock/state", token=ADMIN).status_code == 200
    if with_state:
        assert read_state(tmp_path / "state.db")["tenants"] == {}


@pytest.mark.parametrize("operator", [False, True])
def test_an_import_with_a_huge_seed_is_400_and_takes_no_effect(operator: bool) -> None:
    client = AsgiClient(_app())
    client.ok("CreateTask", {"environmentId": "07e03a28-65a5-4d98-b532-8ea67b188048"})
    token = ADMIN if operator else ""
    before = client.request("GET", "/_mock/state", token=token).json()
    document = {
        "version": 1,
        "tenants": {"t": {"scenario": HUGE_SCENARIOS["faults[0].seed"]}},
    }
    response = client.request("PUT", "/_mock/state", json=document, token=token)
    message = connect_error(response, 400, "invalid_argument")
    assert message == (
        "state.tenants['t'].scenario: faults[0].seed: expected a 64-bit integer"
        f" ({-(2**63)} to {2**63 - 1}), got {str(HUGE)[:40]}"
    )
    assert client.request("GET", "/_mock/state", token=token).json() == before
