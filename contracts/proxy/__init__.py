"""The validating proxy: real traffic judged by the suite's checks, recorded if asked.

``python -m contracts proxy --upstream URL`` (see :mod:`contracts.proxy.cli` and
``docs/proxy.md``).
"""

from __future__ import annotations

from contracts.proxy.app import VIOLATIONS_PATH, ProxyApp
from contracts.proxy.judge import CLIENT, SERVER, Judge, Violation
from contracts.proxy.violations import HEADER, ViolationLog

__all__ = [
    "CLIENT",
    "HEADER",
    "SERVER",
    "VIOLATIONS_PATH",
    "Judge",
    "ProxyApp",
    "Violation",
    "ViolationLog",
]
