"""Bearer tokens and the allow-list."""

from __future__ import annotations

import pytest

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
