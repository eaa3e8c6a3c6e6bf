"""What a tenant sets for itself besides its data: its scenario and its clock.

Tests sharing one fake each use their own bearer token; what one of them loads or
advances must not reach the others, so the scenario (rules, latency, faults) and the
manual clock are per tenant. The server's scenario and clock are the defaults a tenant
starts from: a tenant's clock is the server clock plus the tenant's own offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.domain.faults import FaultState
from mockserver.domain.scenario import Scenario
from mockserver.domain.types import Micros

__all__ = ["TenantControl"]


@dataclass(slots=True)
class TenantControl:
    """One tenant's scenario (``None``: the server's), clock offset and fault counters.

    Not thread-safe: the backend's lock guards it.
    """

    scenario: Scenario | None = None
    clock_offset_us: Micros = 0
    # Counters of the faults of the scenario in force; rebuilt when that scenario changes.
    faults: FaultState | None = None

    @property
    def is_default(self) -> bool:
        """Nothing the tenant set itself (fault counters are not settings)."""
        return self.scenario is None and self.clock_offset_us == 0
