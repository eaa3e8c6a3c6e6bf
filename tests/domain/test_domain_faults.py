"""Faults: parsing, first-firing-rule-wins, times, seeded rates, token buckets."""

from __future__ import annotations

import pytest
import yaml

from mockserver.domain import Scenario, ScenarioError
from mockserver.domain.faults import Fault, FaultState, parse_faults
from mockserver.domain.testing import World

MINIMAL = """
faults:
  - method: StartTask        # a method name, or "*" for all
    code: unavailable        # any Connect code; HTTP status from the Connect mapping
    times: 2                 # the first 2 matching calls fail, later ones go through
"""


def _state(yaml_text: str, seed: str = "s") -> FaultState:
    return FaultState(Scenario.from_yaml(yaml_text).faults, seed)


def test_faults_minimal_form_fails_the_first_two_matching_calls() -> None:
    state = _state(MINIMAL)
    assert state.decide("GetTask", {}, 0) is None
    first = state.decide("StartTask", {}, 0)
    assert first == Fault(0, "error", 0.0, "unavailable", "injected fault: unavailable")
    assert state.decide("StartTask", {}, 0) is not None
    assert state.decide("StartTask", {}, 0) is None
    assert state.decide("StartTask", {}, 0) is None


def test_faults_first_firing_rule_wins_and_an_exhausted_rule_lets_the_next_try() -> None:
    state = _state(
        """
faults:
  - {method: GetTask, code: internal, times: 1, message: boom}
  - {method: "*", code: unavailable}
"""
    )
    assert state.decide("GetTask", {}, 0) == Fault(0, "error", 0.0, "internal", "boom")
    fault = state.decide("GetTask", {}, 0)
    assert fault is not None and (fault.rule, fault.code) == (1, "unavailable")


def test_faults_match_on_request_fields() -> None:
    state = _state(
        """
faults:
  - method: CreateTask
    match: {metadata.reference: "^build$", environmentId: "^07e0"}
    code: already_exists
"""
    )
    build = {"environmentId": "07e03a28", "metadata": {"reference": "build"}}
    assert state.decide("CreateTask", build, 0) is not None
    assert state.decide("CreateTask", {**build, "environmentId": "aaaa"}, 0) is None
    assert state.decide("CreateTask", {"environmentId": "07e03a28"}, 0) is None


def test_faults_match_any_list_item() -> None:
    state = _state('faults: [{code: internal, match: {filter.environmentIds: "^b"}}]')
    assert state.decide("ListTasks", {"filter": {"environmentIds": ["a", "b"]}}, 0) is not None
    assert state.decide("ListTasks", {"filter": {"environmentIds": ["a"]}}, 0) is None


def test_faults_rate_is_repeatable_with_a_seed() -> None:
    text = "faults: [{method: GetTask, code: internal, rate: 0.3, seed: 7}]"

    def run() -> list[bool]:
        state = _state(text)
        return [state.decide("GetTask", {}, 0) is not None for _ in range(200)]

    first = run()
    assert first == run()
    assert 30 < sum(first) < 90  # about 60 of 200


def test_faults_rate_zero_and_one() -> None:
    never = _state("faults: [{code: internal, rate: 0}]")
    always = _state("faults: [{code: internal, rate: 1}]")
    assert all(never.decide("GetTask", {}, 0) is None for _ in range(50))
    assert all(always.decide("GetTask", {}, 0) is not None for _ in range(50))


def test_faults_latency_with_jitter_stays_in_range_and_repeats() -> None:
    text = "faults: [{method: ListTasks, latency: 0.5, jitter: 0.1}]"
    delays = []
    for state in (_state(text), _state(text)):
        delays.append([fault.delay for fault in _all(state, "ListTasks", 20)])
    assert delays[0] == delays[1]
    assert all(0.4 <= delay <= 0.6 for delay in delays[0])
    assert len(set(delays[0])) > 1


def test_faults_drop_and_retry_after() -> None:
    state = _state(
        """
faults:
  - {method: DeleteTask, drop: true}
  - {method: GetTask, code: unavailable, retry_after: 3}
"""
    )
    assert state.decide("DeleteTask", {}, 0) == Fault(0, "drop")
    fault = state.decide("GetTask", {}, 0)
    assert fault is not None and fault.retry_after == 3
    assert fault.to_json() == {"rule": 1, "kind": "error", "retryAfter": 3}


def test_faults_token_bucket_limits_and_refills_on_the_clock() -> None:
    state = _state("faults: [{rate_limit: {requests: 2, per: 1}}]")
    assert state.decide("GetTask", {}, 0) is None
    assert state.decide("GetTask", {}, 0) is None
    limited = state.decide("GetTask", {}, 0)
    assert limited is not None
    assert (limited.kind, limited.code, limited.retry_after) == (
        "rate_limit",
        "resource_exhausted",
        1,
    )
    assert "2 requests per 1 second" in limited.message
    assert state.decide("GetTask", {}, 250_000) is not None  # half a token back: still empty
    assert state.decide("GetTask", {}, 500_000) is None  # one token back
    assert state.decide("GetTask", {}, 500_000) is not None
    assert state.decide("GetTask", {}, 10_000_000) is None  # refilled to the burst, not more
    assert state.decide("GetTask", {}, 10_000_000) is None
    assert state.decide("GetTask", {}, 10_000_000) is not None


