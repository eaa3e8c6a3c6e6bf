"""A journal entry as a curl command that sends the same call again.

The token is never written out: the command reads it from the shell variable ``$TOKEN``.
A JSON body goes in as its text; a binary (``application/proto``) body as base64 decoded
by ``base64 -d`` into curl's stdin, so the bytes are exactly those received. A Connect GET
keeps its query string, message included. The body is the message as decompressed, so a
gzipped request is replayed uncompressed.
"""

from __future__ import annotations

import base64
import shlex
from typing import Final

from mockserver.http.connect import ConnectError
from mockserver.http.journal import JournalEntry, header_lines
from openapi.errors import Code
from openapi.methods import SERVICE

__all__ = ["curl_command"]

# Request headers worth replaying; the rest (length, encoding, user agent, host) curl
# sets itself or no longer applies to the uncompressed body.
_REPLAYED: Final = ("content-type", "connect-protocol-version", "connect-timeout-ms")
_AUTHORIZATION: Final = '-H "Authorization: Bearer $TOKEN"'


def curl_command(entry: JournalEntry, base_url: str) -> str:
    """The command, lines joined by `` \\`` for a POSIX shell (bash, dash, zsh).

    ``ConnectError(failed_precondition)`` when the journal kept too little of the request
    to send it again (its size only, or a body that could not be read)."""
    url = f"{base_url.rstrip('/')}/{SERVICE}/{entry.method}"
    if entry.query_string:
        url += "?" + entry.query_string.decode("latin-1")
    headers = dict(header_lines(entry.headers))
    options = [_AUTHORIZATION]
    if entry.http_method == "GET":
        return " \\\n  ".join(["curl -sS", *options, shlex.quote(url)])
    body = entry.wire_request
    if body is None:
        if entry.request_truncated:
            why = f"the journal kept only its size ({entry.request_bytes} bytes)"
        else:
            why = "the request's body could not be read"
        raise ConnectError(Code.failed_precondition, f"no curl command for this call: {why}")
    for name in _REPLAYED:
        value = headers.get(name)
        if value is not None:
            options.append("-H " + shlex.quote(f"{name}: {value}"))
    content_type = headers.get("content-type", "").lower()
    text = _json_text(body) if content_type.startswith("application/json") else None
    if text is not None:
        options.append("--data-raw " + shlex.quote(text))
        return " \\\n  ".join(["curl -sS -X POST", *options, shlex.quote(url)])
    encoded = base64.b64encode(body).decode("ascii")
    options.append("--data-binary @-")
    return " \\\n  ".join(
        [f"printf %s {encoded} | base64 -d | curl -sS -X POST", *options, shlex.quote(url)]
    )


def _json_text(body: bytes) -> str | None:
    """The body as text, if a shell argument can carry it (no NUL, valid UTF-8)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text
