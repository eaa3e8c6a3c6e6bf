"""Garbage of every kind, on every route, never gets a 5xx.

Hypothesis builds hostile requests the way a fuzzer or a careless script would: raw bytes,
JSON nested thousands deep, numbers of thousands of digits, broken UTF-8, broken gzip,
broken protobuf, made-up page tokens and bearer tokens, odd query strings and headers,
the control routes, integers beyond 64 bits in scenarios and imports, and browser headers
(``Origin``, ``Sec-Fetch-Site``, ``Host``) of every kind. Every answer must be a Connect
error (or a success), never a 5xx other than the 501 ``unimplemented`` Connect prescribes
for an unknown compression; the tenant's journal and the whole state export must still
render afterwards; and a control request answered with an error changed nothing. The
fake runs with ``--state``, so every write also goes through the state file.
"""

from __future__ import annotations

import base64
import gzip
import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app
from mockserver.config import ServerConfig
from openapi.methods import METHODS
from tests.support.asgi import SERVICE_PATH, AsgiClient

_ADMIN = "fuzz-operator"
_STATE_DIR = tempfile.TemporaryDirectory(prefix="garbage-fuzz-")  # removed at exit
_CLIENT = AsgiClient(
    create_app(
        ServerConfig(
            clock="manual",
            max_body_bytes=64 * 1024,
            admin_tokens=frozenset({_ADMIN}),
            state_path=Path(_STATE_DIR.name) / "state.db",
        )
    )
)

_METHOD_NAMES = [method.name for method in METHODS]
_FIELDS = ["id", "filter", "pagination", "metadata", "spec", "dependsOn", "x", "environmentId"]
_CONTENT_TYPES = ["application/json", "application/proto", "application/json; charset=utf-8"]

Request = tuple[str, str, bytes, dict[str, str]]


def _nested(depth: int, opener: str) -> str:
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@st.composite
def _deep_json(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=90, max_value=3000))
    field = draw(st.sampled_from(_FIELDS))
    return f'{{"{field}": {_nested(depth, draw(st.sampled_from("[{")))}}}'.encode()


@st.composite
def _huge_number_json(draw: st.DrawFn) -> bytes:
    digits = draw(st.integers(min_value=300, max_value=6000))
    number = draw(
        st.sampled_from(
            ["9" * digits, "-" + "9" * digits, "1e308", "-1e400", "1e-400", "0." + "1" * digits]
        )
    )
    field = draw(st.sampled_from(["pagination", "filter", "metadata", "spec"]))
    inner = draw(st.sampled_from(["pageSize", "phases", "token", "x"]))
    return f'{{"{field}": {{"{inner}": {number}}}}}'.encode()


@st.composite
def _bad_utf8_json(draw: st.DrawFn) -> bytes:
    junk = draw(st.binary(min_size=1, max_size=8).filter(lambda b: not _is_utf8(b)))
    return b'{"id": "' + junk + b'", "metadata": {"name": "\\ud800"}}'


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@st.composite
def _page_token(draw: st.DrawFn) -> str:
    raw = draw(
        st.one_of(
            st.binary(max_size=64),
            st.builds(lambda n: b"[" * n, st.integers(min_value=1, max_value=4000)),
            st.builds(
                lambda n, k: json.dumps(["tasks", n, k]).encode(),
                st.integers(min_value=-(2**80), max_value=2**80),
                st.text(max_size=10),
            ),
        )
    )
    token: str = draw(st.sampled_from([base64.urlsafe_b64encode(raw).decode(), raw.hex(), ""]))
    return token


@st.composite
def _api_request(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(_METHOD_NAMES))
    kind = draw(st.sampled_from(["raw", "deep", "huge", "utf8", "token", "gzip", "proto"]))
    headers = {"Content-Type": draw(st.sampled_from(_CONTENT_TYPES))}
    body: bytes
    if kind == "raw":
        body = draw(st.binary(max_size=200))
    elif kind == "deep":
        body = draw(_deep_json())
    elif kind == "huge":
        body = draw(_huge_number_json())
    elif kind == "utf8":
        body = draw(_bad_utf8_json())
    elif kind == "token":
        token = draw(_page_token())
        body = json.dumps({"pagination": {"token": token, "pageSize": 5}}).encode()
        headers["Content-Type"] = "application/json"
    elif kind == "gzip":
        payload = draw(st.binary(max_size=100))
        members = draw(st.integers(min_value=0, max_value=3000))
        body = draw(
            st.sampled_from(
                [
                    payload,
                    gzip.compress(payload)[: draw(st.integers(min_value=0, max_value=40))],
                    gzip.compress(b"") * members + gzip.compress(b"{}"),
                    gzip.compress(b"{}") + payload,
                ]
            )
        )
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "GZIP", "br", "gzip, gzip"]))
    else:
        # Valid protobuf framing with random field numbers and wire types.
        body = draw(st.binary(max_size=80))
        headers["Content-Type"] = "application/proto"
    extra = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "Connect-Timeout-Ms",
                    "Connect-Protocol-Version",
                    "Accept-Encoding",
                    "Content-Length",
                ]
            ),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
            max_size=2,
        )
    )
    headers.update({k: v for k, v in extra.items() if k != "Content-Length" or v.isdigit()})
    authorization = draw(
        st.one_of(
            st.none(),
            st.sampled_from(
                ["Bearer", "Bearer ", "Basic abc", "bearer  x ", "Bearer " + "t" * 8000]
            ),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        )
    )
    if authorization is not None:
        headers["Authorization"] = authorization
    query = draw(_query())
    return "POST", f"{SERVICE_PATH}/{method}{query}", body, headers


