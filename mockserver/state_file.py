"""The ``--state`` file: an SQLite database in WAL mode that every write reaches first.

SQLite from the standard library, because it gives what the fake promises without a new
dependency: a write the server acknowledged is committed before the response is sent, and
a committed transaction survives the process being killed (``kill -9``): SQLite's
write-ahead log is in the operating system's hands at commit. ``synchronous=NORMAL``
skips the fsync per commit, so power loss may cost the last writes; that is the trade a
fake makes for ~50 µs writes (``bench/run.py`` measures it).

One row per task and per execution, holding the same JSON as the export
(``GET /_mock/state``), keyed by tenant (subject id) and id; a row per tenant for its
settings (its own scenario and clock offset); the server's clock in ``meta``. Start-up
reads the rows into an export document and imports it through the same validation as
``PUT /_mock/state``.

A ``--state`` file that holds a JSON export (what version 0.1 wrote) is migrated: its
content goes into a new database that atomically takes its name, and the JSON stays
next to it as ``<name>.json-backup``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import orjson

from mockserver.domain import (
    Backend,
    DomainError,
    JsonObject,
    ManualClock,
    RandomIds,
    Unavailable,
    format_timestamp,
    parse_timestamp,
)
from mockserver.domain.executions import ExecutionRecord
from mockserver.domain.state import STATE_VERSION, export_execution
from mockserver.domain.store import TenantStore
from mockserver.domain.tasks import TaskRecord, task_json
from mockserver.domain.types import Micros

__all__ = ["SqliteState", "StateFileError", "open_state", "read_state"]

logger = logging.getLogger("mockserver")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    tenant TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS executions (
    tenant TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS settings (tenant TEXT PRIMARY KEY, body BLOB NOT NULL);
"""
_FORMAT = "1"  # meta 'format': the layout of these tables
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIGRATING = ".migrating"
_BACKUP = ".json-backup"
_SQLITE_READONLY, _SQLITE_CANTOPEN = 8, 14  # primary result codes


class StateFileError(ValueError):
    """The ``--state`` file cannot be opened, read or written; the message says why."""


