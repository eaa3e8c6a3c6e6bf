"""Encoded bytes of the store's shared renderings, bounded in bytes and freed with them.

The store hands out one rendered dict per task (:class:`~mockserver.domain.types.
SharedJson`) until the task changes, so the JSON codec and the binary encoder keep that
dict's encoding by its identity and a list page is mostly a join of kept bytes. Such a
cache used to hold the dict itself (so its id could not be reused) and up to 100,000
entries whatever their size: a loop of CreateTask with a 1.9 MB command, reads in both
codecs and DeleteTask took the server from 59 MB to 716 MB in 60 cycles, and a reset gave
nothing back.

Here an entry holds a weak reference to the rendering: when the store lets go of it (the
task deleted, updated, reset or replaced by an import), the entry goes too. And the
entries' bytes are bounded (``--max-cache-bytes``, per cache): past it the oldest go.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Generic, TypeVar

__all__ = [
    "DEFAULT_MAX_CACHE_BYTES",
    "Entry",
    "RenderCache",
    "cached_bytes",
    "set_max_cache_bytes",
]

DEFAULT_MAX_CACHE_BYTES = 64 * 1024 * 1024  # per cache; ~200,000 small tasks' bytes
V = TypeVar("V")
_CACHES: weakref.WeakSet[RenderCache[Any]] = weakref.WeakSet()
_max_bytes = DEFAULT_MAX_CACHE_BYTES


class Entry(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a rendering, carrying its key, encoding and size: alive
    (``entry() is rendering``) while the rendering is."""

    __slots__ = ("key", "size", "value")
    key: int
    size: int
    value: Any


class RenderCache(Generic[V]):
    """Encodings (``V``) of renderings, by the rendering's identity.

    Thread-safe: an import on a worker thread may free renderings (and so run the weak
    references' callbacks) while the event loop reads and fills the cache."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        # The lookup of a hit, for a list page's loop to call without a method call per
        # item (25 of them cost ~1.5 µs, 7% of a ListTasks): ``entry = lookup(id(item))``,
        # a hit when ``entry is not None and entry() is item``; then ``entry.value``.
        self.lookup = self._entries.get
        self.bytes = 0  # the sizes of the entries held
        # Reentrant: a callback may run on the thread that holds it (a collection
        # started inside put frees a rendering).
        self._lock = threading.RLock()
        _CACHES.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, item: object) -> V | None:
        """The encoding kept for ``item``, if any."""
        entry = self._entries.get(id(item))
        if entry is not None and entry() is item:
            value: V = entry.value
            return value
        return None

    def put(self, item: object, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes) for ``item`` while ``item`` lives and room
        lasts; an item that cannot be weakly referenced (a plain dict) is not kept."""
        if size > _max_bytes:
            return
        try:
            entry = Entry(item, self._forget)
        except TypeError:
            return
        entry.key, entry.size, entry.value = id(item), size, value
        with self._lock:
            entries = self._entries
            old = entries.pop(entry.key, None)
            if old is not None:
                self.bytes -= old.size
            entries[entry.key] = entry
            self.bytes += size
            while self.bytes > _max_bytes:
                oldest = entries.pop(next(iter(entries)))
                self.bytes -= oldest.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def _forget(self, entry: Entry) -> None:
        with self._lock:
            if self._entries.get(entry.key) is entry:
                del self._entries[entry.key]
                self.bytes -= entry.size


def set_max_cache_bytes(max_bytes: int) -> None:
    """Bound every render cache of the process to ``max_bytes`` (``--max-cache-bytes``);
    0 keeps nothing."""
    global _max_bytes
    if max_bytes < 0:
        raise ValueError(f"max_cache_bytes must be >= 0, got {max_bytes}")
    _max_bytes = max_bytes
    for cache in list(_CACHES):
        with cache._lock:
            entries = cache._entries
            while cache.bytes > max_bytes:
                cache.bytes -= entries.pop(next(iter(entries))).size


def cached_bytes() -> int:
    """The bytes every render cache of the process holds (what ``--max-cache-bytes``
    bounds per cache)."""
    return sum(cache.bytes for cache in list(_CACHES))
