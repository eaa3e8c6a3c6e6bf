"""The web view: a page, its stylesheet and its script modules, shipped in the package, under
``/_mock/ui``.

The page is static; the browser fetches the data with the tenant's bearer token from the
control API and the API itself, so the view follows exactly the rules every other client
follows. The files are read once, when the app is built. ``GET /`` redirects here.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mockserver.http.connect import ConnectError
from openapi.errors import Code

__all__ = ["ASSETS", "UI_PATH", "ui_routes"]

UI_PATH: Final = "/_mock/ui"

_SCRIPT: Final = "text/javascript; charset=utf-8"
# The page, its stylesheet and its script: app.js and the modules it imports, one per part
# of the page (no build step joins them).
ASSETS: Final = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": _SCRIPT,
    "api.js": _SCRIPT,
    "dom.js": _SCRIPT,
    "executions.js": _SCRIPT,
    "journal.js": _SCRIPT,
    "scenario.js": _SCRIPT,
    "state.js": _SCRIPT,
    "tasks.js": _SCRIPT,
}

# Only the page's own files run or load: an injected <script> or inline handler in data
# that slipped past the page's escaping still cannot execute, and nothing goes elsewhere.
_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    # The token may sit in the page's URL fragment for a moment; never send it on.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _read_assets() -> dict[str, bytes]:
    folder = resources.files("mockserver") / "ui"
    return {name: (folder / name).read_bytes() for name in ASSETS}


def ui_routes() -> list[Route]:
    """``GET /`` (a redirect), ``GET /_mock/ui`` (the page) and ``GET /_mock/ui/<asset>``."""
    files = _read_assets()

    def serve(name: str) -> Response:
        return Response(files[name], media_type=ASSETS[name], headers=_HEADERS)

    async def root(request: Request) -> Response:
        return RedirectResponse(UI_PATH, status_code=302)

    async def page(request: Request) -> Response:
        return serve("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files:
            raise ConnectError(Code.not_found, f"no such file in the web view: {name}")
        return serve(name)

    return [
        Route("/", root, methods=["GET"]),
        Route(UI_PATH, page, methods=["GET"]),
        Route(UI_PATH + "/", page, methods=["GET"]),
        Route(UI_PATH + "/{name}", asset, methods=["GET"]),
    ]
