"""Valid requests that reach the server's logic, and the forms proto3 JSON parsers accept.

Generated positive bodies alone rarely get past the server's first lookup: a reference
reused from an example is ``already_exists``, a random task id (as the subject or in
``dependsOn``) names nothing, and the values that do succeed are the schema's shortest.
:class:`Shaper` rewrites a valid body into another valid body that can succeed: a
reference unique to the case, dependencies and subjects among the tasks and executions
this run created, and, for some cases, values from the whole valid range (long,
non-ASCII, whitespace, many env items). It then spells some fields in the other forms
the proto3 JSON mapping requires parsers to accept: the proto field name
(``environment_id``), an enum number, an integer as a string, ``null`` for an absent
field. Every choice comes from a generator seeded by the run's seed and a count (each
free-text field cycles through every kind of wide value), so ``--seed`` repeats a run's
choices, whatever ids the server hands out.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from contracts.document import Document, proto_name
from contracts.exchange import Exchange

__all__ = ["UNKNOWN_FIELD", "Shaper", "wide_text", "with_unknown_field"]

UNKNOWN_FIELD = "contractsUnknownField"
"""A field no version of the API has, nested so that a server must skip a whole value."""

_REFERENCE = re.compile(r"[a-zA-Z0-9_-]{1,128}")
# Characters that stretch a server's string handling: accents, CJK, an emoji (four UTF-8
# bytes, two UTF-16 units), a right-to-left letter, a combining mark; no lone surrogates
# (not encodable) and no NUL (refused by some databases, not by the API: left to fuzzing).
_WIDE = "aZ9 _-.éßøĀЖ中文日本語🚀🧪עبñ\u0301\t"
# Ids of subjects that reach the logic: read from the run's own creations.
_SUBJECT_OPERATIONS = {
    "GetTask": "task",
    "UpdateTask": "task",
    "StartTask": "task",
    "DeleteTask": "task",
    "GetTaskExecution": "execution",
    "StopTaskExecution": "execution",
}


WIDE_KINDS = 7
"""How many kinds of value :func:`wide_text` writes; a field cycles through all of them."""
_ENV_SIZES = (1, 4, 12, 25)  # 25: the most items a filter list takes; env has no limit


def wide_text(kind: int, rng: random.Random) -> str:
    """A string from the whole valid range of a free-text field, of one of
    :data:`WIDE_KINDS` kinds: long (past the 64 or 255 a careless column might hold),
    non-ASCII only, whitespace around and inside, or a short mix."""
    kind %= WIDE_KINDS
    if kind < 4:
        return "".join(rng.choice(_WIDE) for _ in range((65, 129, 256, 1000)[kind]))
    if kind == 4:
        return "".join(rng.choice("éЖ中🚀ب") for _ in range(rng.randint(1, 12)))
    if kind == 5:
        return "  " + rng.choice(("a b", "x y z")) + "\tmulti\nline  "
    return "".join(rng.choice(_WIDE) for _ in range(rng.randint(1, 40)))


def with_unknown_field(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` and one more field, unknown to the API."""
    return {**body, UNKNOWN_FIELD: {"addedIn": "v2", "items": [1, "two", None, True]}}


