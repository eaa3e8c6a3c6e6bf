"""Verification over what the official SDK sent (binary protobuf, gzip, Connect GET)."""

from __future__ import annotations

import contextlib

import httpx
import ona_sdk
import pytest
from gitpod.v1 import environment_automation_pb2 as pb

from mockserver.testing import MockClient
from tests.e2e.conftest import SERVICE
from tests.support.factories import ENV, MISSING
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def test_verification_sees_the_sdks_binary_calls_as_json(server: ServerProcess) -> None:
    token = "e2e-verify-sdk"
    sdk = ona_sdk.create_client(api_key=token, base_url=server.url).services.environment_automation
    try:
        sdk.create_task(
            pb.CreateTaskRequest(
                environment_id=ENV,
                metadata=pb.TaskMetadata(name="Build", reference="verify-build"),
                spec=pb.TaskSpec(command="make"),
            )
        )
        with contextlib.suppress(Exception):
            sdk.get_task(pb.GetTaskRequest(id=MISSING))
    finally:
        sdk.close()
    with contextlib.closing(MockClient(server.url, token)) as client:
        (entry,) = client.verify(
            "CreateTask", match={"metadata.reference": "^verify-build$", "environmentId": ENV}
        )
        assert entry["request"]["spec"] == {"command": "make"}
        client.verify("GetTask", code="not_found", match={"id": "^0{8}-"}, times=1)
        with pytest.raises(AssertionError, match='was "verify-build"'):
            client.verify("CreateTask", match={"metadata.reference": "^other$"})
        # Another tenant sees none of it.
        with contextlib.closing(MockClient(server.url, "e2e-verify-other")) as other:
            assert other.count() == 0


def test_verification_over_raw_http(server: ServerProcess) -> None:
    headers = {"Authorization": "Bearer e2e-verify-raw"}
    get = httpx.get(
        f"{server.url}{SERVICE}/GetTask",
        params={"connect": "v1", "encoding": "json", "message": f'{{"id": "{MISSING}"}}'},
        headers=headers,
    )
    assert get.status_code == 404
    found = httpx.post(
        f"{server.url}/_mock/requests/find",
        json={"method": "GetTask", "match": {"id": MISSING}},
        headers=headers,
    )
    assert found.status_code == 200
    assert [entry["request"] for entry in found.json()["requests"]] == [{"id": MISSING}]
    bad = httpx.post(f"{server.url}/_mock/requests/count", json={"code": 5}, headers=headers)
    assert bad.status_code == 400 and bad.json()["message"].startswith("code:")
