"""Schemas: the entities and fields of a Connection, as the field-map editor offers them.

Which fields can a person map? The ones the system itself lists: a CRM's custom columns and an
ERP's user-defined fields appear as soon as the system has them, with their type, length,
choices and whether they are required, so a map can be written without guessing names. Asking
a system costs a round-trip (and for some, a sign-in), so answers are kept per Connection for an
hour, and until its settings change; a refresh asks again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from syncloom.connectors.base import Connector, EntityCatalogue, EntitySpec, FieldSpec
from syncloom.engine.clock import Clock, SystemClock
from syncloom.errors import ConfigError, NotFoundError, SyncError
from syncloom.node import open_connector
from syncloom.portal.problems import Missing, Unavailable
from syncloom.store.models import Connection
from syncloom.vault import Vault

if TYPE_CHECKING:
    from syncloom.portal.deps import PortalDeps

__all__ = ["ConnectionSchemas", "EntityFields", "EntityList", "FieldInfo", "schemas_of"]

ConnectorOpener = Callable[[Connection, Vault], Connector]
T = TypeVar("T")


class FieldInfo(BaseModel):
    """One field as the editor shows it."""

    name: str
    label: str | None = None
    type: str
    required: bool
    read_only: bool
    max_length: int | None = None
    allowed_values: list[str] = []
    lookup_entity: str | None = None
    custom: bool

    @classmethod
    def of(cls, spec: FieldSpec) -> FieldInfo:
        """The view of one connector field."""
        return cls(
            name=spec.name,
            label=spec.label,
            type=spec.type.value,
            required=spec.required,
            read_only=spec.read_only,
            max_length=spec.max_length,
            allowed_values=list(spec.allowed_values),
            lookup_entity=spec.lookup_entity,
            custom=spec.custom,
        )

    @property
    def summary(self) -> str:
        """A short line for a picker: ``string ≤ 20 · required · custom``."""
        kind = f"lookup → {self.lookup_entity}" if self.lookup_entity else self.type
        parts = [kind + (f" ≤ {self.max_length}" if self.max_length else "")]
        if self.allowed_values:
            parts.append("one of " + ", ".join(self.allowed_values[:5]))
        flags = (
            ("required", self.required),
            ("read-only", self.read_only),
            ("custom", self.custom),
        )
        parts += [word for word, on in flags if on]
        return " · ".join(parts)


class EntityFields(BaseModel):
    """The fields of one entity of one Connection, as last read from the system."""

    connection: str
    system: str
    entity: str
    key_fields: list[str]
    fields: list[FieldInfo]
    read_at: datetime

    def has(self, name: str) -> bool:
        """Whether the system lists a field called ``name``."""
        return any(f.name == name for f in self.fields)

    @classmethod
    def of(cls, row: Connection, spec: EntitySpec, read_at: datetime) -> EntityFields:
        """The view of one described entity."""
        return cls(
            connection=row.name,
            system=row.system,
            entity=spec.name,
            key_fields=list(spec.key_fields),
            fields=[FieldInfo.of(f) for f in spec.fields],
            read_at=read_at,
        )


class EntityList(BaseModel):
    """The entities of one Connection a field map can name."""

    connection: str
    system: str
    entities: list[str]
    read_at: datetime


def _run(work: Callable[[], Awaitable[T]]) -> T:
    # Portal handlers run in worker threads without an event loop; each answer gets its own.
    async def main() -> T:
        return await work()

    return asyncio.run(main())


class ConnectionSchemas:
    """Entities and fields per Connection, read from the system and kept for ``ttl``.

    Example::

        schemas = ConnectionSchemas(vault)
        fields = schemas.fields(connection_row, "Account")
        custom = [f.name for f in fields.fields if f.custom]
    """

    def __init__(
        self,
        vault: Vault,
        *,
        opener: ConnectorOpener = open_connector,
        clock: Clock | None = None,
        ttl: timedelta = timedelta(hours=1),
    ) -> None:
        self.vault = vault
        self.opener = opener
        self.clock = clock or SystemClock()
        self.ttl = ttl
        self._lock = threading.Lock()
        self._kept: dict[tuple[object, ...], tuple[datetime, BaseModel]] = {}

    def _key(self, row: Connection, *rest: str) -> tuple[object, ...]:
        # A changed base URL or credential bumps ``updated_at``: the old answer is stale.
        return (row.tenant_id, row.id, row.updated_at, *rest)

    def _kept_answer(self, key: tuple[object, ...]) -> BaseModel | None:
        with self._lock:
            found = self._kept.get(key)
        if found is None or self.clock.now_utc() - found[0] > self.ttl:
            return None
        return found[1]

    def _keep(self, key: tuple[object, ...], answer: BaseModel) -> None:
        with self._lock:
            # Answers for the Connection's earlier settings can never be asked for again.
            stale = [k for k in self._kept if k[:2] == key[:2] and k[2] != key[2]]
            for old in stale:
                del self._kept[old]
            self._kept[key] = (self.clock.now_utc(), answer)

    def __len__(self) -> int:
        """How many answers are kept (for every Connection)."""
        with self._lock:
            return len(self._kept)

    def _ask(self, row: Connection, question: Callable[[Connector], Awaitable[T]]) -> T:
        try:
            connector = self.opener(row, self.vault)
        except ConfigError:
            raise
        except SyncError as exc:
            raise Unavailable(f"{row.name}: {exc.message}") from exc

        async def asked() -> T:
            try:
                return await question(connector)
            finally:
                await connector.aclose()

        try:
            return _run(asked)
        except NotFoundError as exc:
            raise Missing(f"{row.name}: {exc.message}") from exc
        except ConfigError:
            raise
        except SyncError as exc:
            raise Unavailable(f"{row.name} did not answer: {exc.message}") from exc

    def entities(self, row: Connection, *, refresh: bool = False) -> EntityList:
        """The entities of ``row`` a field map can name.

        Raises:
            Unavailable: the system could not be asked.
        """
        key = self._key(row)
        kept = None if refresh else self._kept_answer(key)
        if isinstance(kept, EntityList):
            return kept

        async def names(connector: Connector) -> list[str]:
            if isinstance(connector, EntityCatalogue):
                return list(await connector.entity_names())
            return []

        answer = EntityList(
            connection=row.name,
            system=row.system,
            entities=self._ask(row, names),
            read_at=self.clock.now_utc(),
        )
        self._keep(key, answer)
        return answer

    def fields(self, row: Connection, entity: str, *, refresh: bool = False) -> EntityFields:
        """The fields of ``entity`` in ``row``'s system, custom ones marked.

        Raises:
            Missing: the system has no such entity.
            Unavailable: the system could not be asked.
        """
        key = self._key(row, entity)
        kept = None if refresh else self._kept_answer(key)
        if isinstance(kept, EntityFields):
            return kept
        spec = self._ask(row, lambda connector: connector.describe(entity))
        answer = EntityFields.of(row, spec, self.clock.now_utc())
        self._keep(key, answer)
        return answer


def schemas_of(deps: PortalDeps) -> ConnectionSchemas:
    """The portal's schema reader (built with the deps unless a test handed one in)."""
    assert deps.schemas is not None, "PortalDeps builds its schemas in __post_init__"
    return deps.schemas
