"""Run ``python -m mockserver`` as a real process and find the URL it prints."""

from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = ["REPO_ROOT", "ServerProcess", "file_size_limit", "run_until_exit"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_until_exit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m mockserver --port 0 ARGS`` for a start that must fail: its exit, stdout
    and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", "0", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )


def file_size_limit(max_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that starts the server under ``ulimit -f`` (RLIMIT_FSIZE): a write
    past ``max_bytes`` fails (or, unless SIGXFSZ is ignored, kills the process)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


_BANNER = "mockserver listening on "


class ServerProcess:
    """``with ServerProcess("--clock", "manual") as server: server.url``.

    The server gets ``--port 0`` (a free port) unless ``args`` name a port; its stderr
    goes to a temporary file, shown by :meth:`output` when a test needs it.
    """

    # What runs, and the line it prints before its URL; subclasses run other servers.
    command: tuple[str, ...] = ("-m", "mockserver")
    banner = _BANNER

    def __init__(
        self,
        *args: str,
        start_timeout: float = 20.0,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.args = args if "--port" in args else ("--port", "0", *args)
        self.start_timeout = start_timeout
        self.preexec_fn = preexec_fn  # run in the child before exec (limits, ...)
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def process(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("the server process is not running")
        return self._process

    def start(self) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, *self.command, *self.args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            preexec_fn=self.preexec_fn,
        )
        self.url = self._read_url()
        return self

    def _read_url(self) -> str:
        process = self.process
        assert process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise RuntimeError(f"no URL printed in time; output:\n{self.output()}")
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            if not ready:
                continue
            line = process.stdout.readline()
            if not line:
                code = process.wait()
                raise RuntimeError(f"the server exited with {code}; output:\n{self.output()}")
            if line.startswith(self.banner):
                return line[len(self.banner) :].split()[0]

    def output(self) -> str:
        """Everything the server wrote to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait; the exit code."""
        process = self.process
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
        return process.returncode

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def close(self) -> None:
        self.kill()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._process is not None and self._process.poll() is None:
                self.stop()
        finally:
            self.close()