@dataclass
class Shaper:
    """Rewrites the positive bodies of one run; observes what the run created."""

    document: Document
    seed: int
    run_id: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _count: int = 0
    tasks: dict[str, list[str]] = field(default_factory=dict)  # environment -> task ids
    executions: list[str] = field(default_factory=list)
    outcomes: dict[str, list[int]] = field(default_factory=dict)  # operation -> [2xx, all]
    draws: dict[str, int] = field(default_factory=dict)

    def _rng(self, purpose: str) -> random.Random:
        """A generator seeded by the run's seed and how often ``purpose`` asked before:
        the same cases get the same choices in a repeated run (one worker), whatever ids
        or references the server and the run id made."""
        with self._lock:
            count = self.draws[purpose] = self.draws.get(purpose, 0) + 1
        return random.Random(f"{self.seed}:{purpose}:{count}")

    def draw(self, operation: str) -> float:
        """A number in [0, 1) for a choice about one case of ``operation``."""
        return self._rng(f"draw:{operation}").random()

    def _wide(self, field: str, rng: random.Random) -> str:
        """The next kind of wide value for ``field``: each field cycles through them all."""
        with self._lock:
            turn = self.draws[f"wide:{field}"] = self.draws.get(f"wide:{field}", -1) + 1
        return wide_text(turn, rng)

    def _next(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    # -- what the run created ---------------------------------------------------------------

    def observe(self, exchange: Exchange) -> None:
        """Record the task or execution a successful answer created; count 2xx per method."""
        with self._lock:
            counts = self.outcomes.setdefault(exchange.operation, [0, 0])
            counts[1] += 1
            if 200 <= exchange.status < 300:
                counts[0] += 1
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            return
        task = exchange.body.get("task")
        if exchange.operation == "CreateTask" and isinstance(task, dict):
            with self._lock:
                env = str(task.get("environmentId", ""))
                self.tasks.setdefault(env, []).append(str(task.get("id")))
        request = exchange.request_json
        if exchange.operation == "DeleteTask" and isinstance(request, dict):
            with self._lock:  # a deleted task is no subject or dependency to succeed with
                for ids in self.tasks.values():
                    if request.get("id") in ids:
                        ids.remove(request["id"])
        execution = exchange.body.get("taskExecution")
        if exchange.operation == "StartTask" and isinstance(execution, dict):
            with self._lock:
                self.executions.append(str(execution.get("id")))

    # -- shaping ----------------------------------------------------------------------------

    def shape(self, operation: str, body: object) -> object:
        """A valid body like ``body`` that can succeed, in forms a parser must accept."""
        if not isinstance(body, dict):
            return body
        rng = self._rng(f"shape:{operation}")
        body = dict(body)
        if operation == "CreateTask":
            body = self._create(body, rng)
        elif operation == "UpdateTask":
            body = self._update(body, rng)
        fields = self.document.request_properties(operation)
        for absent in ("pagination", "filter", "spec"):
            if absent in fields and absent not in body and rng.random() < 0.2:
                body[absent] = None  # proto3 JSON: null means absent
        subject = _SUBJECT_OPERATIONS.get(operation)
        if subject is not None and rng.random() < 0.6:
            with self._lock:
                pool = (
                    [key for ids in self.tasks.values() for key in ids]
                    if subject == "task"
                    else list(self.executions)
                )
            if pool:
                body["id"] = rng.choice(pool)
        return self.respell(body, rng)

    def _create(self, body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            metadata = dict(metadata)
            reference = metadata.get("reference")
            if isinstance(reference, str) and _REFERENCE.fullmatch(reference):
                # Unique per case, not only per run: a repeated reference is already_exists.
                suffix = f"-{self.run_id}-{self._next()}"
                metadata["reference"] = reference[: max(0, 128 - len(suffix))] + suffix
            if "name" in metadata and rng.random() < 0.5:
                metadata["name"] = self._wide("name", rng)
            if rng.random() < 0.5:
                metadata["description"] = self._wide("description", rng)
            body["metadata"] = metadata
        spec = body.get("spec")
        if isinstance(spec, dict) and rng.random() < 0.6:
            body["spec"] = self._spec(spec, rng)
        env = body.get("environmentId")
        if isinstance(env, str) and "dependsOn" in body:
            with self._lock:
                known = list(self.tasks.get(env, ()))
            body["dependsOn"] = rng.sample(known, min(len(known), rng.randint(0, 3)))
        return body

    def _update(self, body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and rng.random() < 0.5:
            metadata = dict(metadata)
            if isinstance(metadata.get("name"), str):
                metadata["name"] = self._wide("name", rng)
            if isinstance(metadata.get("description"), str):
                metadata["description"] = self._wide("description", rng)
            body["metadata"] = metadata
        spec = body.get("spec")
        if isinstance(spec, dict) and rng.random() < 0.5:
            body["spec"] = self._spec(spec, rng)
        if body.get("dependsOn"):
            body["dependsOn"] = []  # a random id names nothing; a created one may cycle
        return body

    def _spec(self, spec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        spec = dict(spec)
        spec["command"] = self._wide("command", rng)
        if rng.random() < 0.7:
            with self._lock:
                turn = self.draws["env"] = self.draws.get("env", -1) + 1
            spec["env"] = [
                {
                    "name": f"VAR_{index}_{self._wide('env.name', rng)[:20]}",
                    "value": self._wide("env.value", rng),
                }
                for index in range(_ENV_SIZES[turn % len(_ENV_SIZES)])
            ]
        return spec

    # -- proto3 JSON spellings --------------------------------------------------------------

    def respell(self, body: object, rng: random.Random) -> object:
        """``body`` with some fields in the other forms the mapping requires parsers to
        accept: the proto name, an enum number, an integer as a string, ``null``."""
        if rng.random() < 0.5:
            return body
        return self._respell(body, rng)

    def _respell(self, node: object, rng: random.Random) -> object:
        if isinstance(node, list):
            return [self._respell(item, rng) for item in node]
        if not isinstance(node, dict):
            return node
        document = self.document
        out: dict[str, Any] = {}
        for key, value in node.items():
            name = key
            if key in document.property_names and rng.random() < 0.3:
                snake = proto_name(key)
                name = snake if snake not in node else key
            numbers = document.enum_numbers.get(key)
            if numbers is not None and rng.random() < 0.5:
                if isinstance(value, list):
                    value = [numbers.get(item, item) if isinstance(item, str) else item
                             for item in value]  # fmt: skip
                elif isinstance(value, str):
                    value = numbers.get(value, value)
            elif key in document.integer_properties and type(value) is int:
                value = str(value) if rng.random() < 0.5 else value
            else:
                value = self._respell(value, rng)
            out[name] = value
        return out
