"""Bearer-token authentication: the token names the caller and its tenant."""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.domain import Caller
from mockserver.http.connect import ConnectError
from openapi.errors import Code

__all__ = ["ADMIN", "Admin", "Authenticator", "bearer_token"]


class Admin:
    """The operator: an ``--admin-token`` on the control API, acting on every tenant."""

    def __repr__(self) -> str:
        return "ADMIN"


ADMIN = Admin()

# The callers remembered (at most this many, of tokens at most this long: 4 MiB at worst).
_CALLERS_KEPT = 4096
_KEPT_TOKEN_CHARS = 1024
_KEPT_HEADER_CHARS = _KEPT_TOKEN_CHARS + 16  # "Bearer " and some spaces around it


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or ``None``."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Caller`.

    With an empty allow-list every non-empty token is accepted (each is its own tenant);
    otherwise only the listed ones are. Admin tokens count only on the control API.
    """

    def __init__(
        self, allowed_tokens: Iterable[str] = (), admin_tokens: Iterable[str] = ()
    ) -> None:
        self.allowed = frozenset(allowed_tokens)
        self.admins = frozenset(admin_tokens)
        # One Caller per token, so what it derives from the token is worked out once.
        self._callers: dict[str, Caller] = {}
        # The same by the whole Authorization header, as it came (only accepted ones).
        self._by_header: dict[str, Caller] = {}

    @property
    def restricted(self) -> bool:
        """Whether ``--token`` limits who may call (then no control change is anonymous)."""
        return bool(self.allowed)

    def caller(self, authorization: str | None) -> Caller:
        """The caller, or ``ConnectError(unauthenticated)``."""
        if authorization is not None:
            # A client sends the same header on every call: skip reading it again.
            known = self._by_header.get(authorization)
            if known is not None:
                return known
        token = bearer_token(authorization)
        if token is None:
            raise ConnectError(
                Code.unauthenticated, "missing bearer token (Authorization: Bearer <token>)"
            )
        if self.allowed and token not in self.allowed:
            raise ConnectError(Code.unauthenticated, "the bearer token is not accepted")
        caller = self._callers.get(token)
        if caller is None:
            caller = Caller(token)
            if len(token) <= _KEPT_TOKEN_CHARS:
                if len(self._callers) >= _CALLERS_KEPT:  # without --token, any token goes
                    self._callers.clear()
                self._callers[token] = caller
        assert authorization is not None  # a token came from it
        if len(token) <= _KEPT_TOKEN_CHARS and len(authorization) <= _KEPT_HEADER_CHARS:
            if len(self._by_header) >= _CALLERS_KEPT:
                self._by_header.clear()
            self._by_header[authorization] = caller
        return caller

    def optional_caller(self, authorization: str | None) -> Caller | None:
        """The caller when a token is given (it must then be valid), else ``None``."""
        if authorization is None or not authorization.strip():
            return None
        return self.caller(authorization)

    def control_identity(self, authorization: str | None) -> Caller | Admin | None:
        """Who acts on the control API: a tenant, the operator (an admin token), or
        nobody (no token). A given token must be valid."""
        if authorization is None or not authorization.strip():
            return None
        token = bearer_token(authorization)
        if token is not None and token in self.admins:
            return ADMIN
        return self.caller(authorization)
