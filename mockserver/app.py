"""The application factory: routes from the method table and the document, one error renderer."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import openapi
from mockserver.config import ServerConfig
from mockserver.domain import (
    Backend,
    Clock,
    DomainError,
    IdGenerator,
    ManualClock,
    RandomIds,
    RealClock,
    Scenario,
    SeededIds,
    Timing,
)
from mockserver.http.auth import Authenticator
from mockserver.http.connect import ConnectError, Receive, Scope, Send, error_response, from_domain
from mockserver.http.control import ControlApi
from mockserver.http.journal import Journal
from mockserver.http.normalize import MessageNormalizer, build_normalizer
from mockserver.http.origin import BrowserGuard, BrowserPolicy
from mockserver.http.render_cache import set_max_cache_bytes
from mockserver.http.request_log import stream_request_log
from mockserver.http.rpc import RAW_SEND_KEY, RpcEndpoint, UnknownMethodEndpoint
from mockserver.http.ui import ui_routes
from mockserver.http.validation import RequestValidator
from mockserver.state_file import SqliteState, StateFileError, open_state
from openapi.errors import Code, codes_for_status
from openapi.methods import METHODS, METHODS_BY_NAME, SERVICE

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "FakeApp",
    "StateFileError",
    "attach_state_file",
    "build_backend",
    "close_state_file",
    "create_app",
    "load_document",
]

logger = logging.getLogger("mockserver")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document() -> dict[str, Any]:
    """The committed OpenAPI document, parsed."""
    document: dict[str, Any] = yaml.load(openapi.document_text(), Loader=_Loader)
    return document


def build_backend(config: ServerConfig) -> Backend:
    """A backend with the clock, timing and scenario ``config`` asks for."""
    clock: Clock = ManualClock() if config.clock == "manual" else RealClock()
    scenario = None
    if config.scenario_path is not None:
        scenario = Scenario.from_yaml(config.scenario_path.read_text(encoding="utf-8"))
    ids: IdGenerator = RandomIds() if config.seed is None else SeededIds(config.seed)
    return Backend(
        clock,
        ids,
        Timing(pending_delay=config.pending_delay, step_duration=config.step_duration),
        scenario,
        log_url_base=config.url,
        environments=config.environments,
        limits=config.limits,
    )


def _rpc_routes(
    document: dict[str, Any],
    backend: Backend,
    config: ServerConfig,
    authenticator: Authenticator,
    journal: Journal,
    normalizers: Mapping[str, MessageNormalizer],
) -> list[Route]:
    routes: list[Route] = []
    for path, item in document["paths"].items():
        method = METHODS_BY_NAME[item["post"]["operationId"]]
        if method.path != path:
            raise RuntimeError(f"document path {path} does not match method {method.name}")
        endpoint = RpcEndpoint(
            method,
            backend,
            normalizer=normalizers[method.name],
            validator=RequestValidator.for_operation(document, path),
            authenticator=authenticator,
            journal=journal,
            max_body_bytes=config.max_body_bytes,
            request_log=stream_request_log() if config.request_log else None,
            origin_from_host=config.url_from_host,
        )
        routes.append(Route(path, endpoint, name=method.name))
    routes.append(Route(f"/{SERVICE}/{{name:path}}", UnknownMethodEndpoint(), name="unknown"))
    return routes


def _document_routes(document: dict[str, Any]) -> list[BaseRoute]:
    text = openapi.document_text().encode()
    as_json: list[bytes] = []  # rendered on first request: ~50 ms that start-up need not pay

    async def openapi_yaml(request: Request) -> Response:
        return Response(text, media_type="application/yaml")

    async def openapi_json(request: Request) -> Response:
        if not as_json:
            as_json.append(json.dumps(document, indent=2).encode())
        return Response(as_json[0], media_type="application/json")

    return [
        Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]


# -- errors: every one goes through connect.render_error -------------------------------


async def _on_connect_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConnectError)
    return error_response(exc)


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(from_domain(exc))


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = list((exc.headers or {}).items())
    if exc.status_code == 405:
        code = Code.unimplemented
    else:
        code = next(iter(codes_for_status(exc.status_code)), Code.unknown)
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(ConnectError(code, message, http_status=exc.status_code, headers=headers))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ConnectError(Code.internal, "internal error"))


# -- state file -------------------------------------------------------------------------


def attach_state_file(backend: Backend, path: Path) -> SqliteState:
    """Open the ``--state`` store at ``path``, load what it holds into ``backend`` and make
    it the backend's persistence: from now on every write is committed before it returns.

    :class:`StateFileError` if the file cannot be used or its content is invalid.
    """
    store = open_state(path)
    try:
        # Trusted: the rows are tasks the fake rendered itself; only their shape is checked.
        backend.import_state(store.load(), trusted=True)
    except StateFileError:
        store.close()
        raise
    except (DomainError, ValueError) as error:
        store.close()
        raise StateFileError(f"cannot load state from {path}: {error}") from None
    except Exception as error:
        # A hand-edited file can hold what no check foresaw: still one line at start-up.
        logger.debug("loading %s failed", path, exc_info=error)
        store.close()
        reason = " ".join(str(error).split())[:200]  # one line, whatever the error says
        raise StateFileError(
            f"cannot load state from {path}: unexpected content ({type(error).__name__}: {reason})"
        ) from None
    backend.persistence = store
    return store


def close_state_file(backend: Backend, store: SqliteState) -> None:
    """Record the clock's time, fold the write-ahead log into the file and close it
    (idempotent: the lifespan and the CLI both call it, whichever runs first wins)."""
    if store.closed:
        return
    try:
        backend.flush()
    except DomainError as error:  # the disk failed; every acknowledged write is in
        logger.warning("state file %s: the clock's last time was not saved: %s", store.path, error)
    store.close()
    logger.info("state saved in %s", store.path)


# -- browsers ---------------------------------------------------------------------------

# After connect-es's cors.ts (allowedHeaders / exposedHeaders), plus Authorization for the
# bearer token and the compression headers a client may send or read.
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "Accept-Encoding",
    "Connect-Protocol-Version",
    "Connect-Timeout-Ms",
    "Connect-Content-Encoding",
    "Connect-Accept-Encoding",
    "Grpc-Timeout",
    "X-Grpc-Web",
    "X-User-Agent",
)
CORS_EXPOSE_HEADERS = (
    "Content-Encoding",
    "Connect-Content-Encoding",
    "Connect-Accept-Encoding",
    "Grpc-Status",
    "Grpc-Message",
    "Grpc-Status-Details-Bin",
    "Retry-After",
    "Accept-Post",
    "Allow",
)
CORS_MAX_AGE = 7200  # seconds a browser may cache a preflight answer


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age=CORS_MAX_AGE,
        )
    ]


class FakeApp(Starlette):
    """Starlette, keeping the server's own ``send`` in the scope for dropped connections,
    and handing each RPC path straight to its endpoint when no middleware must see it.

    An :class:`RpcEndpoint` is a complete ASGI app that answers every error itself, so
    Starlette's middleware and router (a regex per route, tried in order) would only add
    their cost to the hot path: ~12 µs of a ~30 µs GetTask. With CORS on,
    ``rpc_endpoints`` stays empty and every request goes through the middleware.
    """

    rpc_endpoints: dict[str, RpcEndpoint] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self.rpc_endpoints.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)  # ``send`` is the server's own
                return
        # The server's ``send`` is a method of its request object, which holds the scope:
        # left in the scope, it would make every request a reference cycle for the garbage
        # collector to find (~10 µs a request), instead of memory freed on return.
        scope[RAW_SEND_KEY] = send
        try:
            await super().__call__(scope, receive, send)
        finally:
            del scope[RAW_SEND_KEY]


# -- the factory ------------------------------------------------------------------------


def create_app(config: ServerConfig | None = None, *, backend: Backend | None = None) -> Starlette:
    """The whole server as an ASGI app.

    ``backend`` replaces the one ``config`` would build (its clock, timing and scenario
    are then the backend's); its ``log_url_base`` is set to ``config.url`` either way.
    With ``config.state_path`` the state is loaded now (:class:`StateFileError` if that
    fails) and every write is committed to it before its response (``app.state.store``;
    closed when the app shuts down).
    """
    config = config or ServerConfig()
    if backend is None:
        backend = build_backend(config)
    backend.log_url_base = config.url
    state_path = config.state_path
    store = None if state_path is None else attach_state_file(backend, state_path)

    document = load_document()
    authenticator = Authenticator(config.tokens, config.admin_tokens)
    journal = Journal(config.journal_size)
    # The codecs' caches are the process's (the codecs are shared by every app in it).
    set_max_cache_bytes(config.max_cache_bytes)
    # One per method, shared: the RPC routes normalize with them, and journal queries
    # read a journaled request back the same way.
    normalizers = {
        method.name: build_normalizer(method.request, strict=config.strict) for method in METHODS
    }
    control = ControlApi(backend, journal, authenticator, config.max_body_bytes, normalizers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if store is not None:
            close_state_file(backend, store)

    rpc_routes = _rpc_routes(document, backend, config, authenticator, journal, normalizers)
    browsers = BrowserPolicy.build(
        bound_host=config.host,
        public_url=config.public_url,
        allowed_hosts=config.allowed_hosts,
        cors_origins=config.cors_origins,
    )
    app = FakeApp(
        # The guard first: a preflight for a control route from an untrusted origin is
        # refused before the CORS layer could answer it.
        middleware=[Middleware(BrowserGuard, policy=browsers), *_cors(config.cors_origins)],
        routes=[
            *rpc_routes,
            *control.routes(),
            *_document_routes(document),
            *ui_routes(),
        ],
        exception_handlers={
            ConnectError: _on_connect_error,
            DomainError: _on_domain_error,
            HTTPException: _on_http_exception,
            Exception: _on_unexpected,
        },
        lifespan=lifespan,
    )
    if not config.cors_origins:
        app.rpc_endpoints = {
            route.path: route.app for route in rpc_routes if isinstance(route.app, RpcEndpoint)
        }
    app.state.config = config
    app.state.backend = backend
    app.state.journal = journal
    app.state.store = store
    return app
