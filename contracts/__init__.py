"""Contract and fuzz suite for implementations of the Ona task automation API.

Give it a base URL; it generates requests from the OpenAPI document (with schemathesis),
runs hand-written lifecycle scenarios, and checks every response against the published
contract and the universal invariants of task executions. It never imports the fake.
"""

from __future__ import annotations

from contracts.config import DEFAULT_MAX_EXAMPLES, SUITES, SuiteConfig
from contracts.dialects import DIALECTS, Dialect
from contracts.failures import CheckFailed, Failure
from contracts.report import Report
from contracts.runner import run

__all__ = [
    # configuration
    "DEFAULT_MAX_EXAMPLES",
    "DIALECTS",
    "SUITES",
    # failures
    "CheckFailed",
    "Dialect",
    "Failure",
    # running
    "Report",
    "SuiteConfig",
    "run",
]
