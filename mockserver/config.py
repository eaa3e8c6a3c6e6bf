"""The server's settings: one frozen value, built by the CLI or by hand."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mockserver.domain.limits import DEFAULT_LIMITS, Limits
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES
from mockserver.http.connections import DEFAULT_CONNECTION_LIMITS, ConnectionLimits
from mockserver.http.journal import DEFAULT_JOURNAL_SIZE
from mockserver.http.render_cache import DEFAULT_MAX_CACHE_BYTES

__all__ = ["ClockKind", "ServerConfig"]

ClockKind = Literal["real", "manual"]


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """How to run the fake. Defaults match the CLI's."""

    host: str = "127.0.0.1"
    port: int = 8080
    clock: ClockKind = "real"
    pending_delay: float = 1.0
    step_duration: float = 2.0
    scenario_path: Path | None = None
    state_path: Path | None = None
    tokens: frozenset[str] = frozenset()  # empty: any non-empty bearer token is accepted
    admin_tokens: frozenset[str] = frozenset()  # the operator's: the control API, globally
    environments: frozenset[str] | None = None  # None: any environment id exists
    cors_origins: tuple[str, ...] = ()  # browser origins allowed; "*" for any; () off
    # Host names browser requests to the control routes may carry besides loopback names,
    # IP addresses, the bound host and the public URL's ("*": any); see http/origin.py.
    allowed_hosts: tuple[str, ...] = ()
    seed: int | None = None  # repeatable ids per tenant (and fault rolls)
    request_log: bool = False  # one line per API call on stdout
    strict: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    journal_size: int = DEFAULT_JOURNAL_SIZE
    max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES  # encoded tasks kept, per codec
    # Timeouts and bounds of client connections (used when served by the CLI).
    connections: ConnectionLimits = DEFAULT_CONNECTION_LIMITS
    limits: Limits = DEFAULT_LIMITS  # tenants, tasks and executions kept at most
    log_level: str = "info"
    public_url: str | None = None  # base of log URLs; None: derived from host and port
    # Base log URLs on each request's Host header (for a server bound to a wildcard
    # address without --public-url, whose own address means nothing to a client).
    url_from_host: bool = False

    def __post_init__(self) -> None:
        if self.clock not in ("real", "manual"):
            raise ValueError(f"clock must be 'real' or 'manual', got {self.clock!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        for name in ("pending_delay", "step_duration"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be at least 1, got {self.max_body_bytes}")
        if self.max_cache_bytes < 0:
            raise ValueError(f"max_cache_bytes must be >= 0, got {self.max_cache_bytes}")
        if self.journal_size < 1:
            raise ValueError(f"journal_size must be at least 1, got {self.journal_size}")
        for tokens in (self.tokens, self.admin_tokens):
            if any(not token or token != token.strip() for token in tokens):
                raise ValueError("tokens must be non-empty and carry no surrounding whitespace")

    @property
    def url(self) -> str:
        """The base URL clients use: ``public_url``, else ``http://<host>:<port>``."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return base_url(self.host, self.port)


def base_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 literal in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"
