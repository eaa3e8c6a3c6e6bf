"""Who is calling: the bearer token, which is also the tenant key."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field

from mockserver.domain.types import JsonObject

_SUBJECT_NAMESPACE = uuid.UUID("5b7e8c1e-2f0a-5d3c-9a4e-6f1b2c3d4e5f")
PRINCIPAL_USER = "PRINCIPAL_USER"


@functools.lru_cache(maxsize=4096)
def subject_id_for(token: str) -> str:
    """The stable UUID (version 5) that stands for ``token``."""
    return str(uuid.uuid5(_SUBJECT_NAMESPACE, token))


@dataclass(frozen=True)
class Caller:
    """The caller of one request. State is partitioned by token.

    ``origin`` (``http://host:port``), when set, is where this caller reaches the server;
    log URLs handed to it start with it instead of the server's configured URL.
    """

    token: str
    origin: str | None = field(default=None, compare=False)

    # Cached: a request reads these several times, and a server keeps its callers.
    @functools.cached_property
    def subject_id(self) -> str:
        """Stable UUID derived from the token; the tenant key (tokens never appear in exports)."""
        return subject_id_for(self.token)

    @functools.cached_property
    def subject(self) -> JsonObject:
        """The ``Subject`` that becomes ``creator`` of what this caller creates (one dict
        per caller, shared by everything it creates: read it, never change it)."""
        return {"id": self.subject_id, "principal": PRINCIPAL_USER}
