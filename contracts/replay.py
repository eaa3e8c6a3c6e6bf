"""``python -m contracts replay FILE --base-url URL``: a recording, sent again, compared.

The recorded requests go to the implementation in order, each in the dialect it was
recorded in (binary, Connect GET, gzip: sent and read by the suite's own client). Ids are
mapped: a
value the recording's responses carried (a task or execution id, a page token) and the
new server answered differently is replaced by the new one in every later request, so a
later GetTask asks for the task this server created. Each answer is compared with the
recorded one in code and shape: the same keys, list lengths and enum values; ids,
timestamps, names and other free text are not compared. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from contracts.dialects import DIALECTS, JSON_POST, Dialect
from contracts.exchange import Client
from contracts.report import EXIT_FAILED, EXIT_NO_VERDICT, EXIT_OK
from openapi.dialects import BinaryError
from openapi.recording import ANONYMOUS, Entry, RecordingError, read_recording

__all__ = ["Difference", "Replayer", "dialect_named", "main", "shape_differences"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_ENUM = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")  # TASK_EXECUTION_PHASE_RUNNING
# Opaque values a server makes up that later requests carry back.
_TOKEN_KEYS = frozenset({"nextToken", "token"})


@dataclass(frozen=True)
class Difference:
    """Where one replayed answer differs from the recorded one."""

    seq: int
    method: str
    what: str

    def render(self) -> str:
        return f"#{self.seq} {self.method}: {self.what}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def _aligned(recorded: list[Any], got: list[Any], ids: Mapping[str, str]) -> list[Any]:
    """``got`` in the order of ``recorded`` when both list the same resources (by mapped
    id): the order of resources created at one instant is the server's (by id) to choose."""
    keys = [item.get("id") if isinstance(item, dict) else None for item in recorded]
    found = {item.get("id"): item for item in got if isinstance(item, dict)}
    wanted = [ids.get(key, key) if isinstance(key, str) else None for key in keys]
    if len(recorded) != len(got) or None in wanted or set(wanted) != set(found):
        return got
    return [found[key] for key in wanted]


def shape_differences(
    recorded: Any, got: Any, path: str = "", ids: Mapping[str, str] | None = None
) -> list[str]:
    """Where ``got`` has another shape than ``recorded``: keys, types, list lengths, enums.

    ``ids`` maps recorded ids to the new server's, to pair list items by resource.
    """
    ids = ids if ids is not None else {}
    where = path or "/"
    if _kind(recorded) != _kind(got):
        return [f"{where}: recorded a {_kind(recorded)}, got a {_kind(got)}"]
    if isinstance(recorded, dict):
        found: list[str] = []
        for key in sorted(set(recorded) | set(got)):
            if key not in got:
                found.append(f"{path}/{key}: recorded, missing now")
            elif key not in recorded:
                found.append(f"{path}/{key}: new, not recorded")
            else:
                found += shape_differences(recorded[key], got[key], f"{path}/{key}", ids)
        return found
    if isinstance(recorded, list):
        if len(recorded) != len(got):
            return [f"{where}: recorded {len(recorded)} items, got {len(got)}"]
        found = []
        pairs = zip(recorded, _aligned(recorded, got, ids), strict=True)
        for index, (before, now) in enumerate(pairs):
            found += shape_differences(before, now, f"{path}/{index}", ids)
        return found
    enum = isinstance(recorded, str) and bool(_ENUM.match(recorded) or _ENUM.match(got))
    if enum and recorded != got:
        return [f"{where}: recorded {recorded}, got {got}"]
    return []


