"""Hand-made :class:`~contracts.exchange.Exchange` values for the tests of checks and
ledgers: a JSON request and answer, as the suite's client would have recorded them."""

from __future__ import annotations

import json
from collections.abc import Mapping

from contracts.exchange import Exchange

__all__ = ["json_exchange"]


def json_exchange(
    operation: str,
    body: object,
    *,
    status: int = 200,
    request: object = None,
    at: float = 0.0,
    took: float = 0.0,
    url: str | None = None,
    request_headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Exchange:
    """``operation`` answered ``body`` (as JSON) with ``status``, sent at ``at``."""
    return Exchange(
        operation=operation,
        url=url or f"http://x/{operation}",
        request_headers=dict(request_headers or {}),
        request_body=json.dumps(request if request is not None else {}).encode(),
        status=status,
        response_headers={"content-type": content_type},
        content=json.dumps(body).encode(),
        sent_at=at,
        received_at=at + took,
        curl="curl ...",
    )
