"""``mockserver``: serve the fake over HTTP until SIGINT, SIGTERM or SIGHUP."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import logging
import math
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp

from mockserver.app import StateFileError, close_state_file, create_app
from mockserver.config import ServerConfig, base_url
from mockserver.domain import Scenario, ScenarioError
from mockserver.domain.limits import DEFAULT_LIMITS, Limits
from mockserver.domain.scenario import MAX_SECONDS
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES
from mockserver.http.connections import (
    DEFAULT_CONNECTION_LIMITS,
    ConnectionLimits,
    guarded_protocol,
)
from mockserver.http.render_cache import DEFAULT_MAX_CACHE_BYTES

__all__ = [
    "bind_socket",
    "build_parser",
    "config_from_args",
    "main",
    "serve",
    "tune_gc",
    "uvicorn_config",
]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number between 0 and {MAX_SECONDS}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 65535")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 0")
    return value


def _token(text: str) -> str:
    if not text or text != text.strip():
        raise argparse.ArgumentTypeError("a token must be non-empty, without surrounding spaces")
    return text


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UUID") from None


def _origin(text: str) -> str:
    if text == "*":
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"{text!r} is not an origin (scheme://host[:port], or *)")
    return f"{parts.scheme}://{parts.netloc}"


def _host(text: str) -> str:
    name = text.strip().lower()
    if name == "*":
        return name
    if not name or any(char in name for char in "/:@ ") or name.startswith("."):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a host name (a name like fake.test, without scheme or port; or *)"
        )
    return name


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text.rstrip("/")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _version() -> str:
    try:
        return metadata.version("ona-automation-fake")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


# Addresses that mean "every interface": no client can use them in a URL.
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="In-memory fake of the Ona EnvironmentAutomationService task API: the"
        " Connect protocol in JSON and binary protobuf (gzip, Connect GET). It also serves"
        " a web view at /_mock/ui (open / in a browser), the control API under /_mock/"
        " (reset, clock, scenario, state, journal, verification) and the contract document"
        " at /openapi.yaml.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8080,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--clock",
        choices=("real", "manual"),
        default="real",
        help="real: wall time; manual: moves only via POST /_mock/clock/advance"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--pending-delay",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="how long a new execution stays PENDING (default: %(default)s)",
    )
    parser.add_argument(
        "--step-duration",
        type=_seconds,
        default=2.0,
        metavar="SECONDS",
        help="how long a step runs when no scenario rule says otherwise (default: %(default)s)",
    )
    parser.add_argument(
        "--scenario", type=Path, metavar="FILE", help="scenario YAML to load at start"
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="SQLite file holding the state: loaded at start, every write committed to it"
        " before its response (created if absent; a JSON export is migrated)",
    )
    parser.add_argument(
        "--token",
        type=_token,
        action="append",
        default=[],
        dest="tokens",
        metavar="TOKEN",
        help="accept only this bearer token (repeatable); default: any non-empty token",
    )
    parser.add_argument(
        "--admin-token",
        type=_token,
        action="append",
        default=[],
        dest="admin_tokens",
        metavar="TOKEN",
        help="operator token for the control API (repeatable): resets everything, moves the"
        " server clock, sets the default scenario, exports and imports all state",
    )
    parser.add_argument(
        "--environment",
        type=_uuid,
        action="append",
        default=[],
        dest="environments",
        metavar="ID",
        help="know only these environments (repeatable), like a real deployment; default: any",
    )
    parser.add_argument(
        "--cors-origin",
        type=_origin,
        action="append",
        default=[],
        dest="cors_origins",
        metavar="ORIGIN",
        help="let browser pages of this origin call the server (repeatable; * for any)",
    )
    parser.add_argument(
        "--allowed-host",
        type=_host,
        action="append",
        default=[],
        dest="allowed_hosts",
        metavar="HOST",
        help="a host name browsers may reach the control API and web view by, besides"
        " localhost, IP addresses, --host and --public-url (repeatable; * for any)",
    )
    parser.add_argument(
        "--seed",
        type=_int,
        metavar="N",
        help="generate the same ids (per tenant) and fault rolls on every run",
    )
    parser.add_argument(
        "--public-url",
        type=_url,
        metavar="URL",
        help="base URL clients reach the server at, for logUrl (default: the bound address;"
        " on 0.0.0.0 or :: the request's Host)",
    )
    parser.add_argument(
        "--request-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one line per API call on stdout (default: on when stdout is a terminal)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="reject unknown fields and unknown enum names (invalid_argument)"
        " instead of dropping them",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="BYTES",
        help="larger request bodies get resource_exhausted (default: %(default)s)",
    )
    defaults = DEFAULT_LIMITS
    parser.add_argument(
        "--max-tenants",
        type=_positive_int,
        default=defaults.max_tenants,
        metavar="N",
        help="tenants with state kept at most; a new one then gets resource_exhausted"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--max-tasks",
        type=_positive_int,
        default=defaults.max_tasks,
        metavar="N",
        help="tasks per tenant (default: %(default)s)",
    )
    parser.add_argument(
        "--max-executions",
        type=_positive_int,
        default=defaults.max_executions,
        metavar="N",
        help="executions per tenant (default: %(default)s)",
    )
    parser.add_argument(
        "--max-objects",
        type=_positive_int,
        default=defaults.max_objects,
        metavar="N",
        help="tasks and executions of all tenants together (default: %(default)s)",
    )
    parser.add_argument(
        "--max-plan-steps",
        type=_positive_int,
        default=defaults.max_plan_steps,
        metavar="N",
        help="steps in one execution (the task and its dependencies); StartTask past it"
        " gets resource_exhausted (default: %(default)s)",
    )
    parser.add_argument(
        "--max-page-bytes",
        type=_positive_int,
        default=defaults.max_page_bytes,
        metavar="BYTES",
        help="estimated JSON bytes of a list page or the overview; a longer page is cut"
        " short and carries a next token (default: %(default)s)",
    )
    parser.add_argument(
        "--max-log-bytes",
        type=_positive_int,
        default=defaults.max_log_bytes,
        metavar="BYTES",
        help="bytes of one GET /_mock/logs answer; the rest is cut with a marker line"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--max-cache-bytes",
        type=_non_negative_int,
        default=DEFAULT_MAX_CACHE_BYTES,
        metavar="BYTES",
        help="encoded tasks kept for reuse, per codec (JSON, binary); freed with the task"
        " (default: %(default)s; 0 keeps none)",
    )
    connections = DEFAULT_CONNECTION_LIMITS
    parser.add_argument(
        "--header-timeout",
        type=_positive_seconds,
        default=connections.header_timeout,
        metavar="SECONDS",
        help="a connection that has not sent a whole request head this long after opening"
        " (or after a later request's first byte) is closed (default: %(default)s)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=_positive_seconds,
        default=connections.idle_timeout,
        metavar="SECONDS",
        help="a kept-alive connection idle this long between requests is closed"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive_int,
        default=connections.max_connections,
        metavar="N",
        help="open connections at most; one more is answered unavailable (503, a Connect"
        " error) and closed (default: %(default)s: 1000, or the open-file limit less 64)",
    )
    parser.add_argument(
        "--write-timeout",
        type=_positive_seconds,
        default=connections.write_timeout,
        metavar="SECONDS",
        help="a client that reads none of its response this long is disconnected"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--max-buffered-bytes",
        type=_positive_int,
        default=connections.max_buffered_bytes,
        metavar="BYTES",
        help="response bytes waiting for all clients that are not reading; past it the"
        " one holding most is disconnected (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="(default: %(default)s)"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        clock=args.clock,
        pending_delay=args.pending_delay,
        step_duration=args.step_duration,
        scenario_path=args.scenario,
        state_path=args.state,
        tokens=frozenset(args.tokens),
        admin_tokens=frozenset(args.admin_tokens),
        environments=frozenset(args.environments) or None,
        cors_origins=tuple(args.cors_origins),
        allowed_hosts=tuple(args.allowed_hosts),
        seed=args.seed,
        request_log=sys.stdout.isatty() if args.request_log is None else args.request_log,
        public_url=args.public_url,
        strict=args.strict,
        max_body_bytes=args.max_body_bytes,
        max_cache_bytes=args.max_cache_bytes,
        limits=Limits(
            max_tenants=args.max_tenants,
            max_tasks=args.max_tasks,
            max_executions=args.max_executions,
            max_objects=args.max_objects,
            max_plan_steps=args.max_plan_steps,
            max_page_bytes=args.max_page_bytes,
            max_log_bytes=args.max_log_bytes,
        ),
        log_level=args.log_level,
        connections=ConnectionLimits(
            header_timeout=args.header_timeout,
            idle_timeout=args.idle_timeout,
            max_connections=args.max_connections,
            write_timeout=args.write_timeout,
            max_buffered_bytes=args.max_buffered_bytes,
        ),
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; with ``port`` 0 the OS picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns on TCP_NODELAY only for sockets that say so,
    # and without it Nagle's algorithm and delayed ACKs cost ~40 ms per response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


# How long a stop waits for requests in flight (a scenario's latency, a client that never
# finishes its body) before cancelling them. Every acknowledged write is already in the
# --state file by then; this only bounds how long a stop can take.
GRACEFUL_SHUTDOWN_SECONDS = 3


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGHUP too, minus re-raising the stop signal after a
    graceful shutdown.

    uvicorn re-sends SIGINT/SIGTERM to itself once it has stopped, so the process would
    die by the signal; a fake server that stopped cleanly should exit with status 0.
    A second SIGINT makes uvicorn skip waiting for requests in flight: nothing is lost,
    since every write was committed when it was acknowledged.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def uvicorn_config(
    app: ASGIApp,
    log_level: str,
    *,
    access_log: bool = False,
    timeout_graceful_shutdown: int | None = None,
    connections: ConnectionLimits | None = None,
) -> uvicorn.Config:
    """How the fake (and the benchmark's bare app) runs on uvicorn.

    The event loop is uvicorn's "auto" choice: uvloop, which the package depends on, or
    asyncio where it is not installed. The HTTP protocol is uvicorn's httptools one
    (about twice the requests/s of h11) with the connection guards of
    :mod:`mockserver.http.connections` (``connections``, else their defaults). The fake
    serves no WebSockets, so uvicorn does not import a WebSocket library at start-up.
    """
    if connections is None:
        connections = DEFAULT_CONNECTION_LIMITS
    return uvicorn.Config(
        app,
        loop="auto",
        http=guarded_protocol(connections),
        timeout_keep_alive=connections.idle_timeout,  # type: ignore[arg-type]
        ws="none",
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )


def serve(config: ServerConfig, sock: socket.socket) -> None:
    """Serve ``config`` on the bound ``sock`` until told to stop."""
    # Start-up only allocates (the document, validators, a --state file's tasks): with
    # the collector on, a 100,000-task state paid for a full pass every few thousand
    # tasks, and loaded in twice the time. tune_gc collects once afterwards.
    gc.disable()
    try:
        app = create_app(config)
    finally:
        gc.enable()
    uv_config = uvicorn_config(
        app,
        config.log_level,
        access_log=config.log_level == "debug",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        connections=config.connections,
    )
    server = _Server(uv_config)
    tune_gc()
    # The bound address (what a local client uses); --public-url only shapes log URLs.
    print(f"mockserver listening on {base_url(config.host, config.port)}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        # The lifespan closes the store on a graceful stop; a forced one (a second
        # Ctrl-C) skips the lifespan, so close it here too (closing twice is harmless).
        store = app.state.store
        if store is not None:
            close_state_file(app.state.backend, store)


# A tenfold gen-0 threshold. Every stored task, execution and journal entry is a few
# long-lived dicts, so with CPython's default (700) the collector ran ever longer full
# passes as the store grew: 19% of CreateTask's time, p99 latency past 150 ms in the
# benchmark. Only the server process is tuned; an app embedded in a user's process
# (create_app, MockServer) leaves their collector alone.
_GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Take start-up objects out of the collector's sight and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["import-recording"]:
        from mockserver.recording import main as import_recording

        return import_recording(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.scenario is not None:
        try:
            Scenario.from_yaml(args.scenario.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ScenarioError) as error:
            # The message alone: the usage text argparse would print first says nothing
            # about a file whose flag was spelled right.
            print(f"mockserver: error: --scenario {args.scenario}: {error}", file=sys.stderr)
            return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s: %(name)s: %(message)s")
    # A write past the file size limit (ulimit -f) must fail with EFBIG (the --state write
    # then answers unavailable), not kill the server by SIGXFSZ. CPython ignores SIGXFSZ
    # at start-up already; said here because the promise depends on it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as error:
        print(f"mockserver: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    with sock:
        port = sock.getsockname()[1]
        config = config_from_args(args)
        if args.public_url is not None:
            config = dataclasses.replace(config, port=port)
        elif args.host in _WILDCARD_HOSTS:
            config = dataclasses.replace(
                config, port=port, public_url=base_url(args.host, port), url_from_host=True
            )
        else:
            config = dataclasses.replace(config, port=port, public_url=base_url(args.host, port))
        try:
            serve(config, sock)
        except StateFileError as error:
            print(f"mockserver: {error}", file=sys.stderr)
            return 1
    return 0
