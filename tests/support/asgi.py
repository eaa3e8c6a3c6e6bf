"""A synchronous HTTP client for an ASGI app, in process (no socket, no thread).

Starlette's ``TestClient`` warns about its httpx dependency on import, which this suite
turns into an error; ``httpx.ASGITransport`` driven by ``asyncio.run`` does the same job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.types import ASGIApp

__all__ = ["SERVICE_PATH", "AsgiClient"]

SERVICE_PATH = "/gitpod.v1.EnvironmentAutomationService"


class AsgiClient:
    """Sends requests to ``app``; ``token`` (if any) goes in ``Authorization``."""

    def __init__(self, app: ASGIApp, token: str | None = "test-token") -> None:
        self.app = app
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = "",
    ) -> httpx.Response:
        """``token=""`` uses the client's token, ``None`` sends none."""
        all_headers = dict(headers or {})
        use = self.token if token == "" else token
        if use is not None and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {use}"

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                response = await c.request(
                    method, path, json=json, content=content, headers=all_headers
                )
                await response.aread()
                return response

        return asyncio.run(send())

    def rpc(self, method: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        """POST ``body`` (JSON) to an RPC of the service."""
        return self.request("POST", f"{SERVICE_PATH}/{method}", json=body, **kwargs)

    def ok(self, method: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """The JSON of a successful RPC; ``AssertionError`` with the body otherwise."""
        response = self.rpc(method, body, **kwargs)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def connect_error(response: Any, status: int, code: str) -> str:
    """The message of a Connect error response, once its status, type and code are checked."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code, body
    message: str = body.get("message", "")
    return message
