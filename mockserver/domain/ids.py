"""Injected id generators: random UUIDs for serving, sequential ones for tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Protocol


class IdGenerator(Protocol):
    """A source of fresh lower-case UUID strings."""

    def new_id(self) -> str:
        """A new id."""
        ...


class RandomIds:
    """UUID version 4 ids."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


class SequentialIds:
    """Deterministic ids ``00000000-0000-4000-8000-000000000001``, ``...002`` and so on.

    The counter is hexadecimal, so every id is a valid version-4-shaped UUID.
    """

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def new_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._counter):012x}"
