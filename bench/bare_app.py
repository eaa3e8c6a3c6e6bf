"""The benchmark's baseline: a minimal Starlette app with one POST route.

``POST /bench`` reads the request body and answers ``{"ok": true}``. It is served exactly as
the fake is (``mockserver.cli``): the same listening socket (``bind_socket``, TCP_NODELAY),
one uvicorn process with the fake's ``uvicorn_config`` (so the same event loop and HTTP
parser: uvloop and httptools when installed, as the package's dependencies make them).

Run from the repository root (``bench/run.py`` does this)::

    PYTHONPATH=. python bench/bare_app.py --port 0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.cli import bind_socket, uvicorn_config
from mockserver.config import base_url

__all__ = ["app", "main"]


async def bench(request: Request) -> Response:
    await request.body()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/bench", bench, methods=["POST"])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bare Starlette baseline for bench/run.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as error:
        print(f"bare_app: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    with sock:
        url = base_url(args.host, sock.getsockname()[1])
        server = uvicorn.Server(uvicorn_config(app, "info"))
        print(f"bare app listening on {url}", flush=True)
        server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
