"""Scenarios: rules that decide each step's outcome, duration, output and logs.

A scenario is YAML (or the equivalent dict)::

    rules:
      - match: {reference: "^build$"}     # all given matchers must match (RE2, search)
        outcome: fail                      # succeed (default) | fail
        duration: 5                        # seconds; default Timing.step_duration
        failure_message: "exit status 2"   # only with outcome fail; default "task failed"
        output: {exitCode: "2"}            # step output map, shown once the step ends
        logs: ["compiling...", "error: boom"]
      - match: {command: "sleep"}
        duration: 30
    latency: {GetTask: 0.5}                # simulated response latency per RPC, seconds
    faults:                                # calls that fail on purpose; see faults.py
      - {method: StartTask, code: unavailable, times: 2}

Matchers are ``reference``, ``name`` and ``command`` (the task's, when it is started); a
rule without ``match`` matches every step. Patterns are RE2 (the ``google-re2`` package):
matching takes time linear in the text whatever the pattern, so no scenario can stall the
server (``^(a+)+$`` is harmless), at the price of Python-only syntax such as look-arounds
and backreferences. The first matching rule wins; a step that no
rule matches succeeds after the default duration. A rule is applied when the execution
is created, so loading a new scenario does not change executions that already exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import yaml

from mockserver.domain.faults import FaultError, FaultRule, parse_faults
from mockserver.domain.methods import METHOD_NAMES
from mockserver.domain.patterns import Pattern, compile_pattern
from mockserver.domain.types import JsonObject

Outcome = Literal["succeed", "fail"]
DEFAULT_FAILURE_MESSAGE = "task failed"
MATCH_KEYS = ("reference", "name", "command")
RULE_KEYS = ("match", "outcome", "duration", "failure_message", "output", "logs")
MAX_OUTPUT_KEY = 128
MAX_OUTPUT_VALUE = 4096


# Bounds that keep parsing a scenario and rendering it quick (a scenario is a handful of
# rules): YAML aliases may repeat one big value many times without costing text.
MAX_YAML_CHARS = 64 * 1024
MAX_RULES = 1000
MAX_OUTPUT_KEYS = 100
MAX_LOG_LINES = 1000
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
MAX_SECONDS = 10**9  # the longest duration or latency; a state import takes no longer one


class ScenarioError(ValueError):
    """A scenario document is malformed; the message names the offending key or index."""


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Match:
    """Regular expressions on the task's reference, name and command (``None`` = any)."""

    reference: Pattern | None = None
    name: Pattern | None = None
    command: Pattern | None = None

    def matches(self, reference: str, name: str, command: str) -> bool:
        """Whether every given pattern is found (RE2 ``search``) in its value."""
        return all(
            pattern is None or pattern.search(value) is not None
            for pattern, value in (
                (self.reference, reference),
                (self.name, name),
                (self.command, command),
            )
        )

    def _sources(self) -> tuple[str | None, ...]:
        return tuple(
            None if pattern is None else pattern.pattern
            for pattern in (self.reference, self.name, self.command)
        )

    def __eq__(self, other: object) -> bool:
        # Compiled RE2 objects compare by identity; two matches are equal by their sources.
        if not isinstance(other, Match):
            return NotImplemented
        return self._sources() == other._sources()

    def __hash__(self) -> int:
        return hash(self._sources())


@dataclass(frozen=True)
class StepBehaviour:
    """What a step will do, resolved when its execution is created."""

    succeed: bool
    duration: float
    failure_message: str
    output: Mapping[str, str]
    logs: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """One scenario rule; see the module docstring."""

    match: Match = field(default_factory=Match)
    outcome: Outcome = "succeed"
    duration: float | None = None
    failure_message: str | None = None
    output: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    logs: tuple[str, ...] = ()

    def behaviour(self, default_duration: float) -> StepBehaviour:
        """The step behaviour this rule gives."""
        failed = self.outcome == "fail"
        message = (self.failure_message or DEFAULT_FAILURE_MESSAGE) if failed else ""
        return StepBehaviour(
            succeed=not failed,
            duration=default_duration if self.duration is None else self.duration,
            failure_message=message,
            output=self.output,
            logs=self.logs,
        )


