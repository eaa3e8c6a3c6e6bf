"""Memory a loop of big tasks leaves behind: the server's RSS as cycles go by, and after
a reset. Each cycle, as in the hardening report: CreateTask with a 1.9 MB command,
ListTasks in JSON, GetTask and ListTasks in binary protobuf, DeleteTask.

    python bench/memory.py                 # 60 cycles
    python bench/memory.py --cycles 200 -- --max-cache-bytes 0

Figures only (tests/mockserver/test_render_cache.py holds the promise without a clock).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from gitpod.v1 import environment_automation_pb2 as pb  # noqa: E402
from stalls import ENV, SERVICE, TOKEN, Server  # noqa: E402

FLAGS = ["--max-tasks", "2", "--max-objects", "10", "--max-body-bytes", "2000000"]


def proto(server: Server, method: str, message: object) -> int:
    connection = http.client.HTTPConnection(server.address, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/proto"}
        connection.request("POST", f"{SERVICE}/{method}", message.SerializeToString(), headers)  # type: ignore[attr-defined]
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=60)
    parser.add_argument("fake_args", nargs="*", help="flags for the fake (after --)")
    args = parser.parse_args(argv)
    command = "x" * 1_900_000
    with tempfile.TemporaryDirectory() as directory:
        server = Server([*FLAGS, *args.fake_args], Path(directory))
        try:
            print(f"start: rss={server.rss_mb():.0f} MB")
            for cycle in range(1, args.cycles + 1):
                body = {"environmentId": ENV, "spec": {"command": command}}
                status, raw = server.rpc("CreateTask", body)
                assert status == 200, raw[:200]
                task_id = json.loads(raw)["task"]["id"]
                assert server.rpc("ListTasks", {})[0] == 200
                assert proto(server, "GetTask", pb.GetTaskRequest(id=task_id)) == 200
                assert proto(server, "ListTasks", pb.ListTasksRequest()) == 200
                assert server.rpc("DeleteTask", {"id": task_id})[0] == 200
                if cycle % 10 == 0:
                    print(f"after {cycle} cycles: rss={server.rss_mb():.0f} MB")
            server.call("POST", "/_mock/reset")
            print(f"after a reset: rss={server.rss_mb():.0f} MB")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
