"""Shared fixtures for the whole test suite."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import openapi


@pytest.fixture(scope="session")
def document() -> dict[str, Any]:
    """The committed OpenAPI document, parsed."""
    loaded: dict[str, Any] = yaml.safe_load(openapi.document_text())
    return loaded
