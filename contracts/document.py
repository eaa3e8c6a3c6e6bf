"""The OpenAPI document the suite checks against, and what the checks read from it."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import schemathesis
import yaml
from schemathesis import GenerationMode

import openapi

__all__ = ["Document", "load_document", "proto_name"]

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
# Go's protojson reads an integer from a string holding any JSON number of integral value
# ("1e2", "2.50e1"); no pattern says "integral", so every JSON-number-shaped string counts
# as possibly valid and a negative case built on one is not judged. "02", "+2" and " 2"
# are refused by protojson, and stay negative.
_INTEGER_STRING = {
    "type": "string",
    "pattern": r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$",
}


def proto_name(json_name: str) -> str:
    """The proto field name of a JSON name (``environmentId`` -> ``environment_id``), which
    proto3 JSON parsers accept too."""
    return _SNAKE.sub("_", json_name).lower()


def _walk(node: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _relax(node: object) -> object:
    """A copy of a request schema that also admits what proto3 JSON parsers accept.

    The document describes the canonical JSON. A Connect server's parser is more lenient:
    a 32-bit integer may be written as a string holding a JSON number (out of the range
    the document's pattern names too), and an enum number that the
    schema does not name is kept as an unknown (open) enum value. A negative case that only
    differs in such ways is not invalid on the wire, so the negative suite skips it.
    """
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    relaxed = {key: _relax(value) for key, value in node.items()}
    types = relaxed.get("type")
    is_integer = types == "integer" or (isinstance(types, list) and "integer" in types)
    if is_integer:
        relaxed.pop("enum", None)
        return {"anyOf": [relaxed, _INTEGER_STRING]}
    return relaxed


@dataclass
class Document:
    """The parsed document plus validators derived from it."""

    raw: dict[str, Any]
    _validators: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.operations: dict[str, dict[str, Any]] = {}
        for path, item in self.raw.get("paths", {}).items():
            post = item.get("post")
            if isinstance(post, dict) and "operationId" in post:
                self.operations[post["operationId"]] = {"path": path, **post}
        properties = {
            name for node in _walk(self.raw.get("components", {})) for name in _props(node)
        }
        self.property_names = frozenset(properties)
        self.snake_aliases = frozenset(
            proto_name(name) for name in properties if proto_name(name) != name
        )
        self._relaxed_components = _relax(self.raw.get("components", {}))
        self.open_enums = _open_enums(self.raw)
        self.enum_numbers = _enum_numbers(self.raw)
        self.integer_properties = _integer_properties(self.raw)

    @property
    def read_only_operations(self) -> frozenset[str]:
        """The operations marked ``x-connect-idempotency: NO_SIDE_EFFECTS``."""
        return frozenset(
            name
            for name, operation in self.operations.items()
            if operation.get("x-connect-idempotency") == "NO_SIDE_EFFECTS"
        )

    # -- what an operation documents ---------------------------------------------------------

    def statuses(self, operation: str) -> set[int]:
        responses = self.operations[operation].get("responses", {})
        return {int(code) for code in responses if str(code).isdigit()}

    def error_codes(self, operation: str, status: int) -> set[str] | None:
        """The Connect codes the document lists for ``status``, or None when it lists none."""
        response = self.operations[operation].get("responses", {}).get(str(status), {})
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        for node in _walk(schema):
            code = node.get("properties", {}).get("code") if "properties" in node else None
            if isinstance(code, dict) and isinstance(code.get("enum"), list):
                return {str(item) for item in code["enum"]}
        return None

    def response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        response = self.operations[operation].get("responses", {}).get(str(status))
        if not isinstance(response, dict):
            return None
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        return schema if isinstance(schema, dict) else None

    def examples(self, operation: str) -> list[object]:
        """The request bodies the document gives as examples of ``operation``."""
        body = self.operations[operation].get("requestBody", {})
        media = body.get("content", {}).get("application/json", {})
        found = [item.get("value") for item in media.get("examples", {}).values()]
        if "example" in media:
            found.append(media["example"])
        return [copy.deepcopy(item) for item in found if item is not None]

    def request_properties(self, operation: str) -> frozenset[str]:
        """The top-level field names of ``operation``'s request message."""
        ref = str(self.request_schema(operation).get("$ref", ""))
        target = self.raw.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1])
        return frozenset(_props(target)) if isinstance(target, dict) else frozenset()

    def request_schema(self, operation: str) -> dict[str, Any]:
        body = self.operations[operation].get("requestBody", {})
        schema: dict[str, Any] = body.get("content", {}).get("application/json", {}).get("schema")
        return schema

    # -- validation -----------------------------------------------------------------------------

    def _validator(self, kind: str, operation: str, status: int = 0) -> Any:
        key = (kind, f"{operation}:{status}")
        validator = self._validators.get(key)
        if validator is None:
            if kind == "response":
                schema = self.response_schema(operation, status) or {}
                root = {**schema, "components": self.raw.get("components", {})}
            else:
                schema = self.request_schema(operation)
                root = {**_relax(schema), "components": self._relaxed_components}  # type: ignore[dict-item]
            validator = jsonschema_rs.validator_for(root, validate_formats=True)
            self._validators[key] = validator
        return validator

    def response_errors(self, operation: str, status: int, body: object) -> list[str]:
        """Why ``body`` does not match the documented response schema for ``status``."""
        if self.response_schema(operation, status) is None:
            return []
        validator = self._validator("response", operation, status)
        return [
            f"{error.message} at /{'/'.join(str(part) for part in error.instance_path)}"
            for error in validator.iter_errors(body)
        ]

    def accepts_on_the_wire(self, operation: str, body: object) -> bool:
        """Whether a lenient proto3 JSON parser would take ``body`` as a valid request."""
        body = _drop_unknown_enum_names(body, self.open_enums)
        return bool(self._validator("request", operation).is_valid(body))

    def strip_aliases(self, body: object) -> object:
        """Drop unknown keys that a proto3 JSON parser would read as a known field.

        Generated bodies may carry arbitrary extra properties, which a Connect server
        ignores; but ``environment_id`` is not unknown to it: parsers also take the original
        snake_case field names, so such a key would be parsed, not ignored.
        """
        if isinstance(body, list):
            return [self.strip_aliases(item) for item in body]
        if isinstance(body, dict):
            return {
                key: self.strip_aliases(value)
                for key, value in body.items()
                if not (key in self.snake_aliases and key not in self.property_names)
            }
        return body

    # -- schemathesis -----------------------------------------------------------------------------

    def schemathesis_schema(self, mode: GenerationMode = GenerationMode.POSITIVE) -> Any:
        """A fresh schemathesis schema of the document, generating in ``mode`` only."""
        raw = copy.deepcopy(self.raw)
        for item in raw.get("paths", {}).values():
            # The suites speak Connect unary POST; the documented Connect GET is left out.
            if isinstance(item, dict):
                item.pop("get", None)
        schema = schemathesis.openapi.from_dict(raw, config=schemathesis.Config())
        schema.config.generation.update(modes=[mode])
        return schema


