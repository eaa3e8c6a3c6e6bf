"""Scenario parsing, matching and errors."""

from __future__ import annotations

import pytest

from mockserver.domain import Scenario, ScenarioError
from mockserver.domain.scenario import DEFAULT_FAILURE_MESSAGE, error_line

EXAMPLE = """
rules:
  - match: {reference: "^build$"}
    outcome: fail
    duration: 5
    failure_message: "exit status 2"
    output: {exitCode: "2"}
    logs: ["compiling...", "error: boom"]
latency: {GetTask: 0.5}
"""


def test_scenario_from_yaml_parses_the_documented_example() -> None:
    scenario = Scenario.from_yaml(EXAMPLE)
    (rule,) = scenario.rules
    assert rule.outcome == "fail"
    assert rule.duration == 5
    assert rule.failure_message == "exit status 2"
    assert dict(rule.output) == {"exitCode": "2"}
    assert rule.logs == ("compiling...", "error: boom")
    assert dict(scenario.latency) == {"GetTask": 0.5}


def test_scenario_empty_document_is_the_empty_scenario() -> None:
    assert Scenario.from_yaml("") == Scenario()
    assert Scenario.from_yaml("rules: []") == Scenario()


def test_scenario_first_matching_rule_wins() -> None:
    scenario = Scenario.from_dict(
        {
            "rules": [
                {"match": {"name": "^Build"}, "duration": 1},
                {"match": {"name": "Build"}, "duration": 2},
                {"duration": 3},
            ]
        }
    )
    assert scenario.behaviour("", "Build it", "", 9).duration == 1
    assert scenario.behaviour("", "my Build", "", 9).duration == 2
    assert scenario.behaviour("", "other", "", 9).duration == 3


def test_scenario_all_given_matchers_must_match() -> None:
    scenario = Scenario.from_dict(
        {"rules": [{"match": {"reference": "^a$", "command": "make"}, "outcome": "fail"}]}
    )
    assert not scenario.behaviour("a", "", "make all", 2).succeed
    assert scenario.behaviour("a", "", "npm test", 2).succeed
    assert scenario.behaviour("b", "", "make all", 2).succeed


def test_scenario_defaults_without_a_rule() -> None:
    behaviour = Scenario().behaviour("x", "y", "z", 2.0)
    assert behaviour.succeed
    assert behaviour.duration == 2.0
    assert behaviour.failure_message == ""
    assert not behaviour.output
    assert behaviour.logs == ()


def test_scenario_fail_rule_gets_default_failure_message() -> None:
    scenario = Scenario.from_dict({"rules": [{"outcome": "fail"}]})
    behaviour = scenario.behaviour("", "", "", 2.0)
    assert behaviour.failure_message == DEFAULT_FAILURE_MESSAGE == "task failed"
    assert behaviour.duration == 2.0


def test_scenario_to_dict_round_trips() -> None:
    scenario = Scenario.from_yaml(EXAMPLE + "\n")
    again = Scenario.from_dict(scenario.to_dict())
    assert again == scenario
    assert again.to_dict() == scenario.to_dict()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("- a\n- b", "scenario: expected a mapping"),
        ("rulez: []", "scenario: unknown key 'rulez'"),
        ("rules: {}", "rules: expected a list"),
        ("rules: [42]", "rules[0]: expected a mapping"),
        ("rules: [{outcome: succeed}, {colour: red}]", "rules[1]: unknown key 'colour'"),
        ("rules: [{outcome: maybe}]", "rules[0].outcome: expected 'succeed' or 'fail'"),
        ("rules: [{duration: -1}]", "rules[0].duration: expected a number between 0 and"),
        ("rules: [{duration: soon}]", "rules[0].duration: expected a number"),
        ("rules: [{duration: true}]", "rules[0].duration: expected a number"),
        ("rules: [{match: {reference: '('}}]", "rules[0].match.reference: invalid regular"),
        ("rules: [{match: {label: x}}]", "rules[0].match: unknown key 'label'"),
        ("rules: [{match: {name: 3}}]", "rules[0].match.name: expected a regular expression"),
        ("rules: [{failure_message: x}]", "rules[0].failure_message: only allowed with"),
        ("rules: [{outcome: fail, failure_message: 3}]", "rules[0].failure_message: expected"),
        ("rules: [{output: {'': x}}]", "rules[0].output: key '' must be a string of 1..128"),
        (f"rules: [{{output: {{{'k' * 129}: x}}}}]", "must be a string of 1..128"),
        ("rules: [{output: {k: 3}}]", "rules[0].output.k: expected a string"),
        (f"rules: [{{output: {{k: {'v' * 4097}}}}}]", "rules[0].output.k: longer than 4096"),
        ("rules: [{logs: oops}]", "rules[0].logs: expected a list of strings"),
        ("rules: [{logs: [ok, 3]}]", "rules[0].logs[1]: expected a string"),
        ("latency: [1]", "latency: expected a mapping"),
        ("latency: {GetTsk: 1}", "latency: unknown method 'GetTsk'"),
        ("latency: {GetTask: -0.5}", "latency.GetTask: expected a number between 0 and"),
        ("rules: [", "scenario: invalid YAML"),
        ("latency: {GetTask: 1" + "0" * 5000 + "}", "scenario: invalid YAML: Exceeds the limit"),
        ("faults: [{code: unavailable, retry_after: 1" + "0" * 5000 + "}]", "invalid YAML"),
        ("when: 2026-13-45", "scenario: invalid YAML"),
    ],
)
def test_scenario_errors_name_the_bad_key(document: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_yaml(document)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("rules:\n- outcome: explode\n", 2),
        ("latency: {}\nrules:\n- match: {reference: '('}\n", 3),
        (
            "faults:\n- {method: GetTask, code: unavailable}\n- {method: Nope, code: internal}\n",
            3,
        ),
        ("\n\nlatency: {GetTask: -1}\n", 3),
        ("rules:\n- logs:\n  - fine\n  - 1\n", 4),
        ("rules: []\nnope: 1\n", 2),
        ("[1]\n", 1),
    ],
)
def test_scenario_error_line_is_where_the_path_leads(text: str, line: int) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_yaml(text)
    assert error_line(text, str(caught.value)) == line


def test_scenario_error_line_is_none_without_a_path() -> None:
    assert error_line("rules: [", "scenario: invalid YAML: ...") is None  # not composable
    assert error_line("a: 1", "something else") is None
