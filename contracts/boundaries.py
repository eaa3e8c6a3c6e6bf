"""Requests at each constraint's limit and one step past it, from the document alone.

For every length, size, range and pattern limit of a request schema (at any depth), a
valid example body is changed in one place: once to a value exactly at the limit, once
to the value one step past it (one character longer, one item more, one above the
maximum, empty where non-empty is required, a character the pattern excludes, a UUID
one character short). A pair is kept only when the document's own validator, as lenient
as a Connect server's parser, says the first body is valid and the second is not; so
the positive suite sends the first and the negative suite the second, and a server that
takes a value one past a limit is caught.
"""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contracts.document import Document

__all__ = ["Boundary", "boundary_cases"]

_RANGE = re.compile(r"^\^\[([^\]]+)\]\{(\d+),(\d+)\}\$$")
_UUID_HINT = "[0-9a-fA-F]{8}"
_NOT_IN_PATTERN = (" ", "!", ".", "/", "~")
_MAX_DEPTH = 8

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Boundary:
    """One limit of one field: a valid body at the limit, an invalid one just past it."""

    operation: str
    field: str  # e.g. "metadata.reference"
    rule: str  # e.g. "pattern {1,128}: 129 characters"
    at_limit: dict[str, Any]
    past_limit: dict[str, Any]


def boundary_cases(document: Document, operation: str) -> list[Boundary]:
    """Every limit of ``operation``'s request the examples let us reach, as valid/invalid pairs."""
    schema = document.request_schema(operation)
    components = document.raw.get("components", {}).get("schemas", {})
    found: dict[tuple[str, str], Boundary] = {}
    bases = [b for b in document.examples(operation) if isinstance(b, dict)] or [{}]
    for path, node in _nodes(schema, components, (), 0):
        for rule, good, bad in _pairs(node, components):
            key = (_dotted(path), rule)
            if key in found:
                continue
            for base in bases:
                at_limit, past_limit = _put(base, path, good), _put(base, path, bad)
                if document.accepts_on_the_wire(
                    operation, at_limit
                ) and not document.accepts_on_the_wire(operation, past_limit):
                    found[key] = Boundary(operation, key[0], rule, at_limit, past_limit)
                    break
    return list(found.values())


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _resolve(node: Any, components: dict[str, Any]) -> dict[str, Any]:
    """``node`` with ``$ref`` followed and ``allOf`` branches merged (enough for this walk)."""
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        target = components.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return _resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}}, components)
    if "allOf" in node:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for branch in node["allOf"]:
            for key, value in _resolve(branch, components).items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                else:
                    merged.setdefault(key, value)
        return merged
    return node


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return {str(kind)} if kind else set()


def _nodes(
    node: Any, components: dict[str, Any], path: Path, depth: int
) -> Iterator[tuple[Path, dict[str, Any]]]:
    resolved = _resolve(node, components)
    if not resolved or depth > _MAX_DEPTH:
        return
    yield path, resolved
    for branch in resolved.get("anyOf", []):
        # An int32 field is "the number, or the number written as a string": its limits
        # sit on the number's branch.
        if isinstance(branch, dict) and branch.get("format") == "int32":
            yield path, branch
    for name, child in (resolved.get("properties") or {}).items():
        yield from _nodes(child, components, (*path, str(name)), depth + 1)
    if "array" in _types(resolved) and isinstance(resolved.get("items"), dict):
        yield from _nodes(resolved["items"], components, (*path, 0), depth + 1)


def _uuid() -> str:
    return str(uuid.uuid4())


