"""Injected id generators: random UUIDs for serving, sequential ones for tests."""

from __future__ import annotations

import itertools
import os
import random
import uuid
from typing import Protocol


class IdGenerator(Protocol):
    """A source of fresh lower-case UUID strings."""

    def new_id(self) -> str:
        """A new id."""
        ...


class RandomIds:
    """UUID version 4 ids, made a batch at a time (one system call per batch)."""

    BATCH = 256

    def __init__(self) -> None:
        self._ready: list[str] = []

    def new_id(self) -> str:
        ready = self._ready
        if not ready:
            ready.extend(_uuid4_batch(self.BATCH))
        return ready.pop()


def _uuid4_batch(count: int) -> list[str]:
    """``count`` strings as str(uuid.uuid4()) gives them, without UUID objects."""
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = raw[start + 6] & 0x0F | 0x40  # version 4
        raw[start + 8] = raw[start + 8] & 0x3F | 0x80  # RFC 4122 variant
        text = raw[start : start + 16].hex()
        ids.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return ids


class SequentialIds:
    """Deterministic ids ``00000000-0000-4000-8000-000000000001``, ``...002`` and so on.

    The counter is hexadecimal, so every id is a valid version-4-shaped UUID.
    """

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def new_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._counter):012x}"


class SeededIds:
    """Repeatable random ids: one stream per tenant, derived from ``seed`` and the tenant.

    Each tenant's ids depend only on the seed, the tenant and its own calls, so tenants
    served in any interleaving (parallel test workers) still get the same ids on every run.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def new_id(self) -> str:
        return self.for_tenant("")

    def for_tenant(self, tenant: str) -> str:
        """The tenant's next id (version-4 shaped)."""
        stream = self._streams.get(tenant)
        if stream is None:
            stream = self._streams[tenant] = random.Random(f"{self.seed}/{tenant}")
        return str(uuid.UUID(int=stream.getrandbits(128), version=4))

    def forget(self, tenant: str | None = None) -> None:
        """Start a tenant's stream (or every stream, ``None``) from the beginning again."""
        if tenant is None:
            self._streams.clear()
        else:
            self._streams.pop(tenant, None)