@st.composite
def _query(draw: st.DrawFn) -> str:
    names = ["pageSize", "page_size", "token", "pagination.pageSize", "encoding", "message"]
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(names),
                st.one_of(
                    st.text(max_size=20),
                    st.sampled_from(["\u00b2", "\u0663", "9" * 5000, "-1", "1e9", "0x10"]),
                ),
            ),
            max_size=3,
        )
    )
    if not pairs:
        return ""
    return "?" + "&".join(f"{quote(name)}={quote(value)}" for name, value in pairs)


@st.composite
def _get_request(draw: st.DrawFn) -> Request:
    method = draw(
        st.sampled_from(["GetTask", "ListTasks", "GetTaskExecution", "ListTaskExecutions"])
    )
    params = {
        "connect": draw(st.sampled_from(["v1", "v2", ""])),
        "encoding": draw(st.sampled_from(["json", "proto", "xml", ""])),
        "message": draw(st.one_of(st.text(max_size=40), st.sampled_from(["[" * 2000, "{}"]))),
        "base64": draw(st.sampled_from(["1", "0", "x"])),
        "compression": draw(st.sampled_from(["gzip", "identity", "br"])),
    }
    query = "&".join(f"{name}={quote(value)}" for name, value in params.items())
    return "GET", f"{SERVICE_PATH}/{method}?{query}", b"", {}


@st.composite
def _control_request(draw: st.DrawFn) -> Request:
    route = draw(
        st.sampled_from(
            [
                ("PUT", "/_mock/scenario"),
                ("POST", "/_mock/clock/advance"),
                ("PUT", "/_mock/state"),
                ("POST", "/_mock/reset"),
                ("GET", "/_mock/logs/x"),
                ("GET", "/_mock/scenario"),
                ("DELETE", "/_mock/requests"),
                ("POST", "/_mock/requests/find"),
                ("POST", "/_mock/requests/count"),
                ("DELETE", "/_mock/scenario"),
            ]
        )
    )
    body = draw(
        st.one_of(
            st.binary(max_size=120),
            st.builds(lambda n: b"[" * n, st.integers(min_value=1, max_value=5000)),
            st.builds(
                lambda pattern: json.dumps({"rules": [{"match": {"name": pattern}}]}).encode(),
                st.one_of(
                    st.text(max_size=30),
                    st.sampled_from(["[" * 500, "a{99999999999}", "^(a+)+$", "(?<=a)b"]),
                ),
            ),
            st.builds(
                lambda doc: json.dumps(doc).encode(),
                st.fixed_dictionaries(
                    {"version": st.sampled_from([1, 2]), "clock": st.text(max_size=30)}
                ),
            ),
            st.builds(
                lambda seconds: json.dumps({"rules": [{"duration": seconds}]}).encode(),
                st.sampled_from([1e308, 1e12, -1, 10**400]),
            ),
            st.builds(
                lambda key, value: f"faults: [{{code: unavailable, {key}: {value}}}]".encode(),
                st.sampled_from(["latency", "jitter", "times", "rate", "seed", "retry_after"]),
                st.sampled_from(["1" + "0" * 400, "1" + "0" * 5000, "1e308", ".nan", "-1"]),
            ),
            st.builds(
                lambda value: f"faults: [{{rate_limit: {{requests: 1, per: {value}}}}}]".encode(),
                st.sampled_from(["1" + "0" * 400, "1" + "0" * 5000, ".inf", "0"]),
            ),
            st.builds(
                lambda method, code, path, pattern: json.dumps(
                    {"method": method, "code": code, "match": {path: pattern}}
                ).encode(),
                st.one_of(st.text(max_size=12), st.sampled_from(["GetTask", "*", None, 5])),
                st.one_of(st.text(max_size=12), st.sampled_from(["ok", "not_found", None, []])),
                st.one_of(st.text(max_size=20), st.sampled_from(["a..b", ".", "id", "x" * 5000])),
                st.one_of(
                    st.text(max_size=30),
                    st.sampled_from(["[" * 500, "a{99999999999}", "^(a+)+$", "(?<=a)b", 7]),
                ),
            ),
            st.builds(
                lambda seconds: json.dumps({"seconds": seconds}).encode(),
                st.one_of(
                    st.sampled_from([1e308, 1e12, 3e11, -1, 10**400, "5", None]),
                    st.floats(allow_nan=False),
                    st.integers(),
                ),
            ),
        )
    )
    method, path = route
    if path.startswith("/_mock/logs/"):
        path = "/_mock/logs/" + quote(draw(st.text(min_size=1, max_size=40)), safe="")
    return method, path, body, {}


