"""Type aliases shared by the domain modules."""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]
"""A proto3-JSON message: camelCase keys, JSON-serializable values."""

Micros = int
"""An instant as integer microseconds since the Unix epoch (UTC), or a duration in microseconds."""

TaskKey = tuple[int, str]
"""Listing order key: (creation instant in microseconds, id)."""
