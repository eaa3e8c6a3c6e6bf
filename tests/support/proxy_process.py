"""Run ``python -m contracts proxy`` as a real process, in front of an upstream."""

from __future__ import annotations

import signal
import subprocess

from tests.support.server_process import ServerProcess

__all__ = ["ProxyProcess"]


class ProxyProcess(ServerProcess):
    """``with ProxyProcess("--upstream", url) as proxy: proxy.url``; :meth:`finish` stops
    it as a user would (SIGTERM by default) and gives its exit status and summary."""

    command = ("-m", "contracts", "proxy")
    banner = "contracts proxy listening on "

    def finish(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> tuple[int, str]:
        """Stop the proxy; its exit status and what it printed (the summary)."""
        process = self.process
        process.send_signal(sig)
        try:
            stdout, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return process.returncode, stdout
