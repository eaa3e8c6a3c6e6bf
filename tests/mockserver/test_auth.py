"""Bearer tokens and the allow-list."""

from __future__ import annotations

import pytest

from mockserver.http import auth as auth_module
from mockserver.http.auth import Authenticator, bearer_token
from mockserver.http.connect import ConnectError
from openapi.errors import Code


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Bearer a b", "a b"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic abc", None),
        ("", None),
        (None, None),
    ],
)
def test_auth_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_auth_allow_list() -> None:
    auth = Authenticator({"alice"})
    assert auth.caller("Bearer alice").token == "alice"
    with pytest.raises(ConnectError) as caught:
        auth.caller("Bearer bob")
    assert caught.value.code is Code.unauthenticated
    assert caught.value.http_status == 401


def test_auth_optional_caller() -> None:
    auth = Authenticator()
    assert auth.optional_caller(None) is None
    assert auth.optional_caller("  ") is None
    caller = auth.optional_caller("Bearer x")
    assert caller is not None
    assert caller.token == "x"
    with pytest.raises(ConnectError):
        auth.optional_caller("Basic x")


def test_auth_keeps_one_caller_per_token_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token's caller (and what it derives from the token) is made once; the callers
    kept are bounded in number and token length, since without --token any token goes."""
    monkeypatch.setattr(auth_module, "_CALLERS_KEPT", 3)
    auth = Authenticator()
    alice = auth.caller("Bearer alice")
    assert auth.caller("Bearer  alice ") is alice
    assert alice.subject is alice.subject  # the creator dict is made once per caller
    long_token = "t" * (auth_module._KEPT_TOKEN_CHARS + 1)
    assert auth.caller(f"Bearer {long_token}") is not auth.caller(f"Bearer {long_token}")
    for name in ("bob", "carol", "dave", "erin"):
        assert auth.caller(f"Bearer {name}").token == name
        assert len(auth._callers) <= 3
        assert len(auth._by_header) <= 3
    assert auth.caller("Bearer alice") == alice  # made again, the same caller
