"""Faults: scenario rules that make an API call fail, stall or drop on purpose.

A scenario's ``faults`` is a list of rules, first firing rule wins, decided before the
domain runs (even before the request is validated, as an outage would)::

    faults:
      - method: StartTask        # a method name, or "*" (default) for all
        code: unavailable        # any Connect code; the HTTP status follows Connect's table
        times: 2                 # the first 2 matching calls fail, later ones go through
      - method: GetTask
        match: {id: "^0000"}     # request fields (dotted proto3-JSON paths), RE2 search
        rate: 0.25               # fires on a quarter of the matching calls ...
        seed: 7                  # ... the same quarter on every run
        code: internal
        message: "boom"
      - method: ListTasks
        latency: 0.5             # seconds before answering (the call then goes through)
        jitter: 0.1              # +- seconds, from the rule's seeded generator
      - method: DeleteTask
        drop: true               # close the connection without any response
      - method: "*"
        rate_limit: {requests: 10, per: 1}  # token bucket; resource_exhausted (429) beyond
        retry_after: 2           # Retry-After header (seconds) on 429/503 answers

A rule *fires* when its method and ``match`` fit, it has ``times`` left, its ``rate`` roll
says yes, and (for ``rate_limit``) the tenant's bucket is empty. A rule that does not fire
lets the next one try. Counters, generators and buckets belong to one tenant and one
scenario: loading a scenario starts them afresh, and tenants never share them. Time for the
bucket is the tenant's clock, so on a manual clock it refills only when the clock moves.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mockserver.domain.methods import METHOD_NAMES
from mockserver.domain.patterns import Pattern, compile_pattern
from mockserver.domain.types import JsonObject, Micros

__all__ = [
    "CONNECT_CODES",
    "Fault",
    "FaultKind",
    "FaultRule",
    "FaultState",
    "FieldMiss",
    "RateLimit",
    "RequestMatch",
    "field_value",
    "parse_faults",
    "parse_request_match",
]

# Connect's error codes (protocol spec, "Error Codes"); the domain keeps no HTTP table.
CONNECT_CODES: tuple[str, ...] = (
    "canceled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
)
FAULT_KEYS = (
    "method",
    "match",
    "code",
    "message",
    "times",
    "rate",
    "seed",
    "latency",
    "jitter",
    "drop",
    "retry_after",
    "rate_limit",
)
_MAX_SECONDS = 3600.0  # a fault that stalls a call for more than an hour is a typo
# Every integer a scenario carries fits 64 bits, as in protobuf and every JSON library the
# export may meet: a longer one is refused at the door (orjson cannot even write it).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# A scenario is a handful of rules; bounds keep a hostile one from costing every call.
MAX_FAULTS = 1000
MAX_MATCH_FIELDS = 32
MAX_MESSAGE_CHARS = 4096

FaultKind = Literal["error", "drop", "delay", "rate_limit"]


class FaultError(ValueError):
    """A malformed fault rule; the message names the path (``faults[0].code``)."""


@dataclass(frozen=True, slots=True, eq=False)
class RequestMatch:
    """Regular expressions (RE2) on request fields, by dotted proto3-JSON path (all must
    match).

    A missing field reads as ``""``; a list matches when any of its items does; numbers
    and booleans are matched in their JSON spelling.
    """

    fields: tuple[tuple[tuple[str, ...], Pattern], ...] = ()

    def matches(self, request: JsonObject) -> bool:
        return all(_field_matches(request, path, pattern) for path, pattern in self.fields)

    def misses(self, request: JsonObject) -> tuple[FieldMiss, ...]:
        """The fields that do not match, each with the value found (for near misses)."""
        return tuple(
            FieldMiss(".".join(path), pattern.pattern, field_value(request, path))
            for path, pattern in self.fields
            if not _field_matches(request, path, pattern)
        )

    def to_dict(self) -> dict[str, str]:
        return {".".join(path): pattern.pattern for path, pattern in self.fields}

    def __eq__(self, other: object) -> bool:
        # Compiled RE2 objects compare by identity; two matches are equal by their sources.
        if not isinstance(other, RequestMatch):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))


@dataclass(frozen=True, slots=True)
class FieldMiss:
    """A field of a :class:`RequestMatch` that a request failed: its dotted ``path``, the
    ``pattern`` it had to match and the ``value`` it had (``None``: absent)."""

    path: str
    pattern: str
    value: object


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``requests`` calls per ``per`` seconds, bursts up to ``requests``."""

    requests: int
    per: float

    @property
    def tokens_per_micro(self) -> float:
        return self.requests / (self.per * 1_000_000)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One parsed rule; see the module docstring."""

    method: str = "*"
    match: RequestMatch = RequestMatch()
    code: str | None = None
    message: str | None = None
    times: int | None = None
    rate: float | None = None
    seed: int | None = None
    latency: float = 0.0
    jitter: float = 0.0
    drop: bool = False
    retry_after: int | None = None
    rate_limit: RateLimit | None = None

    def applies_to(self, method: str) -> bool:
        return self.method == "*" or self.method == method

    def to_dict(self) -> JsonObject:
        """The document form; ``parse_faults([r.to_dict()]) == (r,)``."""
        out: JsonObject = {"method": self.method}
        if self.match.fields:
            out["match"] = self.match.to_dict()
        for key in ("code", "message", "times", "rate", "seed", "retry_after"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.latency:
            out["latency"] = self.latency
        if self.jitter:
            out["jitter"] = self.jitter
        if self.drop:
            out["drop"] = True
        if self.rate_limit is not None:
            out["rate_limit"] = {"requests": self.rate_limit.requests, "per": self.rate_limit.per}
        return out


@dataclass(frozen=True, slots=True)
class Fault:
    """What a fired rule does to one call: wait ``delay`` seconds, then fail, drop or go on.

    ``code`` is set for ``error`` and ``rate_limit``; ``retry_after`` (whole seconds) is
    meant for the ``Retry-After`` header of a 429 or 503.
    """

    rule: int
    kind: FaultKind
    delay: float = 0.0
    code: str | None = None
    message: str = ""
    retry_after: int | None = None

    def to_json(self) -> JsonObject:
        """How the journal records it."""
        out: JsonObject = {"rule": self.rule, "kind": self.kind}
        if self.delay:
            out["delay"] = round(self.delay, 6)
        if self.retry_after is not None:
            out["retryAfter"] = self.retry_after
        return out


class FaultState:
    """One tenant's counters, random generators and buckets for one scenario's faults.

    Not thread-safe: the backend's lock guards it.
    """

    __slots__ = ("_buckets", "_fired", "_rngs", "rules", "seed")

    def __init__(self, rules: tuple[FaultRule, ...], seed: int | str | None = None) -> None:
        self.rules = rules
        self.seed = seed
        self._fired = [0] * len(rules)
        self._rngs: dict[int, random.Random] = {}
        self._buckets: dict[int, tuple[float, Micros]] = {}

    def decide(self, method: str, request: JsonObject, now_us: Micros) -> Fault | None:
        """The fault for this call, or ``None``; counts it against the firing rule."""
        for index, rule in enumerate(self.rules):
            if not rule.applies_to(method) or not rule.match.matches(request):
                continue
            if rule.times is not None and self._fired[index] >= rule.times:
                continue
            if rule.rate is not None and self._rng(index, rule).random() >= rule.rate:
                continue
            retry_after = rule.retry_after
            if rule.rate_limit is not None:
                wait = self._take_token(index, rule.rate_limit, now_us)
                if wait is None:
                    continue
                if retry_after is None:
                    retry_after = wait
            self._fired[index] += 1
            return self._fault(index, rule, retry_after)
        return None

    def _fault(self, index: int, rule: FaultRule, retry_after: int | None) -> Fault:
        delay = rule.latency
        if rule.jitter:
            delay = max(0.0, delay + self._rng(index, rule).uniform(-rule.jitter, rule.jitter))
        if rule.drop:
            return Fault(index, "drop", delay)
        if rule.rate_limit is not None:
            code = rule.code or "resource_exhausted"
            message = rule.message or (
                f"rate limit exceeded: {rule.rate_limit.requests} requests per "
                f"{_seconds(rule.rate_limit.per)}"
            )
            return Fault(index, "rate_limit", delay, code, message, retry_after)
        if rule.code is not None:
            message = rule.message or f"injected fault: {rule.code}"
            return Fault(index, "error", delay, rule.code, message, retry_after)
        return Fault(index, "delay", delay)

    def _rng(self, index: int, rule: FaultRule) -> random.Random:
        rng = self._rngs.get(index)
        if rng is None:
            seed = rule.seed if rule.seed is not None else f"{self.seed}/{index}"
            rng = self._rngs[index] = random.Random(seed)
        return rng

    def _take_token(self, index: int, limit: RateLimit, now_us: Micros) -> int | None:
        """``None`` if the bucket had a token (taken now), else whole seconds until one."""
        tokens, last_us = self._buckets.get(index, (float(limit.requests), now_us))
        rate = limit.tokens_per_micro
        tokens = min(float(limit.requests), tokens + max(0, now_us - last_us) * rate)
        if tokens >= 1.0:
            self._buckets[index] = (tokens - 1.0, now_us)
            return None
        self._buckets[index] = (tokens, now_us)
        return max(1, math.ceil((1.0 - tokens) / rate / 1_000_000))


# -- parsing ----------------------------------------------------------------------------


def parse_faults(raw: object) -> tuple[FaultRule, ...]:
    """The ``faults`` list of a scenario; :class:`FaultError` names what is wrong."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise FaultError(f"faults: expected a list, got {_kind(raw)}")
    if len(raw) > MAX_FAULTS:
        raise FaultError(f"faults: at most {MAX_FAULTS} rules, got {len(raw)}")
    return tuple(_parse_rule(item, f"faults[{index}]") for index, item in enumerate(raw))


