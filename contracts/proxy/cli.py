"""``python -m contracts proxy --upstream URL``: serve the validating proxy until stopped.

Exit status: 1 when any server violation was seen, 0 otherwise (client violations do not
fail the run: they are the client's), 2 for a setup problem, with one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import httpx
import uvicorn

from contracts.document import load_document
from contracts.proxy.app import ProxyApp
from contracts.proxy.judge import SERVER, Judge
from contracts.proxy.violations import ViolationLog
from contracts.record import Recorder
from contracts.report import EXIT_FAILED, EXIT_NO_VERDICT, EXIT_OK

__all__ = ["BANNER", "main"]

BANNER = "contracts proxy listening on "
_PREFLIGHT_TIMEOUT = 10.0


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text.rstrip("/")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 65535")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts proxy",
        description="A validating proxy: forwards every call to the upstream and judges each "
        "exchange with the contract suite's checks. Exit status 1 if the upstream broke the "
        "contract, 0 if not, 2 for a setup problem.",
    )
    parser.add_argument("--upstream", type=_url, required=True, help="e.g. https://staging.example")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=_port, default=8090, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report at exit")
    parser.add_argument(
        "--record", metavar="FILE", help="append every exchange to FILE (JSON Lines)"
    )
    parser.add_argument(
        "--schema", metavar="PATH_OR_URL", help="OpenAPI document instead of the committed one"
    )
    return parser


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal once stopped: the proxy still has
    a summary to print and an exit status to give."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets (no Nagle delays).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def _preflight(upstream: str) -> str | None:
    """Why the upstream cannot be reached (one request, any answer will do), or None."""
    try:
        httpx.get(upstream + "/", timeout=_PREFLIGHT_TIMEOUT)
    except httpx.HTTPError as error:
        return f"cannot reach the upstream {upstream}: {error or type(error).__name__}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="contracts proxy: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per forwarded call

    def fail(message: str) -> int:
        print(f"contracts proxy: error: {message}", file=sys.stderr)
        return EXIT_NO_VERDICT

    try:
        document = load_document(args.schema)
    except (OSError, ValueError, httpx.HTTPError) as error:
        return fail(f"cannot read the document: {error}")
    problem = _preflight(args.upstream)
    if problem is not None:
        return fail(problem)
    try:
        recorder = Recorder(args.record) if args.record else None
    except OSError as error:
        return fail(f"cannot write --record {args.record}: {error.strerror or error}")
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        return fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    log = ViolationLog()
    app = ProxyApp(args.upstream, Judge(document), log, recorder)
    # The upstream's Date and Server headers are forwarded; uvicorn must not add its own.
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        date_header=False,
    )
    server = _Server(config)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"{BANNER}http://{shown}:{port} -> {args.upstream}", flush=True)
    try:
        with sock:
            server.run(sockets=[sock])
    finally:
        if recorder is not None:
            recorder.close()
    print(log.summary(), flush=True)
    if args.junit_xml:
        log.write_junit(args.junit_xml)
    return EXIT_FAILED if log.counts[SERVER] else EXIT_OK