class Replayer:
    """Sends recorded entries to ``base_url``, mapping ids, and collects differences."""

    def __init__(
        self, base_url: str, tokens: dict[str, str], http: httpx.Client, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.timeout = timeout
        self._clients: dict[str, Client] = {}
        self.ids: dict[str, str] = {}
        self.differences: list[Difference] = []
        self.sent = 0
        self.skipped = 0

    def token(self, caller: str) -> str | None:
        if caller == ANONYMOUS:
            return None
        found = self.tokens.get(caller) or self.tokens.get("*")
        if found is None:
            # Without a given token each caller is a tenant of its own on the fake.
            found = self.tokens[caller] = f"replay-{secrets.token_hex(6)}-{caller}"
        return found

    def _mapped(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.ids.get(value, value)
        if isinstance(value, list):
            return [self._mapped(item) for item in value]
        if isinstance(value, dict):
            return {key: self._mapped(item) for key, item in value.items()}
        return value

    def _learn(self, recorded: Any, got: Any, key: str = "") -> None:
        if isinstance(recorded, dict) and isinstance(got, dict):
            for name, value in recorded.items():
                if name in got:
                    self._learn(value, got[name], name)
        elif isinstance(recorded, list) and isinstance(got, list):
            for before, now in zip(recorded, _aligned(recorded, got, self.ids), strict=False):
                self._learn(before, now, key)
        elif (
            isinstance(recorded, str)
            and isinstance(got, str)
            and recorded != got
            and (_UUID.match(recorded) or key in _TOKEN_KEYS)
        ):
            self.ids.setdefault(recorded, got)

    def _client(self, caller: str) -> Client:
        """The suite's own client, one per caller (its token; anonymous: none is sent)."""
        client = self._clients.get(caller)
        if client is None:
            token = self.token(caller) or ""
            client = self._clients[caller] = Client(self.base_url, token, timeout=self.timeout)
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _call(self, entry: Entry, body: Any) -> tuple[int, str | None, Any]:
        """An RPC in the dialect it was recorded in: status, Connect code, proto3 JSON."""
        assert entry.method is not None
        client = self._client(entry.caller)
        dialect = dialect_named(entry.dialect)
        authenticated = entry.caller != ANONYMOUS
        try:
            exchange = client.send(
                "replay", entry.method, body, authenticated=authenticated, dialect=dialect
            )
        except BinaryError:  # a message with no binary form: as recorded, it was JSON
            exchange = client.send("replay", entry.method, body, authenticated=authenticated)
        code = "ok" if exchange.status == 200 else exchange.error_code
        return exchange.status, code, exchange.body

    def _control(self, entry: Entry, body: Any) -> tuple[int, str | None, Any]:
        """A path outside the API (a fake's control route), sent as it was recorded."""
        headers = {"Content-Type": "application/json"}
        token = self.token(entry.caller)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        path = "/".join(self.ids.get(part, part) for part in entry.path.split("/"))
        response = self.http.request(
            entry.http_method,
            self.base_url + path,
            json=body if entry.request is not None else None,
            headers=headers,
        )
        try:
            got: Any = response.json()
        except ValueError:
            got = None
        return response.status_code, None, got

    def replay(self, entry: Entry) -> None:
        label = entry.method or f"{entry.http_method} {entry.path}"
        if entry.method is not None and entry.request is None:
            self.skipped += 1  # a request the recording could not keep as a message
            return
        body = self._mapped(entry.request)
        if entry.method is not None:
            status, code, got = self._call(entry, body)
        else:
            status, code, got = self._control(entry, body)
        self.sent += 1
        if status != entry.status or (entry.method and code != entry.code):
            self.differences.append(
                Difference(
                    entry.seq,
                    label,
                    f"recorded HTTP {entry.status} {entry.code or ''}".rstrip()
                    + f", got HTTP {status} {code or ''}".rstrip(),
                )
            )
            return
        if entry.method is not None:
            for what in shape_differences(entry.response, got, ids=self.ids):
                self.differences.append(Difference(entry.seq, label, what))
        self._learn(entry.response, got)


def dialect_named(name: str) -> Dialect:
    """The dialect a recording names (``json``, ``proto``, ``get (proto)``, ...); JSON POST
    for a name this version does not know."""
    family, _, codec = name.partition(" (")
    codec = codec.rstrip(")") or family
    if family in DIALECTS and codec in ("json", "proto"):
        return Dialect(family, codec)
    return JSON_POST


def _code(body: Any) -> str | None:
    return str(body["code"]) if isinstance(body, dict) and "code" in body else None


def _tokens(values: list[str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for value in values:
        alias, sep, token = value.partition("=")
        if sep and (alias.startswith("caller-") or alias == ANONYMOUS):
            tokens[alias] = token
        else:
            tokens["*"] = value
    return tokens


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts replay",
        description="Send a recording's requests to an implementation in order, ids mapped, "
        "and report where the answers differ in code or shape. Exit status 0: no "
        "difference; 1: differences; 2: a setup problem.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (contracts proxy --record)")
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="[CALLER=]TOKEN",
        help="bearer token for every caller, or for one (caller-2=TOKEN; repeatable); "
        "default: a new token per caller",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, in seconds")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        entries = list(read_recording(args.file))
    except RecordingError as error:
        print(f"contracts replay: error: {error}", file=sys.stderr)
        return EXIT_NO_VERDICT
    with httpx.Client(timeout=args.timeout) as http:
        replayer = Replayer(args.base_url, _tokens(args.token), http)
        try:
            for entry in entries:
                replayer.replay(entry)
        except httpx.HTTPError as error:
            print(
                f"contracts replay: error: cannot reach {args.base_url}: {error}", file=sys.stderr
            )
            return EXIT_NO_VERDICT
    for difference in replayer.differences:
        print(difference.render())
    skipped = f", {replayer.skipped} skipped (no message recorded)" if replayer.skipped else ""
    print(
        f"contracts replay: {replayer.sent} calls sent{skipped}; "
        f"{len(replayer.differences)} difference(s)"
    )
    return EXIT_FAILED if replayer.differences else EXIT_OK
