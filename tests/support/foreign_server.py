"""Servers that are not the Ona API, as real processes, for the pre-flight's tests.

``python -m tests.support.foreign_server KIND`` serves, on a free loopback port:

- ``static``: a 200 HTML page for any method and path (a static site that takes POSTs);
- ``json``: 200 ``application/json`` for anything, echoing a JSON request body, else ``{}``
  (another JSON service that answers 200 to everything);
- ``html404``: a 404 HTML page for anything.

It prints ``Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ...`` first, as
``python -m http.server`` does, so :class:`ForeignServer` starts either the same way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.support.server_process import REPO_ROOT

__all__ = ["KINDS", "ForeignServer"]

KINDS = ("static", "json", "html404")
_PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hello</body></html>"
_BANNER = re.compile(r"\(http://([^/]+)/\)")


class _Handler(BaseHTTPRequestHandler):
    kind = "static"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.kind == "json":
            try:
                body = json.dumps(json.loads(raw)).encode()
            except ValueError:
                body = b"{}"
            self._send(200, "application/json", body)
        elif self.kind == "html404":
            self._send(404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")
        else:
            self._send(200, "text/html; charset=utf-8", _PAGE)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the tests read only the banner


def main(kind: str) -> None:
    handler = type("Handler", (_Handler,), {"kind": kind})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    print(f"Serving HTTP on 127.0.0.1 port {port} (http://127.0.0.1:{port}/) ...", flush=True)
    server.serve_forever()


class ForeignServer:
    """``with ForeignServer("json") as url:``; kind ``http.server`` runs the stdlib's own."""

    def __init__(self, kind: str, directory: str) -> None:
        if kind == "http.server":
            args = ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory]
        else:
            args = ["-m", "tests.support.foreign_server", kind]
        self._process = subprocess.Popen(
            [sys.executable, "-u", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO_ROOT,
        )

    def __enter__(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        found = _BANNER.search(line)
        if found is None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"no URL in the server's first line: {line!r}")
        return f"http://{found.group(1)}"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "static")
