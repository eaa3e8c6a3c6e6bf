"""Reading request bodies: incrementally, and never past the limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockserver.http.body import ClientDisconnected, read_body
from mockserver.http.connect import ConnectError
from openapi.errors import Code


class Chunks:
    """An ASGI ``receive`` that hands out ``chunks`` and counts how many were taken."""

    def __init__(self, chunks: list[bytes], disconnect: bool = False) -> None:
        self.chunks = chunks
        self.taken = 0
        self.disconnect = disconnect

    async def __call__(self) -> dict[str, Any]:
        if self.taken == len(self.chunks):
            assert self.disconnect
            return {"type": "http.disconnect"}
        self.taken += 1
        more = self.taken < len(self.chunks) or self.disconnect
        return {"type": "http.request", "body": self.chunks[self.taken - 1], "more_body": more}


def test_body_joins_chunks() -> None:
    receive = Chunks([b"ab", b"", b"cd"])
    assert asyncio.run(read_body(receive, 10)) == b"abcd"


def test_body_stops_reading_as_soon_as_the_limit_is_passed() -> None:
    receive = Chunks([b"x" * 4] * 100)
    with pytest.raises(ConnectError) as caught:
        asyncio.run(read_body(receive, 10))
    assert caught.value.code is Code.resource_exhausted
    assert caught.value.http_status == 429
    assert receive.taken == 3


def test_body_refuses_a_declared_length_over_the_limit_without_reading() -> None:
    receive = Chunks([b"x"])
    with pytest.raises(ConnectError):
        asyncio.run(read_body(receive, 10, content_length=11))
    assert receive.taken == 0


def test_body_exactly_at_the_limit_is_fine() -> None:
    assert asyncio.run(read_body(Chunks([b"x" * 10]), 10)) == b"x" * 10


def test_body_client_disconnect_is_reported() -> None:
    with pytest.raises(ClientDisconnected):
        asyncio.run(read_body(Chunks([b"x"], disconnect=True), 10))