# Integers a scenario or an import may try to smuggle past 64 bits (and just inside).
_HUGE = [2**63, 2**64, -(2**63) - 1, 10**23, -(10**23), 10**400, 2**63 - 1, -(2**63)]


@st.composite
def _huge_integer_request(draw: st.DrawFn) -> Request:
    huge = draw(st.sampled_from(_HUGE))
    # A fault the rest of the run can live with, should a value just inside 64 bits put it
    # in force: it answers one method, with a 4xx.
    fault: dict[str, Any] = {"method": "StopTaskExecution", "code": "aborted"}
    key = draw(st.sampled_from(["times", "seed", "retry_after", "requests", "rate", "latency"]))
    if key == "requests":
        fault = {"method": "StopTaskExecution", "rate_limit": {"requests": huge, "per": 1}}
    else:
        fault[key] = huge
    scenario = {"faults": [fault]}
    where = draw(st.sampled_from(["scenario", "import", "execution"]))
    token = draw(st.sampled_from([_ADMIN, "fuzz-tenant"]))
    headers = {"Authorization": f"Bearer {token}"}
    if where == "scenario":
        return "PUT", "/_mock/scenario", json.dumps(scenario).encode(), headers
    tenant: dict[str, Any] = {"scenario": scenario}
    if where == "execution":
        step = {"id": _ID, "taskId": _ID, "duration": huge}
        execution = {
            "id": _ID,
            "taskId": _ID,
            "environmentId": _ID,
            "createdAt": "2026-01-01T00:00:00Z",
            "pendingDelay": draw(st.sampled_from([huge, 1])),
            "plan": [{"steps": [step]}],
        }
        tenant = {"executions": [execution]}
    document = {"version": 1, "tenants": {"t": tenant}}
    return "PUT", "/_mock/state", json.dumps(document).encode(), headers


_ID = "00000000-0000-4000-8000-000000000001"
_PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


@st.composite
def _browser_request(draw: st.DrawFn) -> Request:
    """A request as a hostile page (or a confused proxy) would send it to the control
    routes and the web view."""
    method, path = draw(
        st.sampled_from(
            [
                ("POST", "/_mock/reset"),
                ("POST", "/_mock/clock/advance"),
                ("PUT", "/_mock/scenario"),
                ("PUT", "/_mock/state"),
                ("DELETE", "/_mock/requests"),
                ("OPTIONS", "/_mock/scenario"),
                ("GET", "/_mock/state"),
                ("GET", "/_mock/ui"),
                ("GET", "/"),
            ]
        )
    )
    headers: dict[str, str] = {}
    origin = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["http://evil.example", "null", "http://testserver", "", "*"]),
            st.text(alphabet=_PRINTABLE, max_size=30),
        )
    )
    if origin is not None:
        headers["Origin"] = origin
    site = draw(st.sampled_from([None, "cross-site", "same-site", "same-origin", "none", "x"]))
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    host = draw(
        st.one_of(
            st.sampled_from(["testserver", "evil.example:80", "[::1]:1", "[", "a:b:c", ":"]),
            st.text(alphabet=_PRINTABLE, max_size=30),
        )
    )
    headers["Host"] = host
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "PUT"
    body = draw(
        st.sampled_from(
            [
                b'{"seconds": 5}',
                b'{"faults": [{"method": "StopTaskExecution", "code": "aborted"}]}',
                b'{"version": 1, "tenants": {}}',
                b"{}",
            ]
        )
    )
    return method, path, body, headers


def _whole_state() -> Any:
    response = _CLIENT.request("GET", "/_mock/state", token=_ADMIN)
    assert response.status_code == 200, response.text[:300]
    return response.json()


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    request=st.one_of(
        _api_request(),
        _get_request(),
        _control_request(),
        _huge_integer_request(),
        _browser_request(),
    )
)
def test_garbage_on_any_route_never_gets_a_5xx(request: Request) -> None:
    method, path, body, headers = request
    control = path.startswith("/_mock/") and method != "GET"
    before = _whole_state() if control else None
    response = _CLIENT.request(method, path, content=body, headers=headers)
    status = response.status_code
    if status >= 400:  # (a path that dot-segments turn into a directory gets a redirect)
        assert response.headers.get("content-type") == "application/json", (status, method, path)
        error: dict[str, Any] = response.json()
        assert isinstance(error["code"], str)
        # The one 5xx Connect prescribes: 501 for a compression the server does not speak.
        allowed = status < 500 or (status == 501 and error["code"] == "unimplemented")
        assert allowed, (status, response.text[:300])
    journal = _CLIENT.request("GET", "/_mock/requests")
    assert journal.status_code == 200, journal.text[:300]
    after = _whole_state()  # never a 500, whatever got in
    if control and status >= 400:
        assert after == before, (status, method, path, response.text[:300])
