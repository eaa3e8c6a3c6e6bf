"""Defective variants of the fake that break only on values from the far end of the valid
range: what positive cases reach only when they carry such values (contracts.realistic).

Each crashes (HTTP 500) on a valid CreateTask or UpdateTask that a careless implementation
mishandles: a name longer than 64 characters (a fixed-size column), a non-ASCII name (a
Latin-1 encoder), more than 3 env items (a fixed array).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.contracts.mutants import Exchange, Mutant

__all__ = ["BOTH_NAMES_MUTANT", "UNKNOWN_FIELD_MUTANT", "VALUE_MUTANTS"]

_WRITES = ("CreateTask", "UpdateTask")


def _crash_when(broken: Callable[[dict[str, Any]], bool]) -> Callable[[Exchange], None]:
    def before(exchange: Exchange) -> None:
        body = exchange.request
        if exchange.operation in _WRITES and isinstance(body, dict) and broken(body):
            exchange.status, exchange.short_circuit = 500, True
            exchange.response = {"code": "internal", "message": "value out of bounds"}

    return before


def _name(body: dict[str, Any]) -> str:
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _env_items(body: dict[str, Any]) -> int:
    spec = body.get("spec")
    env = spec.get("env") if isinstance(spec, dict) else None
    return len(env) if isinstance(env, list) else 0


def _mutant(name: str, broken: Callable[[dict[str, Any]], bool]) -> Mutant:
    mutant = Mutant(name, "positive", "not_a_server_error")
    mutant.before = _crash_when(broken)
    return mutant


def _text(body: dict[str, Any], part: str, name: str) -> str:
    section = body.get(part)
    value = section.get(name) if isinstance(section, dict) else None
    return value if isinstance(value, str) else ""


VALUE_MUTANTS = (
    _mutant("long_name_crashes", lambda body: len(_name(body)) > 64),
    _mutant("non_ascii_name_crashes", lambda body: not _name(body).isascii()),
    _mutant("many_env_items_crash", lambda body: _env_items(body) > 3),
    _mutant("twelve_env_items_crash", lambda body: _env_items(body) >= 12),
    _mutant(
        "long_description_crashes", lambda body: len(_text(body, "metadata", "description")) > 255
    ),
    _mutant("multiline_command_crashes", lambda body: "\n" in _text(body, "spec", "command")),
    _mutant("padded_name_crashes", lambda body: _name(body) != _name(body).strip()),
)


def _unknown_field_not_found(exchange: Exchange) -> None:
    # Trips over any field it does not know, with a code a valid request may well get.
    body = exchange.request
    if exchange.operation == "GetTask" and isinstance(body, dict) and set(body) - {"id"}:
        exchange.status, exchange.short_circuit = 404, True
        exchange.response = {"code": "not_found", "message": "no such task"}


def _both_names_accepted(exchange: Exchange) -> None:
    # Reads the proto name and the JSON name of a field as one, instead of refusing both.
    body = exchange.request
    if isinstance(body, dict) and "environmentId" in body and "environment_id" in body:
        exchange.request = {key: value for key, value in body.items() if key != "environment_id"}


UNKNOWN_FIELD_MUTANT = Mutant("unknown_field_not_found", "positive", "unknown_fields_ignored")
UNKNOWN_FIELD_MUTANT.before = _unknown_field_not_found
BOTH_NAMES_MUTANT = Mutant("both_names_accepted", "negative", "invalid_request_rejected")
BOTH_NAMES_MUTANT.before = _both_names_accepted
