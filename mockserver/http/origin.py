"""Who may drive the fake from a web browser: cross-site request forgery and DNS rebinding.

Without ``--token`` the control routes act on every tenant, so any page open in the
developer's browser could reset the fake, move its clock or install faults with a
"simple" request (``text/plain``, no preflight). Two rules close that, for *browser*
requests only: those carrying ``Origin`` or ``Sec-Fetch-Site``, which browsers send on every
state-changing request. Requests with neither (curl, the SDKs, the pytest plugin, a CI job)
are never judged here.

- **Host** (DNS rebinding: a page of ``evil.test`` whose name now resolves to 127.0.0.1
  believes itself same-origin): the ``Host`` must be one the fake answers to: a loopback
  name (``localhost``, ``*.localhost``), an IP address (a page served from an address is
  served by the fake itself), the bound host, the ``--public-url`` host, or a host named
  with ``--allowed-host`` (``*``: any).
- **Origin** (CSRF): on ``/_mock/`` routes, an ``Origin`` must be the fake's own (the
  request's ``Host``, or ``--public-url``) or listed with ``--cors-origin``; ``*`` opens the
  API to browsers, never the control routes. A state-changing request (POST, PUT, DELETE)
  without ``Origin`` must say ``Sec-Fetch-Site: same-origin`` or ``none``.

Only ``/`` and ``/_mock/...`` pass through this guard; the API's own routes do not (every
API call acts on the tenant of the bearer token it carries, which a hostile page does not
know, and the API's hot path stays free of the check). A refusal is ``permission_denied``
(403) naming the reason and the flag that would allow it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.connect import ConnectError, error_response
from openapi.errors import Code

__all__ = ["BrowserGuard", "BrowserPolicy", "host_name"]

_CONTROL_PREFIX = "/_mock/"
_STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_SAFE_FETCH_SITES = frozenset({"same-origin", "none"})  # "none": typed, bookmarked
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def host_name(host: str) -> str:
    """The name part of a ``Host`` value or URL netloc, lowercased: ``[::1]:8080`` ->
    ``::1``, ``Localhost:80`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host  # a bare name, or a bare IPv6 address


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BrowserPolicy:
    """The hosts the fake answers to and the origins it trusts, from its settings."""

    hosts: frozenset[str]  # names, without ports; "*" for any
    origins: frozenset[str]  # scheme://host[:port] from --cors-origin and --public-url, lowercased

    @classmethod
    def build(
        cls,
        *,
        bound_host: str,
        public_url: str | None,
        allowed_hosts: Iterable[str],
        cors_origins: Iterable[str],
    ) -> BrowserPolicy:
        hosts = {host_name(host) for host in allowed_hosts}
        if host_name(bound_host) not in _WILDCARD_HOSTS:
            hosts.add(host_name(bound_host))
        origins = {origin for origin in cors_origins if origin != "*"}
        if public_url:
            parts = urlsplit(public_url)
            hosts.add(host_name(parts.netloc))
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
        return cls(frozenset(hosts), frozenset(origin.lower() for origin in origins))

    def answers_to(self, host: str) -> bool:
        """Whether a ``Host`` header names the fake."""
        name = host_name(host)
        return (
            "*" in self.hosts
            or name in self.hosts
            or name == "localhost"
            or name.endswith(".localhost")
            or _is_address(name)
        )

    def refusal(
        self, method: str, path: str, host: str, origin: str | None, fetch_site: str | None
    ) -> str | None:
        """Why this browser request is refused, or ``None`` if it may go on; call it only
        for requests with ``Origin`` or ``Sec-Fetch-Site``."""
        if not self.answers_to(host):
            return (
                f"a browser request for host {host!r} is refused: the fake does not answer"
                " to that name (a page of another site may have made it resolve here: DNS"
                f" rebinding); start it with --allowed-host {host_name(host)} to allow it"
            )
        if not path.startswith(_CONTROL_PREFIX):
            return None
        if origin is not None:
            own = (f"http://{host}".lower(), f"https://{host}".lower())
            if origin.lower() in self.origins or origin.lower() in own:
                return None
            # Any method: a preflight (OPTIONS) asks for a request that would change state,
            # and a read answered to a "*" origin would hand a tenant's data to the page.
            return (
                f"{method} {path} from a page of {origin} is refused: the control API takes"
                " browser requests only from the fake's own pages and from origins given"
                f" with --cors-origin (not *); start it with --cors-origin {origin} to allow"
                " that page"
            )
        if method in _STATE_CHANGING and (fetch_site or "").lower() not in _SAFE_FETCH_SITES:
            return (
                f"{method} {path} from a page of another site (Sec-Fetch-Site: {fetch_site})"
                " is refused: the control API takes browser requests only from the fake's"
                " own pages and from origins given with --cors-origin; start it with"
                " --cors-origin <that page's origin> to allow that page"
            )
        return None


class BrowserGuard:
    """ASGI middleware applying a :class:`BrowserPolicy` to ``/`` and ``/_mock/...``."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/" or path.startswith(_CONTROL_PREFIX)):
            host = origin = fetch_site = None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value.decode("latin-1")
                elif key == b"origin":
                    origin = value.decode("latin-1")
                elif key == b"sec-fetch-site":
                    fetch_site = value.decode("latin-1")
            if origin is not None or fetch_site is not None:
                reason = self.policy.refusal(scope["method"], path, host or "", origin, fetch_site)
                if reason is not None:
                    response = error_response(ConnectError(Code.permission_denied, reason))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
