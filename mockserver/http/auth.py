"""Bearer-token authentication: the token names the caller and its tenant."""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.domain import Caller
from mockserver.http.connect import ConnectError
from openapi.errors import Code

__all__ = ["Authenticator", "bearer_token"]


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
    otherwise only the listed ones are.
    """

    def __init__(self, allowed_tokens: Iterable[str] = ()) -> None:
        self.allowed = frozenset(allowed_tokens)

    def caller(self, authorization: str | None) -> Caller:
        """The caller, or ``ConnectError(unauthenticated)``."""
        token = bearer_token(authorization)
        if token is None:
            raise ConnectError(
                Code.unauthenticated, "missing bearer token (Authorization: Bearer <token>)"
            )
        if self.allowed and token not in self.allowed:
            raise ConnectError(Code.unauthenticated, "the bearer token is not accepted")
        return Caller(token)

    def optional_caller(self, authorization: str | None) -> Caller | None:
        """The caller when a token is given (it must then be valid), else ``None``."""
        if authorization is None or not authorization.strip():
            return None
        return self.caller(authorization)
