"""Setup problems are not verdicts: find them before the suites run, and say them in a line.

An unreachable or malformed base URL, a schema that cannot be read, a token the server
refuses, a path where no EnvironmentAutomationService answers: each raises
:class:`SetupError` (the CLI prints its message and exits 2) instead of counting as the
implementation breaking the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import yaml

from contracts.document import Document, load_document

if TYPE_CHECKING:
    from contracts.cleanup import CleanupResult
    from contracts.exchange import Client

__all__ = ["PREFLIGHT_SUITE", "SetupError", "check_server", "read_document"]

PREFLIGHT_SUITE = "preflight"


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


def check_server(client: Client, environment_ids: tuple[str, ...], token_given: bool) -> None:
    """One side-effect-free call (ListTasks); :class:`SetupError` if it shows a setup problem."""
    body: dict[str, Any] = {"pagination": {"pageSize": 1}}
    if environment_ids:
        body["filter"] = {"environmentIds": list(environment_ids)}
    try:
        exchange = client.send(PREFLIGHT_SUITE, "ListTasks", body)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise SetupError(f"cannot reach {client.base_url}: {reason}") from None
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
    # From now on a time-out or a dropped connection is the implementation's failure.
    client.answers_seen = True
