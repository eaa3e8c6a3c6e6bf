"""Type aliases shared by the domain modules."""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]
"""A proto3-JSON message: camelCase keys, JSON-serializable values."""

Micros = int
"""An instant as integer microseconds since the Unix epoch (UTC), or a duration in microseconds."""

TaskKey = tuple[int, str]
"""Listing order key: (creation instant in microseconds, id)."""


class SharedJson(dict[str, Any]):
    """A rendering the store keeps and hands out again (a task's proto3 JSON), never
    changed once made. A plain dict but for one thing: it can be weakly referenced, so
    the HTTP layer's caches of its encoded bytes let go of them when the store lets go
    of the rendering (a task deleted, updated or reset), instead of keeping both alive."""

    __slots__ = ("__weakref__",)
