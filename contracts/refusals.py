"""Requests the proto3 JSON mapping refuses, built from valid ones (the negative suite's).

Go's protojson (a connect-go server's parser) and Python's ``json_format`` both refuse:

* the same field under both its names (``environmentId`` and ``environment_id``);
* a string or a list where a message belongs;
* ``true`` or ``1.5`` where an enum belongs (Python's parser reads both as numbers, Go's
  refuses them; a Connect server runs Go's, see docs/behaviour.md).

Each refusal changes one field of a valid body (a document example), so the only thing
wrong with the request is the refused form: the answer must be 400 ``invalid_argument``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from contracts.document import Document, proto_name

__all__ = ["refusals"]


def refusals(document: Document, body: object) -> Iterator[object]:
    """Bodies that differ from ``body`` by one refused form each."""
    if not isinstance(body, dict):
        return
    for path, node in _objects(body):
        for key, value in node.items():
            snake = proto_name(key)
            if key in document.property_names and snake != key and snake not in node:
                yield _replace(body, path, lambda n, k=key, s=snake: n.__setitem__(s, n[k]))
            if isinstance(value, dict):
                for wrong in ("not a message", ["not", "a", "message"]):
                    yield _replace(body, path, lambda n, k=key, w=wrong: n.__setitem__(k, w))
            if key in document.enum_numbers:
                for bad in (True, 1.5):
                    refused: object = [bad] if isinstance(value, list) else bad
                    yield _replace(body, path, lambda n, k=key, r=refused: n.__setitem__(k, r))


def _objects(
    body: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    yield path, body
    for key, value in body.items():
        if isinstance(value, dict):
            yield from _objects(value, (*path, key))


def _replace(body: dict[str, Any], path: tuple[str, ...], edit: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node = changed
    for key in path:
        node = node[key]
    edit(node)
    return changed
