"""Request validation against the generated document, compiled once at start-up.

One jsonschema-rs validator per RPC, built from the request schema the document's path
names. A valid request costs one ``is_valid`` call; only an invalid one pays for
collecting and describing its errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonschema_rs

from mockserver.domain import JsonObject
from mockserver.http.connect import ConnectError
from openapi.errors import Code
from openapi.fields import UUID_PATTERN

__all__ = ["MAX_REPORTED_ERRORS", "RequestValidator", "describe_errors", "field_path"]

MAX_REPORTED_ERRORS = 5
MAX_RULE_CHARS = 300


class RequestValidator:
    """Validates the (normalized) requests of one RPC against its document schema."""

    def __init__(self, schema_ref: str, components: Mapping[str, Any]) -> None:
        self.schema_ref = schema_ref
        self._root = {"$ref": schema_ref, "components": dict(components)}
        self._validator = jsonschema_rs.validator_for(self._root, validate_formats=True)

    @classmethod
    def for_operation(cls, document: Mapping[str, Any], path: str) -> RequestValidator:
        """The validator of the ``POST`` operation at ``path`` in ``document``."""
        operation = document["paths"][path]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        return cls(schema["$ref"], document["components"])

    def check(self, message: JsonObject) -> None:
        """``ConnectError(invalid_argument)`` naming each failing field and its rule."""
        try:
            valid = self._validator.is_valid(message)
        except ValueError as error:
            # jsonschema-rs refuses values it cannot walk (its recursion limit); the JSON
            # codec's depth limit keeps such bodies out, this keeps any other one a 400.
            raise ConnectError(Code.invalid_argument, f"request is invalid: {error}") from None
        if not valid:
            raise ConnectError(
                Code.invalid_argument,
                describe_errors(self._validator.iter_errors(message), self._root),
            )


def field_path(parts: Sequence[str | int]) -> str:
    """``["metadata", "triggeredBy", 0]`` -> ``metadata.triggeredBy[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _schema_value(root: Mapping[str, Any] | None, schema_path: Sequence[str | int]) -> Any:
    """The keyword's value at ``schema_path`` (from the validator's root schema), or None."""
    node: Any = root
    for part in schema_path:
        if not (isinstance(node, Mapping) and part in node):
            return None
        node = node[part]
    return node


def _describe(error: Any, root: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(field path, rule) of one jsonschema-rs error, in words a client can act on."""
    path = field_path(list(error.instance_path))
    kind = error.kind
    schema_path = list(error.schema_path)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Contains) and schema_path[-1:] == [
        "maxContains"
    ]:
        # The generator limits an enum list with maxContains: unknown names are dropped by
        # the codec before the count, so only names and numbers count.
        limit = _schema_value(root, schema_path)
        limit_text = f"{limit}" if isinstance(limit, int) else "the limit of"
        return path, f"more than {limit_text} items (enum names the codec drops do not count)"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        name = str(kind.property).strip('"')
        return field_path([*error.instance_path, name]), "is required"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Not):
        # The generator expresses a oneof as "not both of these two members set".
        members = kind.schema.get("required") if isinstance(kind.schema, dict) else None
        if isinstance(members, list) and members:
            names = ", ".join(str(member) for member in members)
            return path, f"at most one of {names} may be set"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern) and kind.pattern == UUID_PATTERN:
        return path, f"{_quoted(error.instance)} is not a UUID"
    return path, error.message


def _quoted(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def describe_errors(errors: Iterable[Any], root: Mapping[str, Any] | None = None) -> str:
    """One message for all errors: ``path: rule`` items, one per field, joined by ``; ``.

    ``root`` is the schema the errors come from, for rules whose limit the error lacks.
    """
    seen: set[str] = set()
    items: list[str] = []
    for error in errors:
        path, rule = _describe(error, root)
        if path in seen:
            # A UUID fails both its pattern and its format; one complaint per field is enough.
            continue
        seen.add(path)
        if len(rule) > MAX_RULE_CHARS:  # the rule quotes the value, which may be huge
            rule = rule[:MAX_RULE_CHARS] + "..."
        items.append(f"{path}: {rule}" if path else rule)
        if len(items) == MAX_REPORTED_ERRORS:
            break
    return "; ".join(items) or "request is invalid"
