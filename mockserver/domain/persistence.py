"""Where the backend reports each change of state, for a durable store to write down.

The :class:`~mockserver.domain.backend.Backend` reports each change inside its lock, then
calls :meth:`Persistence.commit` once per operation, and only after that commit returns
does it apply the change to its in-memory state and answer: a store that makes the changes
durable in ``commit`` makes every acknowledged write durable, and a write it could not
commit never exists. The default, :data:`NO_PERSISTENCE`, does nothing, so a server
without ``--state`` pays one no-op call per write.

Any of these methods may raise :class:`~mockserver.domain.errors.Unavailable` (the disk
failed: full, a file size limit, an I/O error, a read-only file); the store has then
dropped everything reported since the last commit, and the backend, having applied
nothing, passes the error on (``unavailable``, 503). Reports describe the state *after*
the change, which the backend has not applied yet.

Tenants are keyed by subject id, as in the export (never by token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mockserver.domain.executions import ExecutionRecord
from mockserver.domain.store import TenantStore
from mockserver.domain.tasks import TaskRecord
from mockserver.domain.types import JsonObject, Micros

__all__ = ["NO_PERSISTENCE", "NoPersistence", "Persistence"]


class Persistence(Protocol):
    """Receives every change of the backend's state; see the module docstring."""

    def task_saved(self, tenant: str, task: TaskRecord) -> None:
        """A task was created or replaced by an update."""

    def task_removed(self, tenant: str, task_id: str) -> None:
        """A task was deleted (its executions stay)."""

    def execution_saved(self, tenant: str, execution: ExecutionRecord) -> None:
        """An execution was started, or stopped (its ``stopped_us`` changed)."""

    def tenant_replaced(self, tenant: str, store: TenantStore | None) -> None:
        """A tenant's whole state was replaced by an import, or dropped (``None``)."""

    def all_replaced(self, tenants: Mapping[str, TenantStore]) -> None:
        """Every tenant's state was replaced (a whole-state import, a reset of all)."""

    def tenant_settings_changed(self, tenant: str, settings: JsonObject | None) -> None:
        """A tenant's own settings (its scenario, its clock offset, ...) changed; ``None``
        forgets them. The value is opaque JSON, handed back under the tenant's
        ``"settings"`` key of the document a store loads."""

    def commit(self, clock_us: Micros | None) -> None:
        """Make every change reported so far durable; ``clock_us`` is the server's time,
        when it is a manual clock's (``None`` for a real clock)."""


class NoPersistence:
    """Forgets everything: the default, for a server without ``--state``."""

    def task_saved(self, tenant: str, task: TaskRecord) -> None:
        pass

    def task_removed(self, tenant: str, task_id: str) -> None:
        pass

    def execution_saved(self, tenant: str, execution: ExecutionRecord) -> None:
        pass

    def tenant_replaced(self, tenant: str, store: TenantStore | None) -> None:
        pass

    def all_replaced(self, tenants: Mapping[str, TenantStore]) -> None:
        pass

    def tenant_settings_changed(self, tenant: str, settings: JsonObject | None) -> None:
        pass

    def commit(self, clock_us: Micros | None) -> None:
        pass


NO_PERSISTENCE = NoPersistence()
