"""Fixtures of the HTTP-layer tests: an app on a manual clock and an in-process client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.config import ServerConfig
from tests.support.asgi import AsgiClient

AppFactory = Callable[..., Starlette]


@pytest.fixture
def make_app() -> AppFactory:
    """``make_app(**ServerConfig fields)``: an app on a manual clock unless told otherwise."""

    def make(**settings: Any) -> Starlette:
        settings.setdefault("clock", "manual")
        return create_app(ServerConfig(**settings))

    return make


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    return make_app()


@pytest.fixture
def client(app: Starlette) -> AsgiClient:
    return AsgiClient(app)