def _parse_rule(raw: object, path: str) -> FaultRule:
    if not isinstance(raw, dict):
        raise FaultError(f"{path}: expected a mapping, got {_kind(raw)}")
    for key in raw:
        if key not in FAULT_KEYS:
            raise FaultError(
                f"{path}: unknown key {key!r} (expected one of: {', '.join(FAULT_KEYS)})"
            )
    method = raw.get("method", "*")
    if method != "*" and method not in METHOD_NAMES:
        raise FaultError(
            f'{path}.method: unknown method {method!r} (expected "*" or one of: '
            f"{', '.join(METHOD_NAMES)})"
        )
    code = raw.get("code")
    if code is not None and code not in CONNECT_CODES:
        raise FaultError(
            f"{path}.code: {code!r} is not a Connect error code (one of: "
            f"{', '.join(CONNECT_CODES)})"
        )
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise FaultError(f"{path}.message: expected a string, got {_kind(message)}")
    if message is not None and len(message) > MAX_MESSAGE_CHARS:
        raise FaultError(f"{path}.message: longer than {MAX_MESSAGE_CHARS} characters")
    drop = raw.get("drop", False)
    if not isinstance(drop, bool):
        raise FaultError(f"{path}.drop: expected true or false, got {_kind(drop)}")
    rate_limit = _rate_limit(raw.get("rate_limit"), f"{path}.rate_limit")
    if drop and (code is not None or rate_limit is not None):
        raise FaultError(f"{path}: a dropped connection has no code; drop excludes code")
    latency = _seconds_value(raw.get("latency", 0), f"{path}.latency")
    jitter = _seconds_value(raw.get("jitter", 0), f"{path}.jitter")
    if code is None and not drop and rate_limit is None and not (latency or jitter):
        raise FaultError(f"{path}: a fault needs a code, drop, rate_limit or latency")
    return FaultRule(
        method=method,
        match=parse_request_match(raw.get("match"), f"{path}.match"),
        code=code,
        message=message,
        times=_count(raw.get("times"), f"{path}.times"),
        rate=_probability(raw.get("rate"), f"{path}.rate"),
        seed=_seed(raw.get("seed"), f"{path}.seed"),
        latency=latency,
        jitter=jitter,
        drop=drop,
        retry_after=_count(raw.get("retry_after"), f"{path}.retry_after"),
        rate_limit=rate_limit,
    )