class SqliteState:
    """The durable store behind ``--state``; a :class:`~mockserver.domain.persistence.
    Persistence` that commits in :meth:`commit`. The backend's lock serialises every
    call, so one connection serves every thread."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock_fd: int | None = None
    ) -> None:
        self.path = path
        self._db = connection
        self._lock_fd = lock_fd  # holds the flock that keeps a second server out
        self._closed = False
        self._close_lock = threading.Lock()
        self._clock_us: Micros | None = None  # the clock last written to meta

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> JsonObject:
        """Everything stored, as an export document (``version``, ``clock``, ``tenants``).

        :class:`StateFileError` (one line) when the tables are not the ones this version
        writes, or a row is not what it would have written (a hand-edited file); the
        document itself is validated by the import that takes it."""
        try:
            return self._load()
        except sqlite3.Error as error:
            raise StateFileError(f"cannot load state from {self.path}: {error}") from None

    def _load(self) -> JsonObject:
        tenants: dict[str, JsonObject] = {}

        def tenant(key: str) -> JsonObject:
            found = tenants.get(key)
            if found is None:
                found = tenants[key] = {"tasks": [], "executions": []}
            return found

        for key, body in self._rows("tasks"):
            tenant(key)["tasks"].append(body)
        for key, body in self._rows("executions"):
            tenant(key)["executions"].append(body)
        document: JsonObject = {"version": STATE_VERSION, "tenants": tenants}
        row = self._db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        clock_us = None
        if row is not None:
            document["clock"] = row[0]
            try:
                clock_us = parse_timestamp(row[0])
            except (TypeError, ValueError):
                raise StateFileError(
                    f"cannot load state from {self.path}: meta 'clock' is not an RFC 3339"
                    f" timestamp: {str(row[0])[:80]!r}"
                ) from None
        for key, settings in self._rows("settings"):
            where = f"cannot load state from {self.path}: settings of tenant {key!r}"
            if not isinstance(settings, dict):
                raise StateFileError(f"{where}: expected an object")
            # In the export's terms: the tenant's own scenario, and its own clock.
            if "scenario" in settings:
                tenant(key)["scenario"] = settings["scenario"]
            offset = settings.get("clockOffsetUs", 0)
            if isinstance(offset, bool) or not isinstance(offset, int):
                raise StateFileError(f"{where}: clockOffsetUs is not an integer: {offset!r:.80}")
            if offset and clock_us is not None:
                try:
                    tenant(key)["clock"] = format_timestamp(clock_us + offset)
                except (ValueError, OverflowError):
                    raise StateFileError(
                        f"{where}: clockOffsetUs {offset} puts its clock outside years 1-9999"
                    ) from None
        return document

    def _rows(self, table: str) -> Iterator[tuple[str, Any]]:
        """The (tenant, parsed JSON body) rows of ``table``, in the order they were written."""
        order = " ORDER BY rowid" if table != "settings" else ""
        for rowid, key, body in self._db.execute(f"SELECT rowid, tenant, body FROM {table}{order}"):
            if not isinstance(key, str) or not isinstance(body, bytes | str):
                raise StateFileError(
                    f"cannot load state from {self.path}: {table} row {rowid}: not a row this"
                    " version writes (tenant and body of the wrong type)"
                )
            try:
                yield key, orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise StateFileError(
                    f"cannot load state from {self.path}: {table} row {rowid}: body is not"
                    f" JSON ({error})"
                ) from None

    # -- Persistence -----------------------------------------------------------------------

    def task_saved(self, tenant: str, task: TaskRecord) -> None:
        try:
            self._db.execute(
                "INSERT INTO tasks (tenant, id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant, id) DO UPDATE SET body = excluded.body",
                (tenant, task.id, orjson.dumps(task_json(task))),
            )
        except BaseException as error:
            self._abandon(error)

    def task_removed(self, tenant: str, task_id: str) -> None:
        try:
            self._db.execute("DELETE FROM tasks WHERE tenant = ? AND id = ?", (tenant, task_id))
        except BaseException as error:
            self._abandon(error)

    def execution_saved(self, tenant: str, execution: ExecutionRecord) -> None:
        try:
            self._db.execute(
                "INSERT INTO executions (tenant, id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant, id) DO UPDATE SET body = excluded.body",
                (tenant, execution.id, orjson.dumps(export_execution(execution))),
            )
        except BaseException as error:
            self._abandon(error)

    def tenant_replaced(self, tenant: str, store: TenantStore | None) -> None:
        try:
            self._db.execute("DELETE FROM tasks WHERE tenant = ?", (tenant,))
            self._db.execute("DELETE FROM executions WHERE tenant = ?", (tenant,))
            if store is not None:
                self._insert_tenant(tenant, store)
        except BaseException as error:
            self._abandon(error)

    def all_replaced(self, tenants: Mapping[str, TenantStore]) -> None:
        try:
            self._db.execute("DELETE FROM tasks")
            self._db.execute("DELETE FROM executions")
            self._db.execute("DELETE FROM settings")
            for key, store in tenants.items():
                self._insert_tenant(key, store)
        except BaseException as error:
            self._abandon(error)

    def tenant_settings_changed(self, tenant: str, settings: JsonObject | None) -> None:
        try:
            if settings is None:
                self._db.execute("DELETE FROM settings WHERE tenant = ?", (tenant,))
            else:
                self._db.execute(
                    "INSERT INTO settings (tenant, body) VALUES (?, ?)"
                    " ON CONFLICT (tenant) DO UPDATE SET body = excluded.body",
                    (tenant, orjson.dumps(settings)),
                )
        except BaseException as error:
            self._abandon(error)

    def commit(self, clock_us: Micros | None) -> None:
        try:
            if clock_us is not None and clock_us != self._clock_us:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('clock', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (format_timestamp(clock_us),),
                )
            self._db.commit()
        except BaseException as error:
            self._abandon(error)
        if clock_us is not None:
            self._clock_us = clock_us

    def _abandon(self, error: BaseException) -> NoReturn:
        """Drop everything reported since the last commit, after ``error`` stopped a write,
        and raise: :class:`Unavailable` for a failing disk (full, over the file size limit,
        an I/O error, a read-only file), else ``error`` itself."""
        with contextlib.suppress(sqlite3.Error):
            self._db.rollback()
        if isinstance(error, sqlite3.Error | OSError):
            logger.error("cannot write the state file %s (%s): write refused", self.path, error)
            raise Unavailable(
                f"the fake cannot write its --state file ({error}); nothing was changed,"
                " retry when the disk is fixed"
            ) from error
        raise error

    def _insert_tenant(self, tenant: str, store: TenantStore) -> None:
        self._db.executemany(
            "INSERT INTO tasks (tenant, id, body) VALUES (?, ?, ?)",
            _task_rows(tenant, (store.tasks[key[1]] for key in store.task_index.after(None))),
        )
        self._db.executemany(
            "INSERT INTO executions (tenant, id, body) VALUES (?, ?, ?)",
            (
                (tenant, execution.id, orjson.dumps(export_execution(execution)))
                for execution in (
                    store.executions[key[1]] for key in store.execution_index.after(None)
                )
            ),
        )

    # -- closing ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Checkpoint the write-ahead log into the database and close (idempotent): a
        stopped server leaves one file behind, no ``-wal`` or ``-shm``."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._db.commit()
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as error:
                # Every acknowledged write is committed in the log, which the next start
                # reads: only the folding failed (a full disk, say).
                logger.warning("state file %s: the log stays beside it (%s)", self.path, error)
            finally:
                self._db.close()
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the flock


def _task_rows(tenant: str, tasks: Iterable[TaskRecord]) -> Iterable[tuple[str, str, bytes]]:
    for task in tasks:
        yield tenant, task.id, orjson.dumps(task_json(task))


# -- opening --------------------------------------------------------------------------------


def open_state(path: Path) -> SqliteState:
    """The store at ``path``, created if absent, migrated if it holds a JSON export.

    :class:`StateFileError` (one line) when the path cannot hold a database: a missing
    directory, a directory, a file that is neither SQLite nor a JSON export, no permission,
    or a file another server (or another store in this process) is using.
    """
    _check_regular(path)
    _remove_stale_migration(path)
    head = _head(path)
    if head is not None and head.lstrip()[:1] == b"{":
        _migrate_json(path)
    elif head is not None and head and not head.startswith(_SQLITE_MAGIC):
        raise StateFileError(f"cannot load state from {path}: not an SQLite database")
    connection = _connect(path)
    try:
        lock_fd = _lock(path)
    except BaseException:
        connection.close()
        raise
    return SqliteState(path, connection, lock_fd)


def read_state(path: Path) -> JsonObject:
    """The export document the store at ``path`` holds, read without taking the store over
    (a server may be using it): for tools and tests."""
    connection = sqlite3.connect(path)
    try:
        return SqliteState(path, connection).load()
    finally:
        connection.close()


def _lock(path: Path) -> int:
    """An exclusive flock on ``path``: two servers writing one file would wait on each
    other's SQLite locks (stalling their event loops) and interleave their states.
    (SQLite's own locks are fcntl locks; a flock does not interfere with them.)"""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateFileError(
            f"cannot use state file {path}: another mockserver is using it"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_regular(path: Path) -> None:
    """Refuse a path that exists and is not a regular file (a FIFO, a socket, a device):
    reading its head would block or never end, and SQLite cannot use it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # absent (created later) or unreadable: _head says which
    if stat.S_ISDIR(mode):
        raise StateFileError(f"cannot use state file {path}: it is a directory")
    if not stat.S_ISREG(mode):
        raise StateFileError(
            f"cannot use state file {path}: not a regular file (a FIFO, socket or device)"
        )


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as file:
            return file.read(64)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise StateFileError(
                f"cannot use state file {path}: directory {path.parent} does not exist"
            ) from None
        return None
    except OSError as error:
        raise StateFileError(f"cannot use state file {path}: {error.strerror}") from None


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # Autocommit off (a transaction per backend operation, ended by commit());
        # check_same_thread off: the backend's lock serialises access across threads.
        connection = sqlite3.connect(path, check_same_thread=False)
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StateFileError(f"cannot use state file {path}: WAL mode unavailable")
            connection.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints (which do fsync) every ~40 MB of log instead of every ~4 MB: a
            # write cost about 150 µs with the default, under 100 µs with this.
            connection.execute("PRAGMA wal_autocheckpoint=10000")
            connection.executescript(_SCHEMA)
            _check_layout(connection, path)
            row = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is not None and row[0] != _FORMAT:
                raise StateFileError(
                    f"cannot load state from {path}: unknown format {row[0]!r}"
                    f" (this version reads {_FORMAT})"
                )
            # Written on every start, even unchanged: a file that cannot take a write (a
            # read-only file, a read-only directory for the log) is refused now, instead
            # of failing every write later.
            try:
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('format', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (_FORMAT,),
                )
                connection.commit()
            except sqlite3.Error as error:
                raise StateFileError(
                    f"cannot write state file {path}: {error} (is the file or its directory"
                    " read-only, or the disk full?)"
                ) from None
        except BaseException:
            connection.close()
            raise
    except sqlite3.Error as error:
        hint = ""
        if getattr(error, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            hint = (
                " (SQLite must write the file and create its log beside it: is either read-only?)"
            )
        raise StateFileError(f"cannot use state file {path}: {error}{hint}") from None
    return connection


# Each table's columns and their place in its primary key, as _SCHEMA creates them.
_LAYOUT = {
    "meta": [("key", 1), ("value", 0)],
    "tasks": [("tenant", 1), ("id", 2), ("body", 0)],
    "executions": [("tenant", 1), ("id", 2), ("body", 0)],
    "settings": [("tenant", 1), ("body", 0)],
}


def _check_layout(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse tables laid out otherwise (a hand-edited file): its rows would not load, or
    every later write would fail against them."""
    for table, expected in _LAYOUT.items():
        found = [(row[1], row[5]) for row in connection.execute(f"PRAGMA table_info({table})")]
        kind = connection.execute(
            "SELECT type FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        if found != expected or kind is None or kind[0] != "table":
            raise StateFileError(
                f"cannot load state from {path}: table {table!r} is not laid out as this"
                " version writes it (a hand-edited file?)"
            )


def _remove_stale_migration(path: Path) -> None:
    # Left by a migration that was killed halfway; the JSON export is still in place.
    with contextlib.suppress(FileNotFoundError):
        (path.parent / (path.name + _MIGRATING)).unlink()


def _migrate_json(path: Path) -> None:
    """Turn the JSON export at ``path`` into a database at ``path``; keep the JSON as a
    backup. At every instant ``path`` is one or the other, complete."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StateFileError(f"cannot load state from {path}: {error}") from None
    temporary = path.parent / (path.name + _MIGRATING)
    store = SqliteState(temporary, _connect(temporary))
    try:
        # The backend validates the export and tells the new store everything, tenants'
        # own scenarios and clocks included, exactly as a whole-state import would.
        Backend(ManualClock(), RandomIds(), persistence=store).import_state(document)
    except DomainError as error:
        store.close()
        temporary.unlink()
        raise StateFileError(f"cannot load state from {path}: {error}") from None
    store.close()
    backup = path.parent / (path.name + _BACKUP)
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
    os.link(path, backup)
    os.replace(temporary, path)
    logger.info("migrated the JSON state export %s to SQLite (the JSON kept as %s)", path, backup)
