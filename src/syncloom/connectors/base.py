"""Connector: the one protocol every system implements.

What does the engine need from a CRM or an ERP to keep records in step? Only this page:
describe an entity, list what changed since a watermark, read, search, write (one at a time
or in a batch with per-operation results), and say why a call failed in the terms of
:mod:`syncloom.errors`. Vendor words (``RECORDNO``, ``ModifiedOn``, ``dataAreaId``) stay
inside each connector; the engine speaks of :class:`RecordKey`, :class:`Record` and
:class:`EntitySpec`.

Example::

    async with CreatioConnector.from_settings(conn) as crm:
        page = await crm.read_changes("Account", since=watermark, cursor=None, page_size=500)
        for record in page.records:
            print(record.key, record.modified_on_utc, record.values["Name"])
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from syncloom.errors import SyncError

__all__ = [
    "ChangePage",
    "Connector",
    "DeletePolicy",
    "EntityCatalogue",
    "EntitySpec",
    "FieldSpec",
    "FieldType",
    "Hint",
    "HintAction",
    "Op",
    "OpKind",
    "OpResult",
    "Record",
    "RecordKey",
    "Values",
    "WebhookReceiver",
    "ensure_utc",
]

Values = Mapping[str, object]
"""A record's field values by the system's own field names.

Scalars are ``str``, ``int``, ``Decimal``, ``bool``, ``date``, ``datetime`` (always aware, UTC)
or ``None``; document lines are a ``list`` of mappings of the same kind.
"""


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, refusing naive datetimes (their zone would be a guess).

    Raises:
        ValueError: if ``moment`` carries no time zone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone; attach one")
    return moment.astimezone(UTC)


@dataclass(frozen=True, order=True, slots=True)
class RecordKey:
    """Canonical key of one record in one system, e.g. ``creatio:Account:<uuid>``.

    It is also the partition key of record jobs, so two jobs for one record never overlap.
    ``id`` is the connector's own text form of the record's key; composite keys (D365's
    ``dataAreaId`` + ``CustomerAccount``) are joined by the connector, which alone parses them.
    """

    system: str
    entity: str
    id: str

    def __str__(self) -> str:
        return f"{self.system}:{self.entity}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> RecordKey:
        """Parse ``system:entity:id``; the id may itself contain colons.

        Raises:
            ValueError: if the text has fewer than three parts.
        """
        system, sep1, rest = text.partition(":")
        entity, sep2, ident = rest.partition(":")
        if not (sep1 and sep2 and system and entity and ident):
            raise ValueError(f"not a record key: {text!r} (expected system:entity:id)")
        return cls(system, entity, ident)


@dataclass(frozen=True, slots=True)
class Record:
    """One record's state as read from its system.

    Attributes:
        key: where the record lives.
        values: field values by the system's own names.
        modified_on_utc: the source's own modification time, in UTC at the source's precision.
        version: an opaque version (ETag, modified-on text) used for optimistic writes.
        modified_by: the user that made the last change, when the system says (echo check).
    """

    key: RecordKey
    values: Values
    modified_on_utc: datetime
    version: str | None = None
    modified_by: str | None = None


class FieldType(enum.StrEnum):
    """The value kinds a field can hold, in system-neutral terms."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    GUID = "guid"
    LOOKUP = "lookup"
    ENUM = "enum"
    LINES = "lines"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an entity as the system describes it."""

    name: str
    type: FieldType = FieldType.STRING
    required: bool = False
    read_only: bool = False
    max_length: int | None = None
    lookup_entity: str | None = None
    allowed_values: tuple[str, ...] = ()
    custom: bool = False
    label: str | None = None


class DeletePolicy(enum.StrEnum):
    """What the system supports when a record disappears on the other side."""

    DELETE = "delete"
    DEACTIVATE = "deactivate"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """What a connector knows about one entity: keys, fields, timestamps, limits."""

    name: str
    key_fields: tuple[str, ...]
    modified_field: str | None
    fields: tuple[FieldSpec, ...] = ()
    delete_policy: DeletePolicy = DeletePolicy.DELETE
    batch_size: int = 100
    read_only: bool = False
    # Connectors look a field up per value they read or write (hundreds of thousands of
    # times in a bulk load), so the lookup is a dictionary, built once; the first field of a
    # name wins, as a scan of ``fields`` would find it.
    _by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_name: dict[str, FieldSpec] = {}
        for spec in self.fields:
            by_name.setdefault(spec.name, spec)
        object.__setattr__(self, "_by_name", by_name)

    def field(self, name: str) -> FieldSpec | None:
        """Return the field called ``name``, or ``None`` when the entity has no such field."""
        return self._by_name.get(name)


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of changed records, oldest first, and the cursor of the next page.

    Records are ordered by ``(modified_on_utc, key.id)``; ``cursor`` is ``None`` on the last
    page. Cursors are opaque and only valid with the same ``since``.
    """

    records: Sequence[Record]
    cursor: str | None = None


