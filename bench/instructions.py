"""Instructions and simulated cache misses per CreateTask, counted by callgrind.

Wall-clock figures on a shared machine swing by more than a change of a few percent; an
instruction count does not: two runs of the same code agree to ~0.1%. This starts the
fake (or the bare endpoint) under ``valgrind --tool=callgrind`` with counting off, sends
``--requests`` warm-up CreateTask calls (so the store holds that many tasks), counts the
next ``--requests`` calls (16 keep-alive connections), and prints per request:
instructions, first-level cache misses, and misses of a last-level cache of
``--cache-bytes`` (default 512 KiB: the second-level cache of a core of this machine,
where a miss costs tens of cycles). Needs ``apt-get install -y valgrind``; ~1 minute.

Run from the repository root::

    python bench/instructions.py                  # the fake, CreateTask in JSON
    python bench/instructions.py --proto          # in binary
    python bench/instructions.py --target bare    # the bare endpoint, for reference
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson
from run import (  # bench/ is on the path
    SetupError,
    _proto_bytes,
    _wait_for_port,
    create_task_request,
    free_port,
    reference,
)

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "/gitpod.v1.EnvironmentAutomationService"
CONNECTIONS = 16


def body(prefix: str, counter: int, proto: bool) -> bytes:
    request = create_task_request(reference(prefix, counter).decode())
    return _proto_bytes("CreateTask", request) if proto else orjson.dumps(request)


async def _connection(port: int, path: str, content_type: str, bodies: Sequence[bytes]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ok = 0
    for data in bodies:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer bench\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode() + data)
        answer = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", answer)
        await reader.readexactly(int(length.group(1)) if length else 0)
        ok += answer.startswith(b"HTTP/1.1 200")
    writer.close()
    return ok


def send(port: int, path: str, proto: bool, prefix: str, count: int) -> int:
    """``count`` requests over CONNECTIONS connections; how many were answered 200."""
    content_type = "application/proto" if proto else "application/json"
    share = count // CONNECTIONS
    batches = [
        [body(prefix, k * share + i, proto) for i in range(share)] for k in range(CONNECTIONS)
    ]

    async def run() -> int:
        tasks = [_connection(port, path, content_type, batch) for batch in batches]
        return sum(await asyncio.gather(*tasks))

    return asyncio.run(run())


def totals(profile: Path) -> dict[str, int]:
    """The ``totals:`` line of a callgrind profile, by event name."""
    events: list[str] = []
    for line in profile.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("totals:"):
            return dict(zip(events, map(int, line.split()[1:]), strict=True))
    raise ValueError(f"{profile}: no totals line")


def per_request(counts: dict[str, int], requests: int) -> tuple[float, float, float]:
    """(instructions, first-level misses, last-level misses) per request."""
    first = counts.get("I1mr", 0) + counts.get("D1mr", 0) + counts.get("D1mw", 0)
    last = counts.get("ILmr", 0) + counts.get("DLmr", 0) + counts.get("DLmw", 0)
    return counts["Ir"] / requests, first / requests, last / requests


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("fake", "bare"), default="fake")
    parser.add_argument("--proto", action="store_true", help="binary CreateTask requests")
    parser.add_argument("--requests", type=int, default=6000, help="counted (default: 6000)")
    parser.add_argument("--cache-bytes", type=int, default=512 * 1024)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("instructions: needs valgrind (apt-get install -y valgrind)", file=sys.stderr)
        return 1
    port = free_port()
    if args.target == "fake":
        server = [sys.executable, "-m", "mockserver", "--clock", "manual"]
        path = f"{SERVICE}/CreateTask"
    else:
        server = [sys.executable, "bench/bare_app.py"]
        path = "/bench"
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--cache-sim=yes",
            f"--LL={args.cache_bytes},8,64",
            f"--callgrind-out-file={out}",
            *server,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        log = (Path(work) / "server.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            _wait_for_port(process, Path(work) / "server.log", port)
            send(port, path, args.proto, "w", args.requests)  # warm-up, not counted
            _control(process.pid, "-i", "on")
            answered = send(port, path, args.proto, "m", args.requests)
            _control(process.pid, "-i", "off")
            _control(process.pid, "-d")
        except SetupError as error:
            print(f"instructions: the server under valgrind {error}", file=sys.stderr)
            return 1
        finally:
            process.terminate()
            process.wait(timeout=60)
            log.close()
        dumps = sorted(Path(work).glob("callgrind.out.*"))
        if not dumps:
            print("instructions: callgrind wrote no profile", file=sys.stderr)
            return 1
        counted = CONNECTIONS * (args.requests // CONNECTIONS)
        instructions, first, last = per_request(totals(dumps[-1]), counted)
    codec = "binary" if args.proto else "JSON"
    what = "bare POST /bench" if args.target == "bare" else f"CreateTask ({codec})"
    print(f"{what}: {answered} of {counted} answered 200")
    print(f"  instructions per request        {instructions:10,.0f}")
    print(f"  first-level cache misses        {first:10,.1f}")
    print(f"  misses of a {args.cache_bytes // 1024} KiB last level  {last:10,.1f}")
    return 0 if answered == counted else 1


def _control(pid: int, *arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments, str(pid)], check=True, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
