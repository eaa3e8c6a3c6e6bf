"""Check real HTTP exchanges against the OpenAPI document with openapi-core.

``ResponseChecker(document).check(response)`` raises :class:`ContractViolation` when an
``httpx.Response`` to one of the document's operations does not conform: an undocumented
status, a wrong content type, or a body that fails the response schema.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["ContractViolation", "HttpxRequest", "HttpxResponse", "ResponseChecker"]


class ContractViolation(AssertionError):
    """A response that the document does not allow."""


@dataclass
class HttpxRequest:
    """An ``httpx.Request`` as openapi-core's ``Request`` protocol."""

    request: httpx.Request
    host_url: str
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(self.request.url.params.multi_items())),
            header=Headers(list(self.request.headers.items())),
        )

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", "")).lower()


@dataclass
class HttpxResponse:
    """An ``httpx.Response`` as openapi-core's ``Response`` protocol."""

    response: httpx.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))

    @property
    def data(self) -> bytes:
        return self.response.content


class ResponseChecker:
    """Validates responses against ``document`` (the parsed OpenAPI document).

    Only the path and method of a request matter: the request's host is replaced by the
    document's first server, so a server on any port can be checked.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        document = copy.deepcopy(document)
        self.server_url: str = document["servers"][0]["url"]
        self.spec = OpenAPI.from_dict(document)
        self.checked = 0

    def check(self, response: httpx.Response) -> httpx.Response:
        """``response`` itself, if it conforms; :class:`ContractViolation` if not."""
        request = HttpxRequest(response.request, self.server_url)
        try:
            self.spec.validate_response(request, HttpxResponse(response))
        except Exception as error:
            details = "; ".join(str(cause) for cause in _causes(error))
            raise ContractViolation(
                f"{response.request.method} {response.request.url.path} -> "
                f"{response.status_code}: {details}\nReceived: {response.text[:2000]}"
            ) from error
        self.checked += 1
        return response


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = [error]
    schema_errors = getattr(error, "schema_errors", None)
    if schema_errors:
        chain.extend(schema_errors)
    cause = error.__cause__
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        nested = getattr(cause, "schema_errors", None)
        if nested:
            chain.extend(nested)
        cause = cause.__cause__
    return chain