def parse_request_match(raw: object, path: str = "match") -> RequestMatch:
    """A ``match`` mapping (dotted field path to RE2 pattern); :class:`FaultError` names
    the offending key under ``path``. Shared by fault rules and journal queries."""
    if raw is None:
        return RequestMatch()
    if not isinstance(raw, dict):
        raise FaultError(f"{path}: expected a mapping of field paths to patterns")
    if len(raw) > MAX_MATCH_FIELDS:
        raise FaultError(f"{path}: at most {MAX_MATCH_FIELDS} fields")
    fields: list[tuple[tuple[str, ...], Pattern]] = []
    for key, value in raw.items():
        if not isinstance(key, str) or not key or "" in key.split("."):
            raise FaultError(f"{path}: {key!r} is not a dotted field path")
        if not isinstance(value, str):
            raise FaultError(f"{path}.{key}: expected a regular expression string")
        try:
            fields.append((tuple(key.split(".")), compile_pattern(value)))
        except ValueError as error:
            raise FaultError(f"{path}.{key}: invalid regular expression: {error}") from None
    return RequestMatch(tuple(fields))


def _rate_limit(raw: object, path: str) -> RateLimit | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FaultError(f"{path}: expected {{requests: N, per: SECONDS}}, got {_kind(raw)}")
    for key in raw:
        if key not in ("requests", "per"):
            raise FaultError(f"{path}: unknown key {key!r} (expected requests, per)")
    requests = _count(raw.get("requests"), f"{path}.requests")
    if requests is None or requests < 1:
        raise FaultError(f"{path}.requests: expected an integer >= 1")
    per = _seconds_value(raw.get("per", 1), f"{path}.per")
    if per <= 0:
        raise FaultError(f"{path}.per: expected a number of seconds > 0")
    return RateLimit(requests, per)