class OpKind(enum.StrEnum):
    """The write operations a batch may carry."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Op:
    """One write in a batch: ``key`` is chosen by us for creates (idempotency)."""

    kind: OpKind
    entity: str
    key: str | None = None
    values: Values = field(default_factory=dict)
    version: str | None = None


@dataclass(frozen=True, slots=True)
class OpResult:
    """The outcome of one :class:`Op`; a batch reports one per op, in order."""

    op: Op
    record: Record | None = None
    error: SyncError | None = None

    @property
    def ok(self) -> bool:
        """True when the operation succeeded."""
        return self.error is None


@runtime_checkable
class Connector(Protocol):
    """How does syncloom talk to a system? Through one object that implements this protocol.

    Contract:
        * Every method raises only :class:`syncloom.errors.SyncError` subclasses; HTTP and
          vendor faults are translated at the connector's edge, vendor text kept.
        * ``read_changes`` returns every record modified at or after ``since`` (inclusive, so a
          watermark can overlap), ordered by ``(modified_on_utc, key.id)``, across pages.
        * ``create`` with a ``key`` either creates that key or raises
          :class:`~syncloom.errors.AlreadyExistsError`; it never makes a second record.
          When the system assigns keys itself, the connector raises AlreadyExistsError for a
          repeated natural key instead.
        * ``batch`` never raises for one failed op; it reports it in that op's result.

    Example::

        class AcmeConnector:
            system = "acme"
            async def get(self, entity: str, key: str) -> Record | None: ...
            # ...the other methods below...
    """

    system: str

    async def describe(self, entity: str) -> EntitySpec:
        """Describe ``entity``: keys, fields, modified-on field, delete policy, batch size."""
        ...

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        """Return one page of records modified at or after ``since`` (all when ``None``)."""
        ...

    async def get(self, entity: str, key: str) -> Record | None:
        """Read one record by key now, or ``None`` when it does not exist."""
        ...

    async def search(self, entity: str, criteria: Values, limit: int = 50) -> Sequence[Record]:
        """Find records whose fields equal ``criteria`` (all of them), for matching."""
        ...

    async def create(self, entity: str, values: Values, key: str | None = None) -> Record:
        """Create a record, with the key chosen by us when the system lets us choose."""
        ...

    async def update(
        self, entity: str, key: str, values: Values, version: str | None = None
    ) -> Record:
        """Change the given fields; with ``version``, only if the record is still at it."""
        ...

    async def delete(self, entity: str, key: str) -> None:
        """Delete (or deactivate, per the entity's delete policy) one record."""
        ...

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply writes in the system's batch form; one result per op, partial failure normal."""
        ...

    def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        """Yield every key of ``entity`` in pages, for key-set sweeps (inferred deletes)."""
        ...

    async def aclose(self) -> None:
        """Release HTTP connections and sessions."""
        ...


@runtime_checkable
class EntityCatalogue(Protocol):
    """Which entities can a person map? A connector that can list them implements this.

    Contract:
        * ``entity_names`` returns names ``describe`` accepts, sorted; it may ask the system
          (a CRM lists its custom objects only in its own model).
        * Raises only :class:`syncloom.errors.SyncError` subclasses, like every call.

    Example::

        class AcmeConnector:
            async def entity_names(self) -> Sequence[str]:
                return sorted(ENTITIES)
    """

    async def entity_names(self) -> Sequence[str]:
        """Called when a person opens a field map: the entities of this Connection."""
        ...


HintAction = Literal["upsert", "delete"]
"""What a change hint says happened to its record."""


@dataclass(frozen=True, slots=True)
class Hint:
    """A pushed notice that record ``key`` may have changed; the record job re-reads it.

    Attributes:
        key: the record the notice names.
        version: the source's version the notice reports (its modified-on as the connector
            renders ``Record.modified_on_utc.isoformat()``, so a webhook and a poll of the
            same version make the same job), or ``None`` when the notice carries none.
        action: ``upsert`` for inserts and updates, ``delete`` for deletions.
        occurred_at_utc: when the change happened by the source's clock, when it says.
    """

    key: RecordKey
    version: str | None = None
    action: HintAction = "upsert"
    occurred_at_utc: datetime | None = None


@runtime_checkable
class WebhookReceiver(Protocol):
    """Which records does a system's push name? A receiver reads one delivery and says.

    Contract:
        * ``parse_hints`` runs only after the delivery's signature was verified; it reads the
          body and returns one :class:`Hint` per record named (possibly none, for events
          syncloom ignores). It never calls the system: hints are re-read by the record job.
        * A body that is not this system's notice raises
          :class:`~syncloom.errors.ValidationError` with a text that says what was expected.
        * Keys are the same :class:`RecordKey` the system's Connector returns for the record.

    Example::

        class AcmeWebhookReceiver:
            def parse_hints(self, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
                notice = json.loads(body)
                key = RecordKey("acme", notice["type"], notice["id"])
                return [Hint(key, notice["version"], "upsert")]
    """

    def parse_hints(self, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
        """Called once per accepted delivery: the hints its body carries, in body order."""
        ...
