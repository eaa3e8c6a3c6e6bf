"""The control API under ``/_mock/``: test tooling, not part of the Ona API.

JSON in and out; errors use the same Connect error body as the API. Who acts decides what
a route acts on:

- a tenant (its bearer token): that tenant only: its data, journal, scenario and clock;
- the operator (an ``--admin-token``): every tenant: reset all, the server clock, the
  default scenario, the whole state, every journal;
- nobody (no token): the same as the operator for convenience, but only while ``--token``
  does not restrict the server; then every change needs a token. Reads of the clock and
  the scenario stay open (they show the server's defaults).
"""

from __future__ import annotations

import json
import math
from asyncio import to_thread
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mockserver.domain import (
    Backend,
    Caller,
    JsonObject,
    Scenario,
    ScenarioError,
    format_timestamp,
)
from mockserver.domain.caller import subject_id_for
from mockserver.domain.scenario import error_line
from mockserver.http import codecs
from mockserver.http.auth import Admin, Authenticator
from mockserver.http.body import ClientDisconnected, read_body
from mockserver.http.connect import ConnectError
from mockserver.http.curl import curl_command
from mockserver.http.journal import Journal, JournalEntry
from mockserver.http.journal_page import JournalPage
from mockserver.http.normalize import MessageNormalizer
from mockserver.http.rpc import INLINE_DECODE_BYTES
from mockserver.http.verification import (
    NEAR_MISSES,
    Findings,
    JournalQuery,
    QueryError,
    find,
)
from openapi.errors import Code

__all__ = ["OVERVIEW_REQUESTS", "ControlApi"]

OVERVIEW_REQUESTS = 100  # journal entries the overview carries, the newest


def _json(data: Any) -> Response:
    return JSONResponse(data)