def _count(raw: object, path: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= INT64_MAX:
        raise FaultError(f"{path}: expected an integer between 0 and {INT64_MAX}, got {raw!r:.40}")
    return raw


def _seed(raw: object, path: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not INT64_MIN <= raw <= INT64_MAX:
        raise FaultError(
            f"{path}: expected a 64-bit integer ({INT64_MIN} to {INT64_MAX}), got {raw!r:.40}"
        )
    return raw


def _probability(raw: object, path: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise FaultError(f"{path}: expected a probability between 0 and 1, got {raw!r}")
    return float(raw)


def _seconds_value(raw: object, path: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise FaultError(f"{path}: expected a number of seconds, got {_kind(raw)}")
    # Compared, not passed to math.isfinite: an integer of 400 digits has no float (NaN and
    # infinity fail the comparison too).
    if not 0 <= raw <= _MAX_SECONDS:
        raise FaultError(f"{path}: expected a number of seconds between 0 and {_MAX_SECONDS:g}")
    return raw


def field_value(request: JsonObject, path: tuple[str, ...]) -> object:
    """The value at a dotted path of a proto3-JSON message (``None``: absent)."""
    value: object = request
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _field_matches(request: JsonObject, path: tuple[str, ...], pattern: Pattern) -> bool:
    value = field_value(request, path)
    if isinstance(value, list):
        return any(pattern.search(_text(item)) is not None for item in value)
    return pattern.search(_text(value)) is not None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _seconds(value: float) -> str:
    return f"{value:g} second" + ("" if value == 1 else "s")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
