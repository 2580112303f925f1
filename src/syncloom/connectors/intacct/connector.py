"""IntacctConnector: the Connector protocol over the Sage Intacct XML gateway.

Example::

    conn = IntacctConnector("https://api.intacct.com", IntacctCredentials(...), entity_id="E100")
    record = await conn.create("CUSTOMER", {"NAME": "Acme", "DISPLAYCONTACT.PRINTAS": "Acme"},
                               key="C-1001")
    page = await conn.read_changes("CUSTOMER", since=watermark, cursor=None)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from syncloom.connectors.base import (
    ChangePage,
    EntitySpec,
    Op,
    OpKind,
    OpResult,
    Record,
    Values,
)
from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, response_cap
from syncloom.connectors.intacct import legacy, queries
from syncloom.connectors.intacct.auth import IntacctCredentials
from syncloom.connectors.intacct.batches import BatchWriter
from syncloom.connectors.intacct.client import IntacctClient, Result
from syncloom.connectors.intacct.dimensions import DimensionCatalogue, with_line_fields
from syncloom.connectors.intacct.entities import ENTITIES, IntacctEntity
from syncloom.connectors.intacct.errors import SYSTEM
from syncloom.connectors.intacct.inspect import inspect_body, merge, parse_inspect
from syncloom.connectors.intacct.records import to_record
from syncloom.errors import (
    AlreadyExistsError,
    ConfigError,
    NotFoundError,
    RemoteError,
    StaleVersionError,
    SyncError,
)

MAX_PAGE = 2000
MAX_BATCH = 100


class IntacctConnector:
    """Sage Intacct through its XML Web Services gateway (dtdversion 3.0)."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        credentials: IntacctCredentials,
        *,
        entity_id: str | None = None,
        company_tz: str = "UTC",
        timeout_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.entity_id = entity_id or None
        self.tz = ZoneInfo(company_tz)
        self.timeout_s = timeout_s
        self.transport = transport
        self.max_response_bytes = max_response_bytes
        self.client = IntacctClient(
            base_url,
            credentials,
            entity_id=entity_id,
            timeout_s=timeout_s,
            transport=transport,
            max_response_bytes=max_response_bytes,
        )
        # Field details are company-wide: siblings for other entities share them.
        self._inspected: dict[str, IntacctEntity] = {}
        self._inspecting = asyncio.Lock()
        # The company's user-defined dimensions, asked once and shared the same way.
        self._dimensions = DimensionCatalogue()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IntacctConnector:
        """Build from ``{"base_url", "credentials": {...}, "entity_id", "company_tz"}``.

        Raises:
            ConfigError: when a required setting is missing.
        """
        try:
            creds = IntacctCredentials.from_mapping(config["credentials"])
            return cls(
                str(config["base_url"]),
                creds,
                entity_id=config.get("entity_id"),
                company_tz=str(config.get("company_tz", "UTC")),
                timeout_s=float(config.get("timeout_s", 60.0)),
                max_response_bytes=response_cap(config.get("max_response_bytes")),
            )
        except KeyError as exc:
            raise ConfigError(f"missing Intacct setting {exc.args[0]!r}") from None

    def for_entity(self, entity_id: str | None) -> IntacctConnector:
        """A sibling connector signed in to another entity (``None`` = top level), per flow."""
        sibling = IntacctConnector(
            self.base_url,
            self.credentials,
            entity_id=entity_id,
            company_tz=str(self.tz),
            timeout_s=self.timeout_s,
            transport=self.transport,
            max_response_bytes=self.max_response_bytes,
        )
        sibling._inspected = self._inspected
        sibling._dimensions = self._dimensions
        return sibling

    def __repr__(self) -> str:
        return f"IntacctConnector({self.base_url!r}, entity_id={self.entity_id!r})"

    async def aclose(self) -> None:
        """Release HTTP connections."""
        await self.client.aclose()

    # -- reads -----------------------------------------------------------------------------
    def _entity(self, name: str) -> IntacctEntity:
        """A declared entity, or a user-defined dimension already discovered (see _known)."""
        entity = ENTITIES.get(name.upper()) or self._dimensions.entities.get(name.upper())
        if entity is None:
            raise NotFoundError(f"Intacct entity {name!r} is not supported", system=SYSTEM)
        return self._inspected.get(entity.name, entity)

    async def _known(self, name: str) -> IntacctEntity:
        """Like _entity, asking the company for its dimensions when ``name`` is not declared."""
        if name.upper() not in ENTITIES:
            await self._dimensions.load(self._one)
        return self._entity(name)

    async def _described(self, name: str) -> IntacctEntity:
        """The entity with this company's field details and UDFs (inspected once)."""
        entity = await self._known(name)
        if entity.name in self._inspected:
            return self._inspected[entity.name]
        dimensions = await self._dimensions.load(self._one) if entity.dimension_lines else ()
        # One inspect per object, however many jobs ask at once (the gateway allows two calls).
        async with self._inspecting:
            if entity.name not in self._inspected:
                result = await self._one(inspect_body(entity.name))
                merged = merge(entity, parse_inspect(result.data))
                if entity.dimension_lines:
                    merged = with_line_fields(merged, dimensions)
                self._inspected[entity.name] = merged
        return self._inspected[entity.name]

    async def entity_names(self) -> Sequence[str]:
        """The objects this connector syncs, the company's user-defined dimensions included."""
        await self._dimensions.load(self._one)
        return sorted({*ENTITIES, *self._dimensions.entities})

    async def _one(self, body: str, record_key: str | None = None) -> Result:
        (result,) = await self.client.call([body])
        if not result.ok:
            raise result.error(record_key)
        return result

    async def describe(self, entity: str) -> EntitySpec:
        """The fields of ``entity`` (declared, with the company's limits, plus its UDFs)."""
        return (await self._described(entity)).spec

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        """Records with ``WHENMODIFIED`` at or after ``since``, keyset-paged.

        Pages walk (``WHENMODIFIED``, ``RECORDNO``) ascending, and the cursor holds the last
        pair, so records sharing one second never fall between pages and rows modified
        mid-scan are not skipped the way offset paging would skip them.
        """
        spec = await self._described(entity)
        modified, number = spec.modified_field, spec.recordno_field
        conditions = []
        if since is not None:
            floor = queries.format_timestamp(since, self.tz)
            conditions.append(queries.compare("greaterthanorequalto", modified, floor))
        if cursor:
            stamp, _, recordno = cursor.rpartition("|")
            conditions.append(queries.after(stamp, recordno, modified, number))
        body = queries.query(
            spec,
            spec.read_fields,
            queries.all_of(conditions),
            (modified, number),
            pagesize=max(1, min(page_size, MAX_PAGE)),
        )
        result = await self._one(body)
        elements = result.records()
        records = [to_record(spec, e, self.tz) for e in elements]
        remaining = int(result.data.get("numremaining", "0")) if result.data is not None else 0
        next_cursor = None
        if remaining > 0 and elements:
            last = elements[-1]
            next_cursor = f"{last.findtext(modified)}|{last.findtext(number)}"
        if since is not None:
            # Intacct filters on whole seconds; keep the contract's "at or after since".
            records = [r for r in records if r.modified_on_utc >= since]
        return ChangePage(records, next_cursor)

    async def get(self, entity: str, key: str) -> Record | None:
        """Read one record by business id (``readByName``), or ``None``."""
        spec = await self._described(entity)
        body = queries.by_keys(spec, [key])
        result = await self._one(body, key)
        found = [to_record(spec, e, self.tz) for e in result.records()]
        return found[0] if found else None

    async def search(self, entity: str, criteria: Values, limit: int = 50) -> Sequence[Record]:
        """Records whose fields equal every criterion."""
        spec = await self._described(entity)
        condition = queries.all_of([queries.compare("equalto", k, v) for k, v in criteria.items()])
        body = queries.query(
            spec, spec.read_fields, condition, pagesize=max(1, min(limit, MAX_PAGE))
        )
        result = await self._one(body)
        return [to_record(spec, e, self.tz) for e in result.records()]

    async def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        """Every business id, in RECORDNO order, keyset-paged."""
        spec = await self._known(entity)
        last = "0"
        while True:
            number = spec.recordno_field
            condition = queries.compare("greaterthan", number, last)
            fields = [number, spec.key_field] if not spec.server_keyed else [number]
            body = queries.query(spec, fields, condition, pagesize=max(1, min(page_size, MAX_PAGE)))
            result = await self._one(body)
            elements = result.records()
            if not elements:
                return
            yield [e.findtext(spec.key_field) or "" for e in elements]
            last = elements[-1].findtext(number) or last
            if result.data is not None and result.data.get("numremaining") == "0":
                return

    # -- writes ----------------------------------------------------------------------------
    async def create(self, entity: str, values: Values, key: str | None = None) -> Record:
        """Create one record; ``key`` is the business id (AlreadyExistsError if taken)."""
        results = await self.batch([Op(OpKind.CREATE, entity, key, values)])
        return _unwrap(results[0])

    async def update(
        self, entity: str, key: str, values: Values, version: str | None = None
    ) -> Record:
        """Change the given fields; with ``version`` (a WHENMODIFIED), only if unchanged."""
        if version is not None:
            current = await self.get(entity, key)
            if current is None:
                raise NotFoundError(f"{entity} {key} does not exist", system=SYSTEM)
            if current.version != version:
                raise StaleVersionError(
                    f"{entity} {key} changed since {version}; re-read it", system=SYSTEM
                )
        results = await self.batch([Op(OpKind.UPDATE, entity, key, values)])
        return _unwrap(results[0])

    async def delete(self, entity: str, key: str) -> None:
        """Delete by business id (looked up to its RECORDNO first)."""
        spec = await self._known(entity)
        recordno = key
        if not spec.server_keyed:
            current = await self.get(entity, key)
            if current is None:
                raise NotFoundError(f"{entity} {key} does not exist", system=SYSTEM)
            recordno = str(current.values["RECORDNO"])
        await self._one(queries.delete(spec, [recordno]), key)

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply ops; consecutive generic creates/updates of one entity go 100 per call."""
        if any(op.entity.upper() not in ENTITIES for op in ops):
            # The writer looks entities up without asking; a UDD must be known by then.
            await self._dimensions.load(self._one)
        return await BatchWriter(self).run(ops)

    async def create_legacy(self, spec: IntacctEntity, values: Values, key: str | None) -> Record:
        """Create through the object's legacy function, then read it back by ``<key>``.

        Objects keyed by the server's ``RECORDNO`` are made idempotent through ``EXTERNALID``:
        a create whose external id already exists raises AlreadyExistsError naming the record,
        so a create retried after a lost answer never writes a second invoice or payment.
        """
        external = values.get("EXTERNALID")
        if spec.server_keyed and spec.spec.field("EXTERNALID") is not None and external:
            found = await self.search(spec.name, {"EXTERNALID": external}, limit=2)
            if found:
                raise AlreadyExistsError(
                    f"{spec.name} with EXTERNALID {external} already exists",
                    key=found[0].key.id,
                    system=SYSTEM,
                )
        if spec.writer == "create_invoice":
            body = legacy.create_invoice(values)
        elif spec.writer == "create_arpayment":
            body = legacy.create_arpayment(values)
        else:
            kind = str(values.get("DOCPARID") or "Sales Order")
            number = key[len(kind) + 1 :] if key and key.startswith(kind + "-") else key
            body = legacy.create_sotransaction(values, number)
        result = await self._one(body, key)
        record = await self.get(spec.name, result.key or "")
        if record is None:
            raise NotFoundError(f"{spec.name} {result.key} vanished after create", system=SYSTEM)
        return record


def _unwrap(result: OpResult) -> Record:
    if result.error is not None:
        raise result.error
    if result.record is None:
        raise RemoteError("Intacct returned no record", system=SYSTEM)
    return result.record


__all__ = ["IntacctConnector", "IntacctCredentials", "SyncError"]
