"""Setup problems are not verdicts: find them before the suites run, and say them in a line.

An unreachable or malformed base URL, a schema that cannot be read, a token the server
refuses, a path where no EnvironmentAutomationService answers, a server that is not this
API at all (a static page, a directory listing, another JSON service): each raises
:class:`SetupError` (the CLI prints its message and exits 2) instead of counting as the
implementation breaking the contract.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from contracts.checks import speaks_the_api
from contracts.document import Document, load_document

if TYPE_CHECKING:
    from contracts.cleanup import CleanupResult
    from contracts.exchange import Client, Exchange

__all__ = ["PREFLIGHT_SUITE", "SetupError", "check_server", "read_document"]

PREFLIGHT_SUITE = "preflight"
_GLIMPSE = 60  # characters of a foreign answer's body quoted in the one-line message


class SetupError(Exception):
    """The run cannot judge the implementation; the message says why, in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.cleanup: CleanupResult | None = None


def read_document(source: str | None) -> Document:
    """The document at ``source``, or :class:`SetupError` saying why it cannot be used."""
    where = source or "the committed document"
    try:
        document = load_document(source)
    except httpx.HTTPStatusError as exc:
        raise SetupError(
            f"cannot read the schema {where}: HTTP {exc.response.status_code}"
        ) from None
    except httpx.HTTPError as exc:
        raise SetupError(f"cannot read the schema {where}: {exc or type(exc).__name__}") from None
    except OSError as exc:
        raise SetupError(f"cannot read the schema {where}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SetupError(f"the schema {where} is not YAML or JSON: {first}") from None
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    if not document.operations:
        raise SetupError(f"the schema {where} documents no Connect (POST) operations")
    return document


def _code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return f" {body['code']}"
    return ""


def _glimpse(exchange: Exchange) -> str:
    """The answer in a few words: status, content type, the start of the body on one line."""
    text = " ".join(exchange.content.decode("utf-8", "replace").split())
    text = text if len(text) <= _GLIMPSE else text[:_GLIMPSE] + "..."
    kind = exchange.content_type.split(";", 1)[0].strip() or "no Content-Type"
    return f"HTTP {exchange.status} {kind} {json.dumps(text, ensure_ascii=False)}"


def _send(client: Client, operation: str, body: dict[str, Any]) -> Exchange:
    try:
        return client.send(PREFLIGHT_SUITE, operation, body)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise SetupError(f"cannot reach {client.base_url}: {reason}") from None


def _not_the_api(client: Client, operation: str, what: str, exchange: Exchange) -> SetupError:
    return SetupError(
        f"{client.base_url} does not answer as an EnvironmentAutomationService: {operation}"
        f"{what} got {_glimpse(exchange)}, which is neither a {operation} response nor a "
        "Connect error; check --base-url"
    )


def check_server(
    client: Client, document: Document, environment_ids: tuple[str, ...], token_given: bool
) -> None:
    """Two side-effect-free calls; :class:`SetupError` if they show a setup problem.

    ListTasks tells a refused token, a wrong path and an overloaded server apart. Then
    both it and a GetTask of an id nobody created must be answers this API could give
    (see :func:`~contracts.checks.speaks_the_api`): a static page, a directory listing or
    a JSON service that answers 200 to anything fails one or the other, and is named in
    one line instead of being judged, case by case, as a broken implementation.
    """
    body: dict[str, Any] = {"pagination": {"pageSize": 1}}
    if environment_ids:
        body["filter"] = {"environmentIds": list(environment_ids)}
    exchange = _send(client, "ListTasks", body)
    answer = f"HTTP {exchange.status}{_code(exchange.body)}"
    if exchange.status in (401, 403):
        advice = "pass a token it accepts with --token" if not token_given else "check --token"
        raise SetupError(f"{client.base_url} refuses the token ({answer} on ListTasks); {advice}")
    if exchange.status == 404:
        raise SetupError(
            f"no EnvironmentAutomationService at {client.base_url} ({answer} on "
            f"{client.url_for('ListTasks')}); check --base-url"
        )
    if exchange.transient:
        raise SetupError(
            f"{client.base_url} keeps answering {answer} (retried {client.retries} times); "
            "try again later or lower --rate-limit"
        )
    if not speaks_the_api(exchange, document):
        raise _not_the_api(client, "ListTasks", "", exchange)
    unknown = _send(client, "GetTask", {"id": str(uuid.uuid4())})
    if not unknown.transient and not speaks_the_api(unknown, document):
        raise _not_the_api(client, "GetTask", " of an unknown id", unknown)
    # From now on a time-out or a dropped connection is the implementation's failure.
    client.answers_seen = True