def test_faults_slow_bucket_says_how_long_to_wait() -> None:
    state = _state("faults: [{rate_limit: {requests: 1, per: 60}}]")
    assert state.decide("GetTask", {}, 0) is None
    fault = state.decide("GetTask", {}, 0)
    assert fault is not None and fault.retry_after == 60


def _all(state: FaultState, method: str, count: int) -> list[Fault]:
    faults = [state.decide(method, {}, 0) for _ in range(count)]
    assert all(fault is not None for fault in faults)
    return [fault for fault in faults if fault is not None]


def test_faults_round_trip_through_to_dict() -> None:
    text = """
faults:
  - {method: GetTask, match: {id: "^0"}, code: internal, message: m, times: 1, rate: 0.5,
     seed: 3, latency: 0.1, jitter: 0.05, retry_after: 2}
  - {rate_limit: {requests: 5, per: 2}}
  - {method: DeleteTask, drop: true}
"""
    scenario = Scenario.from_yaml(text)
    again = Scenario.from_dict(scenario.to_dict())
    assert again.faults == scenario.faults
    assert scenario.to_dict()["faults"][1] == {
        "method": "*",
        "rate_limit": {"requests": 5, "per": 2},
    }


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ("{}", "faults: expected a list"),
        ("[{method: Nope, code: internal}]", "faults[0].method: unknown method 'Nope'"),
        ("[{code: broken}]", "faults[0].code: 'broken' is not a Connect error code"),
        ("[{method: GetTask}]", "faults[0]: a fault needs a code, drop, rate_limit or latency"),
        ("[{code: internal, times: -1}]", "faults[0].times: expected an integer between 0 and"),
        ("[{code: internal, rate: 2}]", "faults[0].rate: expected a probability"),
        ("[{code: internal, drop: true}]", "faults[0]: a dropped connection has no code"),
        ("[{code: internal, oops: 1}]", "faults[0]: unknown key 'oops'"),
        ("[{latency: .inf}]", "faults[0].latency: expected a number of seconds between"),
        ("[{latency: .nan}]", "faults[0].latency: expected a number of seconds between"),
        ("[{latency: 1" + "0" * 400 + "}]", "faults[0].latency: expected a number of seconds"),
        ("[{code: internal, jitter: 1" + "0" * 400 + "}]", "faults[0].jitter: expected a number"),
        ("[{rate_limit: {requests: 1, per: 1" + "0" * 400 + "}}]", "faults[0].rate_limit.per: "),
        ("[{rate_limit: {requests: 0}}]", "faults[0].rate_limit.requests: expected an integer"),
        ("[{rate_limit: {requests: 1, per: 0}}]", "faults[0].rate_limit.per: expected a number"),
        ('[{code: internal, match: {id: "("}}]', "faults[0].match.id: invalid regular"),
        ("[{code: internal, match: {'a..b': x}}]", "faults[0].match: 'a..b' is not a dotted"),
    ],
)
def test_faults_errors_name_the_path(faults: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_yaml(f"faults: {faults}")
    assert message in str(caught.value)


def test_faults_parse_nothing_is_no_faults() -> None:
    assert parse_faults(None) == ()


def test_backend_fault_counters_are_per_tenant_and_restart_with_a_new_scenario() -> None:
    world = World(scenario=MINIMAL)
    backend = world.backend
    for _ in range(2):
        assert backend.fault(world.alice, "StartTask", {}) is not None
    assert backend.fault(world.alice, "StartTask", {}) is None
    # bob's counter is his own, on the same default scenario
    assert backend.fault(world.bob, "StartTask", {}) is not None
    # loading a scenario (even the same text) starts afresh
    backend.set_scenario(Scenario.from_yaml(MINIMAL), world.alice)
    assert backend.fault(world.alice, "StartTask", {}) is not None


def test_backend_without_faults_decides_nothing() -> None:
    world = World()
    assert world.backend.fault(world.alice, "StartTask", {}) is None


def test_faults_match_is_re2_so_a_catastrophic_pattern_is_harmless() -> None:
    state = _state('faults: [{code: internal, match: {id: "^(a+)+$"}}]')
    assert state.decide("GetTask", {"id": "a" * 50_000 + "!"}, 0) is None
    assert state.decide("GetTask", {"id": "aaaa"}, 0) is not None


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ('[{code: internal, match: {id: "(?=a)"}}]', "faults[0].match.id: invalid regular"),
        ("[" + ", ".join(["{code: internal}"] * 1001) + "]", "faults: at most 1000 rules"),
        ("[{code: internal, message: " + "x" * 4097 + "}]", "faults[0].message: longer than"),
    ],
)
def test_faults_bounds_and_re2_syntax(faults: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict({"faults": yaml.safe_load(faults)})
    assert message in str(caught.value)