class ControlApi:
    """The control routes over one backend, journal and authenticator."""

    def __init__(
        self,
        backend: Backend,
        journal: Journal,
        authenticator: Authenticator,
        max_body_bytes: int,
        normalizers: Mapping[str, MessageNormalizer],
    ) -> None:
        self.backend = backend
        self.journal = journal
        self.authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.normalizers = normalizers

    def routes(self) -> list[Route]:
        return [
            Route("/_mock/health", self.health, methods=["GET"]),
            Route("/_mock/reset", self.reset, methods=["POST"]),
            Route("/_mock/clock", self.clock, methods=["GET"]),
            Route("/_mock/clock/advance", self.advance, methods=["POST"]),
            Route("/_mock/state", self.get_state, methods=["GET"]),
            Route("/_mock/state", self.put_state, methods=["PUT"]),
            Route("/_mock/requests", self.get_requests, methods=["GET"]),
            Route("/_mock/requests", self.clear_requests, methods=["DELETE"]),
            Route("/_mock/requests/find", self.find_requests, methods=["POST"]),
            Route("/_mock/requests/count", self.count_requests, methods=["POST"]),
            Route("/_mock/requests/{entry_id:int}/curl", self.request_curl, methods=["GET"]),
            Route("/_mock/scenario", self.get_scenario, methods=["GET"]),
            Route("/_mock/scenario", self.put_scenario, methods=["PUT"]),
            Route("/_mock/scenario", self.delete_scenario, methods=["DELETE"]),
            Route("/_mock/logs/{execution_id}", self.logs, methods=["GET"]),
            Route("/_mock/overview", self.overview, methods=["GET"]),
        ]

    # -- helpers ----------------------------------------------------------------------

    def _caller(self, request: Request) -> Caller:
        return self.authenticator.caller(request.headers.get("authorization"))

    def _identity(self, request: Request) -> Caller | Admin | None:
        return self.authenticator.control_identity(request.headers.get("authorization"))

    def _actor(self, request: Request, what: str) -> Caller | None:
        """Who a state-changing route acts for: a tenant, or ``None`` for every tenant
        (the operator, or an anonymous caller while ``--token`` is not given)."""
        identity = self._identity(request)
        if isinstance(identity, Admin):
            return None
        if identity is None and self.authenticator.restricted:
            raise ConnectError(
                Code.unauthenticated,
                f"{what} needs a bearer token: the server accepts only its --token tokens"
                " (a tenant's acts on that tenant, an --admin-token on every tenant)",
            )
        return identity

    def _reader(self, request: Request) -> Caller | None:
        """A read: the tenant's view, else the server's (anyone may read the defaults)."""
        identity = self._identity(request)
        return identity if isinstance(identity, Caller) else None

    async def _body(self, request: Request) -> bytes:
        length = request.headers.get("content-length")
        declared = int(length) if length and length.isdigit() else None
        try:
            return await read_body(request.receive, self.max_body_bytes, declared)
        except ClientDisconnected:
            raise ConnectError(Code.canceled, "client disconnected") from None

    async def _json_body(self, request: Request) -> Any:
        body = await self._body(request)
        try:
            if len(body) > INLINE_DECODE_BYTES:  # as the API does: off the event loop
                return await to_thread(codecs.loads, body)
            return codecs.loads(body)
        except ValueError as error:
            raise ConnectError(
                Code.invalid_argument, f"request body is not valid JSON: {error}"
            ) from None

    def _now(self, caller: Caller | None) -> str:
        return format_timestamp(self.backend.now(caller))

    # -- endpoints --------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def reset(self, request: Request) -> Response:
        """A tenant's data, journal, scenario and clock; or everything."""
        caller = self._actor(request, "a reset")
        self.backend.reset(caller)
        self.journal.clear(None if caller is None else caller.token)
        return _json({})

    async def clock(self, request: Request) -> Response:
        kind = "manual" if self.backend.manual else "real"
        return _json({"clock": kind, "now": self._now(self._reader(request))})

    async def advance(self, request: Request) -> Response:
        """``{"seconds": N}`` moves the tenant's (or the server's) manual clock forward;
        answers ``{"now": ...}``."""
        caller = self._actor(request, "advancing the clock")
        if not self.backend.manual:
            raise ConnectError(
                Code.failed_precondition,
                "the clock is real; start the server with --clock manual to advance it",
                http_status=409,
            )
        data = await self._json_body(request)
        seconds = data.get("seconds") if isinstance(data, dict) else None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            # (an int is finite, however long; isfinite would turn it into a float first)
            or (isinstance(seconds, float) and not math.isfinite(seconds))
            or seconds < 0
        ):
            raise ConnectError(
                Code.invalid_argument,
                'seconds: body must be {"seconds": N} with N a finite number >= 0, got '
                + json.dumps(data)[:200],
            )
        self.backend.advance_clock(seconds, caller)
        return _json({"now": self._now(caller)})

    async def get_state(self, request: Request) -> Response:
        identity = self._identity(request)
        # orjson over the store's own task dicts (no copy): ~10x faster than a copy through
        # json.dumps, which took 2.7 s at 100,000 tasks with the server blocked.
        caller = None if isinstance(identity, Admin) else self._caller(request)
        export = self.backend.export_state(caller, shared=True)
        return Response(orjson.dumps(export), media_type="application/json")

    async def put_state(self, request: Request) -> Response:
        identity = self._identity(request)
        caller = None if isinstance(identity, Admin) else self._caller(request)
        # On a worker thread: validating a 4 MiB document takes a few hundred ms, and
        # the event loop keeps serving meanwhile (the backend's lock guards the swap).
        await to_thread(self.backend.import_state, await self._json_body(request), caller)
        return _json({})

    async def get_requests(self, request: Request) -> Response:
        """The journal, oldest first; filtered and paged by the query (see
        :mod:`mockserver.http.journal_page`)."""
        query = JournalPage.parse(request.scope.get("query_string", b""))
        identity = self._identity(request)
        pairs: list[tuple[str, JournalEntry]]
        if isinstance(identity, Admin):
            pairs = self.journal.all_entries()
            if query.limit is not None or query.before is not None:
                pairs.sort(key=lambda pair: pair[1].id)  # a cursor follows the ids
        else:
            token = self._caller(request).token
            pairs = [(token, entry) for entry in self.journal.entries(token)]
        found, older = query.select([(pair, pair[1]) for pair in pairs])
        if isinstance(identity, Admin):
            items = [{**entry.to_json(), "tenant": subject_id_for(token)} for token, entry in found]
        else:
            items = [entry.to_json() for _, entry in found]
        answer: dict[str, Any] = {"requests": items}
        if query.limit is not None:
            answer["older"] = older
            answer["total"] = len(pairs)
        return _json(answer)

    async def request_curl(self, request: Request) -> Response:
        """One journal entry as a curl command that sends it again (``$TOKEN`` for the
        token); the tenant's entries only, the operator's any."""
        identity = self._identity(request)
        tenant = None if isinstance(identity, Admin) else self._caller(request).token
        entry_id: int = request.path_params["entry_id"]
        found = self.journal.entry(tenant, entry_id)
        if found is None:
            raise ConnectError(Code.not_found, f"no journal entry {entry_id} (or no longer kept)")
        base_url = str(request.base_url)
        return PlainTextResponse(curl_command(found[1], base_url) + "\n")

    async def find_requests(self, request: Request) -> Response:
        """The journaled calls that fit a query (see :mod:`mockserver.http.verification`):
        ``{"requests", "unknown"}``, and ``nearMisses`` when nothing fits."""
        entries, render = await self._search(request)
        findings = self._find(await self._query(request), entries)
        answer: dict[str, Any] = {
            "requests": [render(index) for index in findings.matched],
            "unknown": [render(index) for index in findings.unknown],
        }
        if not findings.matched:
            answer["nearMisses"] = [
                {"request": render(near.index), "failed": [miss.to_json() for miss in near.misses]}
                for near in findings.near_misses
            ]
        return _json(answer)

    async def count_requests(self, request: Request) -> Response:
        """``{"count": N, "unknown": M}``: the same query as find, counted."""
        entries, _ = await self._search(request)
        findings = self._find(await self._query(request), entries, near_misses=0)
        return _json({"count": len(findings.matched), "unknown": len(findings.unknown)})

    async def _query(self, request: Request) -> JournalQuery:
        """The body's query; an empty body is ``{}``: every call."""
        body = await self._body(request)
        try:
            data = codecs.loads(body) if body.strip() else None
        except ValueError as error:
            raise ConnectError(Code.invalid_argument, f"body: not valid JSON: {error}") from None
        try:
            return JournalQuery.parse(data)
        except QueryError as error:
            raise ConnectError(Code.invalid_argument, str(error)) from None

    async def _search(
        self, request: Request
    ) -> tuple[list[JournalEntry], Callable[[int], JsonObject]]:
        """The entries the caller may search, and how to render the one at an index."""
        if isinstance(self._identity(request), Admin):
            pairs = self.journal.all_entries()
            entries = [entry for _, entry in pairs]

            def render_tagged(index: int) -> JsonObject:
                token, entry = pairs[index]
                return {**entry.to_json(), "tenant": subject_id_for(token)}

            return entries, render_tagged
        entries = self.journal.entries(self._caller(request).token)
        return entries, lambda index: entries[index].to_json()

    def _find(
        self, query: JournalQuery, entries: list[JournalEntry], near_misses: int = NEAR_MISSES
    ) -> Findings:
        return find(query, entries, self._understood, near_misses=near_misses)

    def _understood(self, entry: JournalEntry) -> JsonObject:
        """A journaled request as the RPC route understood it: decoded, then normalized."""
        request = entry.request_json()
        if not isinstance(request, dict):
            return {}
        try:
            return self.normalizers[entry.method].normalize(request)
        except ConnectError:  # refused at the time too (a field given twice): as sent
            return request

    async def clear_requests(self, request: Request) -> Response:
        identity = self._identity(request)
        if isinstance(identity, Admin):
            self.journal.clear()
        else:
            self.journal.clear(self._caller(request).token)
        return _json({})

    async def get_scenario(self, request: Request) -> Response:
        """JSON; ``?format=yaml``: the same document as YAML (what the web view edits)."""
        document = self.backend.scenario_for(self._reader(request)).to_dict()
        form = request.query_params.get("format", "json")
        if form == "yaml":
            kept = {key: value for key, value in document.items() if value}  # no empty parts
            text = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True) if kept else ""
            return PlainTextResponse(text, media_type="application/yaml")
        if form != "json":
            raise ConnectError(
                Code.invalid_argument, f"format: 'json' or 'yaml', got {form[:40]!r}"
            )
        return _json(document)

    async def put_scenario(self, request: Request) -> Response:
        """A scenario as YAML or JSON (JSON is YAML): the tenant's own, or the default."""
        caller = self._actor(request, "loading a scenario")
        body = await self._body(request)
        if not body.strip():
            # Most likely a client that lost its body on the way (a missing -d, a
            # file that did not expand); clearing is explicit: DELETE.
            raise ConnectError(
                Code.invalid_argument,
                "body: empty; send a scenario as YAML or JSON ({} is the empty one),"
                " or DELETE /_mock/scenario to clear it",
            )
        try:
            text = body.decode("utf-8")
            scenario = Scenario.from_yaml(text)
        except UnicodeDecodeError:
            raise ConnectError(Code.invalid_argument, "scenario is not UTF-8 text") from None
        except (ScenarioError, yaml.YAMLError) as error:
            message = f"invalid scenario: {error}"
            line = error_line(text, str(error))
            if line is not None and "line " not in message:
                message += f" (line {line})"  # for an editor, such as the web view's
            raise ConnectError(Code.invalid_argument, message) from None
        self.backend.set_scenario(scenario, caller)
        return _json(scenario.to_dict())

    async def delete_scenario(self, request: Request) -> Response:
        """Clear the scenario: the tenant's becomes empty (no rules, latency or faults);
        the operator's (or no token's) clears the default. Answers the scenario now."""
        caller = self._actor(request, "clearing the scenario")
        scenario = Scenario()
        self.backend.set_scenario(scenario, caller)
        return _json(scenario.to_dict())

    async def logs(self, request: Request) -> Response:
        text = self.backend.execution_logs(
            self._caller(request), request.path_params["execution_id"]
        )
        return PlainTextResponse(text)

    async def overview(self, request: Request) -> Response:
        """What the web view polls: the tenant's newest tasks, executions (with step
        times) and journal entries in one read that is itself not journaled.

        It shows one tenant, so it takes a tenant's token only: with an admin token the
        page's buttons would act on every tenant while it showed none.
        """
        caller = self._identity(request)
        if not isinstance(caller, Caller):
            if caller is None:
                caller = self._caller(request)  # the "missing bearer token" answer
            else:
                raise ConnectError(
                    Code.permission_denied,
                    "the web view shows one tenant: use a tenant's token, not an --admin-token",
                )
        data = {"subject": caller.subject_id, **self.backend.overview(caller)}
        entries = self.journal.entries(caller.token)
        data["requests"] = [entry.to_json() for entry in entries[-OVERVIEW_REQUESTS:]]
        data["requestsTotal"] = len(entries)
        return _json(data)
