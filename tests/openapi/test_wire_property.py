"""JSON generated from each request schema parses into the official request message.

The schemas are closed for generation (no extra properties, no unknown enum names), and
the official parser runs without ``ignore_unknown_fields``: a field name or shape that
differs from the wire would raise here.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from gitpod.v1 import environment_automation_pb2  # noqa: F401  (registers the descriptors)
from google.protobuf import descriptor_pool, json_format, message_factory
from hypothesis import HealthCheck, given, settings

from openapi.methods import METHODS, RpcMethod


def _closed(node: Any) -> Any:
    """A copy of a schema that admits only declared names and documented enum names."""
    if isinstance(node, dict):
        # A `not` keeps its meaning only if left as it is: closing it would weaken it.
        node = {key: value if key == "not" else _closed(value) for key, value in node.items()}
        kind = node.get("type")
        is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
        if "properties" in node or (is_object and "additionalProperties" not in node):
            node["additionalProperties"] = False
        if "anyOf" in node:
            node["anyOf"] = [option for option in node["anyOf"] if option != {"type": "string"}]
        return node
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


def _request_schema(document: dict[str, Any], method: RpcMethod) -> dict[str, Any]:
    """The closed request schema of ``method``, with every component it refers to."""
    components = _closed(copy.deepcopy(document["components"]))
    return {"$ref": f"#/components/schemas/{method.request.__name__}", "components": components}


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_generated_request_json_parses_into_the_official_message(
    document: dict[str, Any], method: RpcMethod
) -> None:
    message_class = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(method.request.__proto_name__)
    )
    closed = {**document, "components": _closed(copy.deepcopy(document["components"]))}
    operation = schemathesis.openapi.from_dict(closed)[method.path]["POST"]
    # Generators approximate `not`, so a generated body is first checked by the same
    # validator the server compiles; only bodies the document admits count.
    validator = jsonschema_rs.validator_for(_request_schema(document, method))
    strategy = operation.as_strategy().map(lambda case: case.body).filter(validator.is_valid)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(body=strategy)
    def parses(body: Any) -> None:
        json_format.ParseDict(body, message_class(), ignore_unknown_fields=False)

    parses()


def test_closing_the_schema_really_rejects_unknown_names(document: dict[str, Any]) -> None:
    """Guards the property above: the closed schema must not admit a misspelt field."""
    schema = _request_schema(document, METHODS[0])
    validator = jsonschema_rs.validator_for(schema)
    body = {"environmentId": "d2c94c27-3b76-4a42-b88c-95a85e392c68"}
    assert validator.is_valid(body)
    assert not validator.is_valid({**body, "environment_idd": "x"})
