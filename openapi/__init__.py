"""Models of the Ona task automation API and the OpenAPI 3.1 document generated from them."""

from __future__ import annotations

from importlib import resources

from openapi.errors import HTTP_STATUS, Code
from openapi.generator import DOCUMENT_PATH, build_document, render_document
from openapi.methods import METHODS, METHODS_BY_NAME, SERVICE, Idempotency, RpcMethod

__all__ = [
    # the committed document
    "DOCUMENT_PATH",
    # errors
    "HTTP_STATUS",
    # the method table
    "METHODS",
    "METHODS_BY_NAME",
    "SERVICE",
    "Code",
    "Idempotency",
    "RpcMethod",
    # generation
    "build_document",
    "document_text",
    "render_document",
]


def document_text() -> str:
    """The committed OpenAPI document (YAML), as installed with the package."""
    return resources.files("openapi").joinpath("openapi.yaml").read_text(encoding="utf-8")
