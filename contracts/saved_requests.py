"""A failing request saved exactly as it was sent, and sent again.

Under ``--duration`` a seed alone does not bring a case back (which cases a round
reaches depends on time), so a failure carries its request: the operation, the dialect,
the HTTP method, the path and query, the headers (the token left out), the body bytes.
A campaign with ``--database`` replays the previous campaign's requests first; the
report's JSON carries them, so ``python -m contracts replay`` can send them again.
"""

from __future__ import annotations

import base64
from typing import Any

from contracts.checks import CHECKS_BY_NAME, Check
from contracts.dialects import Dialect
from contracts.document import Document
from contracts.exchange import Client, Exchange
from contracts.failures import CheckFailed

__all__ = ["judge_for", "replay", "saved_example", "still_fails"]


def saved_example(exchange: Exchange, base_url: str) -> dict[str, Any]:
    """The request of ``exchange`` as JSON-ready data that :func:`replay` sends again."""
    path = exchange.url[len(base_url) :] if exchange.url.startswith(base_url) else exchange.url
    headers = {k: v for k, v in exchange.request_headers.items() if k.lower() != "authorization"}
    return {
        "operation": exchange.operation,
        "dialect": {"family": exchange.dialect.family, "codec": exchange.dialect.codec},
        "http_method": exchange.http_method,
        "path": path,
        "headers": headers,
        "authenticated": len(headers) != len(exchange.request_headers),
        "body_base64": base64.b64encode(exchange.request_body).decode("ascii"),
        "message": exchange.request_json,
    }


def replay(client: Client, example: dict[str, Any]) -> Exchange:
    """Send the saved request again, byte for byte (with the client's token if it had one)."""
    headers = dict(example["headers"])
    if example.get("authenticated"):
        headers["Authorization"] = f"Bearer {client.token}"
    dialect = Dialect(example["dialect"]["family"], example["dialect"]["codec"])
    return client.exchange(
        example["operation"],
        example["http_method"],
        client.base_url + example["path"],
        headers,
        base64.b64decode(example["body_base64"]),
        dialect=dialect,
        request_message=example.get("message"),
    )


def judge_for(check: str, extra: dict[str, Check] | None = None) -> Check | None:
    """The single-request check named ``check`` (``extra`` first: checks made for the
    run, such as ``response_time`` with its limit), or None for one that spans calls."""
    return (extra or {}).get(check) or CHECKS_BY_NAME.get(check)


def still_fails(
    client: Client,
    document: Document,
    check: str,
    example: dict[str, Any],
    extra: dict[str, Check] | None = None,
) -> tuple[bool | None, Exchange | None]:
    """Replay ``example`` and judge it by ``check`` again: True (still fails), False
    (passes now), or None (no single-request check of that name, or a 429/503), with
    the exchange when one was sent. ``extra``: checks made for the run, by name
    (``response_time`` with its limit)."""
    judge = judge_for(check, extra)
    if judge is None:
        return None, None
    exchange = replay(client, example)
    if exchange.transient:
        return None, exchange
    one = judge if exchange.transport is None else CHECKS_BY_NAME["answered"]
    try:
        one(exchange, document)
    except CheckFailed as problem:
        return problem.check == check, exchange
    return False, exchange