@dataclass(frozen=True)
class Scenario:
    """An immutable set of rules plus per-RPC latencies and faults."""

    rules: tuple[Rule, ...] = ()
    latency: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    faults: tuple[FaultRule, ...] = ()

    @classmethod
    def from_yaml(cls, text: str) -> Scenario:
        """Parse YAML text; an empty document is the empty scenario."""
        if len(text) > MAX_YAML_CHARS:
            raise ScenarioError(f"scenario: longer than {MAX_YAML_CHARS} characters")
        try:
            data = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise ScenarioError(f"scenario: invalid YAML: {exc}") from None
        except RecursionError:
            # PyYAML composes nested collections recursively.
            raise ScenarioError("scenario: invalid YAML: nested too deeply") from None
        except ValueError as exc:
            # PyYAML's constructors raise it for scalars they cannot build: an integer past
            # Python's 4,300-digit conversion limit, a timestamp like 2026-13-45.
            raise ScenarioError(f"scenario: invalid YAML: {exc}") from None
        return cls.from_dict({} if data is None else data)

    @classmethod
    def from_dict(cls, data: object) -> Scenario:
        """Build from a parsed document; :class:`ScenarioError` names what is wrong."""
        if not isinstance(data, dict):
            raise ScenarioError(f"scenario: expected a mapping, got {_kind(data)}")
        _reject_unknown(data, ("rules", "latency", "faults"), "scenario")
        raw_rules = data.get("rules")
        if raw_rules is None:
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise ScenarioError(f"rules: expected a list, got {_kind(raw_rules)}")
        if len(raw_rules) > MAX_RULES:
            raise ScenarioError(f"rules: at most {MAX_RULES} rules, got {len(raw_rules)}")
        rules = tuple(_parse_rule(raw, f"rules[{index}]") for index, raw in enumerate(raw_rules))
        expanded = sum(
            sum(map(len, rule.logs)) + sum(map(len, rule.output.values())) for rule in rules
        )
        if expanded > MAX_EXPANDED_CHARS:
            raise ScenarioError(
                f"scenario: logs and outputs add up to more than {MAX_EXPANDED_CHARS} characters"
            )
        try:
            faults = parse_faults(data.get("faults"))
        except FaultError as error:
            raise ScenarioError(str(error)) from None
        return cls(
            rules=rules,
            latency=MappingProxyType(_parse_latency(data.get("latency"))),
            faults=faults,
        )

    def to_dict(self) -> JsonObject:
        """The document form; ``Scenario.from_dict(s.to_dict()) == s``."""
        rules: list[JsonObject] = []
        for rule in self.rules:
            out: JsonObject = {}
            patterns = {
                key: pattern.pattern
                for key, pattern in (
                    ("reference", rule.match.reference),
                    ("name", rule.match.name),
                    ("command", rule.match.command),
                )
                if pattern is not None
            }
            if patterns:
                out["match"] = patterns
            out["outcome"] = rule.outcome
            if rule.duration is not None:
                out["duration"] = rule.duration
            if rule.failure_message is not None:
                out["failure_message"] = rule.failure_message
            if rule.output:
                out["output"] = dict(rule.output)
            if rule.logs:
                out["logs"] = list(rule.logs)
            rules.append(out)
        return {
            "rules": rules,
            "latency": dict(self.latency),
            "faults": [fault.to_dict() for fault in self.faults],
        }

    def rule_for(self, reference: str, name: str, command: str) -> Rule | None:
        """The first rule matching the task, if any."""
        for rule in self.rules:
            if rule.match.matches(reference, name, command):
                return rule
        return None

    def behaviour(
        self, reference: str, name: str, command: str, default_duration: float
    ) -> StepBehaviour:
        """What a step running this task does: the first matching rule, else success."""
        rule = self.rule_for(reference, name, command)
        if rule is None:
            return StepBehaviour(True, default_duration, "", MappingProxyType({}), ())
        return rule.behaviour(default_duration)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _reject_unknown(data: Mapping[object, object], known: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in known:
            raise ScenarioError(
                f"{path}: unknown key {key!r} (expected one of: {', '.join(known)})"
            )


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{path}: expected a number of seconds, got {_kind(value)}")
    # Compared, not passed to math.isfinite: an integer of 400 digits has no float.
    if not 0 <= value <= MAX_SECONDS:
        raise ScenarioError(f"{path}: expected a number between 0 and {MAX_SECONDS}, got {value!r}")
    return value


def _parse_rule(raw: object, path: str) -> Rule:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping, got {_kind(raw)}")
    _reject_unknown(raw, RULE_KEYS, path)
    outcome = raw.get("outcome", "succeed")
    if outcome not in ("succeed", "fail"):
        raise ScenarioError(f"{path}.outcome: expected 'succeed' or 'fail', got {outcome!r}")
    duration = raw.get("duration")
    failure_message = raw.get("failure_message")
    if failure_message is not None:
        if not isinstance(failure_message, str):
            raise ScenarioError(
                f"{path}.failure_message: expected a string, got {_kind(failure_message)}"
            )
        if outcome != "fail":
            raise ScenarioError(f"{path}.failure_message: only allowed with outcome 'fail'")
    return Rule(
        match=_parse_match(raw.get("match"), f"{path}.match"),
        outcome="fail" if outcome == "fail" else "succeed",
        duration=None if duration is None else _number(duration, f"{path}.duration"),
        failure_message=failure_message,
        output=MappingProxyType(_parse_output(raw.get("output"), f"{path}.output")),
        logs=_parse_logs(raw.get("logs"), f"{path}.logs"),
    )


def _parse_match(raw: object, path: str) -> Match:
    if raw is None:
        return Match()
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping, got {_kind(raw)}")
    _reject_unknown(raw, MATCH_KEYS, path)
    patterns: dict[str, Pattern] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise ScenarioError(f"{path}.{key}: expected a regular expression string")
        try:
            patterns[key] = compile_pattern(value)
        except ValueError as exc:
            raise ScenarioError(f"{path}.{key}: invalid regular expression: {exc}") from None
    return Match(
        reference=patterns.get("reference"),
        name=patterns.get("name"),
        command=patterns.get("command"),
    )


def _parse_output(raw: object, path: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping, got {_kind(raw)}")
    if len(raw) > MAX_OUTPUT_KEYS:
        raise ScenarioError(f"{path}: at most {MAX_OUTPUT_KEYS} keys, got {len(raw)}")
    output: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_OUTPUT_KEY:
            raise ScenarioError(
                f"{path}: key {key!r} must be a string of 1..{MAX_OUTPUT_KEY} characters"
            )
        if not isinstance(value, str):
            raise ScenarioError(f"{path}.{key}: expected a string, got {_kind(value)}")
        if len(value) > MAX_OUTPUT_VALUE:
            raise ScenarioError(f"{path}.{key}: longer than {MAX_OUTPUT_VALUE} characters")
        output[key] = value
    return output


def _parse_logs(raw: object, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ScenarioError(f"{path}: expected a list of strings, got {_kind(raw)}")
    if len(raw) > MAX_LOG_LINES:
        raise ScenarioError(f"{path}: at most {MAX_LOG_LINES} lines, got {len(raw)}")
    for index, line in enumerate(raw):
        if not isinstance(line, str):
            raise ScenarioError(f"{path}[{index}]: expected a string, got {_kind(line)}")
    return tuple(raw)


def _parse_latency(raw: object) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"latency: expected a mapping, got {_kind(raw)}")
    latency: dict[str, float] = {}
    for method, seconds in raw.items():
        if method not in METHOD_NAMES:
            raise ScenarioError(
                f"latency: unknown method {method!r} (expected one of: {', '.join(METHOD_NAMES)})"
            )
        latency[method] = _number(seconds, f"latency.{method}")
    return latency


# The path a ScenarioError starts with: "rules[0].match.reference: ..." ("scenario" is
# the document itself), and the key an "unknown key 'x'" message names.
_ERROR_PATH = re.compile(r"([A-Za-z_]\w*)((?:\[\d+\]|\.[^.\[\s:]+)*): ")
_PATH_PART = re.compile(r"\[(\d+)\]|\.([^.\[\s:]+)")
_UNKNOWN_KEY = re.compile(r"unknown key '([^']*)'")


def error_line(text: str, message: str) -> int | None:
    """The line (from 1) of ``text`` that a :class:`ScenarioError`'s ``message`` is about,
    if its path leads to one: what an editor shows the error beside."""
    found = _ERROR_PATH.match(message)
    if found is None:
        return None
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if node is None:
        return None
    parts: list[str | int] = [] if found.group(1) == "scenario" else [found.group(1)]
    for index, key in _PATH_PART.findall(found.group(2)):
        parts.append(int(index) if index else key)
    unknown = _UNKNOWN_KEY.search(message)
    if unknown is not None:
        parts.append(unknown.group(1))
    for part in parts:
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        elif isinstance(node, yaml.MappingNode) and isinstance(part, str):
            values = [
                v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part
            ]
            if not values:
                break
            node = values[0]
        else:
            break
    line: int = node.start_mark.line + 1
    return line