def _open_enums(raw: dict[str, Any]) -> dict[str, tuple[frozenset[str], bool]]:
    """Request properties (or their items: True) typed ``anyOf: [<enum>, string, integer]``."""
    schemas = raw.get("components", {}).get("schemas", {})
    found: dict[str, tuple[frozenset[str], bool]] = {}
    for node in _walk(raw.get("components", {})):
        for name, prop in _props_items(node):
            for candidate, repeated in ((prop, False), (prop.get("items"), True)):
                if not isinstance(candidate, dict):
                    continue
                for branch in candidate.get("anyOf", []):
                    ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
                    target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else {}
                    if isinstance(target.get("enum"), list):
                        found[name] = (frozenset(str(v) for v in target["enum"]), repeated)
    return found


def _enum_numbers(raw: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Request enum properties: each name's number, for the numeric form of the mapping.

    The integer branch lists the numbers of an enum whose rule admits only defined values;
    otherwise the names are numbered in their order, as the generator writes them (every
    enum of this API numbers its values 0, 1, 2, ...).
    """
    schemas = raw.get("components", {}).get("schemas", {})
    found: dict[str, dict[str, int]] = {}
    for node in _walk(raw.get("components", {})):
        for name, prop in _props_items(node):
            for candidate in (prop, prop.get("items")):
                branches = candidate.get("anyOf", []) if isinstance(candidate, dict) else []
                names: list[str] = []
                numbers: list[int] = []
                for branch in branches:
                    if not isinstance(branch, dict):
                        continue
                    target = schemas.get(str(branch.get("$ref", "")).rsplit("/", 1)[-1], {})
                    if isinstance(target.get("enum"), list):
                        names = [str(item) for item in target["enum"]]
                    if branch.get("type") == "integer" and isinstance(branch.get("enum"), list):
                        numbers = [int(item) for item in branch["enum"]]
                if names:
                    found[name] = dict(zip(names, numbers or range(len(names)), strict=False))
    return found


def _integer_properties(raw: dict[str, Any]) -> frozenset[str]:
    """Request properties holding an int32 (which a parser also reads from a string)."""
    found = set()
    for node in _walk(raw.get("components", {})):
        for name, prop in _props_items(node):
            branches = prop.get("anyOf", [])
            if any(isinstance(b, dict) and b.get("format") == "int32" for b in branches) and any(
                isinstance(b, dict) and b.get("type") == "string" for b in branches
            ):
                found.add(name)
    return frozenset(found)


def _props_items(node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return []
    return [(str(k), v) for k, v in properties.items() if isinstance(v, dict)]


def _drop_unknown_enum_names(body: object, enums: dict[str, tuple[frozenset[str], bool]]) -> object:
    """What a Connect JSON codec keeps: unknown enum names are dropped, from lists too."""
    if isinstance(body, list):
        return [_drop_unknown_enum_names(item, enums) for item in body]
    if not isinstance(body, dict):
        return body
    kept: dict[str, object] = {}
    for key, value in body.items():
        names, repeated = enums.get(key, (None, False))
        if names is not None and not repeated and isinstance(value, str) and value not in names:
            continue
        if names is not None and repeated and isinstance(value, list):
            value = [v for v in value if not (isinstance(v, str) and v not in names)]
        kept[key] = _drop_unknown_enum_names(value, enums)
    return kept


def _props(node: dict[str, Any]) -> list[str]:
    properties = node.get("properties")
    if isinstance(properties, dict) and node.get("type") != "string":
        return [str(name) for name in properties]
    return []


def load_document(source: str | None = None) -> Document:
    """The document at ``source`` (a path or an http(s) URL), else the committed one."""
    if source is None:
        text = openapi.document_text()
    elif source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=30.0, follow_redirects=True)
        response.raise_for_status()
        text = response.text
    else:
        text = Path(source).read_text(encoding="utf-8")
    # libyaml's loader when present: the pure-Python one took 2.8 s of a proxy's start.
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(raw, dict):
        raise ValueError(f"{source or 'the committed document'} is not an OpenAPI document")
    return Document(raw)