def _pairs(node: dict[str, Any], components: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(rule, a value at the limit, the value one step past it) for each limit of ``node``."""
    pairs: list[tuple[str, Any, Any]] = []
    types = _types(node)
    pattern = node.get("pattern")
    if "string" in types:
        if node.get("format") == "uuid" or (isinstance(pattern, str) and _UUID_HINT in pattern):
            valid = _uuid()
            pairs += [
                (
                    "uuid: upper case is still a UUID, one digit short is not",
                    valid.upper(),
                    valid[:-1],
                ),
                ("uuid: a non-hex digit", valid, valid[:-1] + "g"),
                ("uuid: the empty string is not one", valid, ""),
            ]
        elif isinstance(pattern, str) and (match := _RANGE.match(pattern)):
            chars, low, high = match.group(1), int(match.group(2)), int(match.group(3))
            char = "a" if "a-z" in chars else chars[0]
            if low > 0:
                pairs.append(
                    (
                        f"pattern {{{low},{high}}}: {low - 1} characters",
                        char * low,
                        char * (low - 1),
                    )
                )
            pairs.append(
                (f"pattern {{{low},{high}}}: {high + 1} characters", char * high, char * (high + 1))
            )
            regex = re.compile(pattern)
            for other in _NOT_IN_PATTERN:
                if not regex.match(char * max(low, 1) + other):
                    bad = char * max(low, 1) + other
                    pairs.append(
                        (f"pattern {pattern}: the character {other!r}", char * max(low, 1), bad)
                    )
                    break
        if isinstance(node.get("minLength"), int) and node["minLength"] > 0:
            n = node["minLength"]
            pairs.append((f"minLength {n}", "x" * n, "x" * (n - 1)))
        if isinstance(node.get("maxLength"), int):
            m = node["maxLength"]
            pairs.append((f"maxLength {m}", "x" * m, "x" * (m + 1)))
    if "integer" in types:
        if isinstance(node.get("maximum"), int):
            top = node["maximum"]
            pairs.append((f"maximum {top}", top, top + 1))
        if isinstance(node.get("minimum"), int):
            bottom = node["minimum"]
            pairs.append((f"minimum {bottom}", bottom, bottom - 1))
    if "array" in types and isinstance(node.get("items"), dict):
        items = _resolve(node["items"], components)
        # maxContains: a limit on the items that match ``contains`` (an enum list whose
        # unknown names the wire drops); items valid for ``contains`` probe it.
        for rule, counted in (("maxItems", items), ("maxContains", node.get("contains"))):
            if isinstance(node.get(rule), int) and isinstance(counted, dict):
                k = node[rule]
                ok = [_valid_item(counted, components, i) for i in range(k)]
                over = [*ok, _valid_item(counted, components, k)]
                if all(item is not None for item in over):
                    pairs.append((f"{rule} {k}", ok, over))
        if isinstance(node.get("minItems"), int) and node["minItems"] > 0:
            k = node["minItems"]
            enough = [_valid_item(items, components, i) for i in range(k)]
            if all(item is not None for item in enough):
                pairs.append((f"minItems {k}", enough, enough[:-1]))
    return pairs


def _valid_item(node: dict[str, Any], components: dict[str, Any], index: int) -> Any:
    """A valid list item, distinct per ``index`` where it can be (None when unknown)."""
    types = _types(node)
    pattern = node.get("pattern")
    if "string" in types:
        if node.get("format") == "uuid" or (isinstance(pattern, str) and _UUID_HINT in pattern):
            return _uuid()
        if isinstance(pattern, str) and (match := _RANGE.match(pattern)):
            return f"r{index}"[: int(match.group(3))] if int(match.group(3)) > 1 else "a"
        return f"item{index}"
    for branch in node.get("anyOf", []):
        target = _resolve(branch, components)
        if isinstance(target.get("enum"), list) and target["enum"]:
            names = [str(v) for v in target["enum"]]
            return names[index % len(names)]
    return None


def _put(base: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``value`` at ``path`` (missing objects and lists created)."""
    body = copy.deepcopy(base)
    if not path:
        return value if isinstance(value, dict) else body
    node: Any = body
    for here, after in itertools.pairwise(path):
        fresh: Any = [] if isinstance(after, int) else {}
        if isinstance(here, int):
            if not node:
                node.append(fresh)
            if not isinstance(node[0], type(fresh)):
                node[0] = fresh
            node = node[0]
        else:
            if not isinstance(node.get(here), type(fresh)):
                node[here] = fresh
            node = node[here]
    last = path[-1]
    if isinstance(last, int):
        if node:
            node[0] = value
        else:
            node.append(value)
    else:
        node[last] = value
    return body
