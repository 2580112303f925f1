"""D365Connector: the Connector protocol over F&O OData v4 with Entra ID tokens.

Example::

    async with D365Connector(
        base_url="https://contoso.operations.dynamics.com",
        tenant="contoso.onmicrosoft.com", client_id="...", client_secret="...",
    ) as erp:
        record = await erp.get("CustomersV3", "usmf/US-001")

Every keyed call and query says ``cross-company=true``: the legal entity comes from the key
(``usmf/US-001``) or the ``dataAreaId`` value, never from the app user's default company.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from syncloom.connectors.base import (
    ChangePage,
    EntitySpec,
    Op,
    OpKind,
    OpResult,
    Record,
    RecordKey,
    Values,
)
from syncloom.connectors.d365 import batches, keys, queries, values
from syncloom.connectors.d365.auth import TokenProvider
from syncloom.connectors.d365.client import ODataClient
from syncloom.connectors.d365.entities import ENTITIES, D365Entity
from syncloom.connectors.d365.errors import translate
from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, CappedClient, response_cap
from syncloom.errors import ConfigError, NotFoundError, SyncError, ValidationError

SYSTEM = "d365"
CROSS = {"cross-company": "true"}
_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)


class D365Connector:
    """Reads and writes F&O data entities; see the module docstring."""

    system = SYSTEM

    def __init__(
        self,
        *,
        base_url: str,
        tenant: str,
        client_id: str,
        client_secret: str,
        authority_host: str = "https://login.microsoftonline.com",
        ca_file: str | None = None,
        default_company: str = "usmf",
        batch_size: int = 500,
        timeout_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/").lower()
        self.default_company = default_company.lower()
        self.batch_size = max(1, min(batch_size, batches.MAX_OPERATIONS))
        verify: str | bool = ca_file or True
        self.tokens = TokenProvider(
            authority=f"{authority_host.rstrip('/')}/{tenant}",
            client_id=client_id,
            client_secret=client_secret,
            resource=self.base_url,
            verify=verify,
            max_response_bytes=max_response_bytes,
        )
        context = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._http = CappedClient(
            system=SYSTEM,
            max_response_bytes=max_response_bytes,
            verify=context,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )
        self.client = ODataClient(self.base_url, self.tokens, self._http)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> D365Connector:
        """Build from a connection mapping (``base_url``, ``tenant``, ``client_id``, ...).

        Raises:
            ConfigError: when a required setting is missing.
        """
        missing = [
            k for k in ("base_url", "tenant", "client_id", "client_secret") if not config.get(k)
        ]
        if missing:
            raise ConfigError(f"d365 connection lacks {', '.join(missing)}")
        known = ("authority_host", "ca_file", "default_company", "batch_size", "timeout_s")
        return cls(
            base_url=str(config["base_url"]),
            tenant=str(config["tenant"]),
            client_id=str(config["client_id"]),
            client_secret=str(config["client_secret"]),
            max_response_bytes=response_cap(config.get("max_response_bytes")),
            **{k: config[k] for k in known if config.get(k) is not None},
        )

    def __repr__(self) -> str:
        return f"D365Connector(base_url={self.base_url!r}, client_id={self.tokens.client_id!r})"

    async def __aenter__(self) -> D365Connector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release HTTP connections (ours and msal's)."""
        await self._http.aclose()
        self.tokens.close()

    # -- helpers -------------------------------------------------------------------------------
    def _entity(self, name: str) -> D365Entity:
        entity = ENTITIES.get(name)
        if entity is None:
            raise NotFoundError(
                f"unknown D365 entity {name!r}; known: {', '.join(ENTITIES)}", system=SYSTEM
            )
        return entity

    def _record(self, entity: D365Entity, row: dict[str, Any]) -> Record:
        ident = keys.make_id(entity, row)
        modified = entity.spec.modified_field
        stamp = row.get(modified) if modified else None
        moment = values.parse_instant(stamp) if isinstance(stamp, str) and stamp else _EPOCH
        return Record(
            key=RecordKey(SYSTEM, entity.spec.name, ident),
            values=values.row_values(entity, row),
            modified_on_utc=moment,
            version=row.get("@odata.etag"),
        )

    def _key(self, entity: D365Entity, ident: str) -> str:
        return str(RecordKey(SYSTEM, entity.spec.name, ident))

    # -- reads ---------------------------------------------------------------------------------
    async def describe(self, entity: str) -> EntitySpec:
        """Describe ``entity``: keys, fields, modified-on field, delete policy, batch size."""
        return self._entity(entity).spec

    async def entity_names(self) -> Sequence[str]:
        """The data entities this connector syncs, by public set name."""
        return sorted(ENTITIES)

    async def get(self, entity: str, key: str) -> Record | None:
        """Read one record by its id (``usmf/C0001``), or ``None``."""
        spec = self._entity(entity)
        try:
            row = await self.client.get_json(keys.segment(spec, key), CROSS, self._key(spec, key))
        except NotFoundError:
            return None
        return self._record(spec, row)

    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        """One page of records modified at or after ``since``, oldest first."""
        spec = self._entity(entity)
        params = {**CROSS, "$orderby": queries.order(spec), "$top": str(page_size)}
        where = queries.changes_filter(spec, since if spec.spec.modified_field else None, cursor)
        if where:
            params["$filter"] = where
        doc = await self.client.get_json(spec.spec.name, params)
        rows = doc.get("value", [])
        records = [self._record(spec, r) for r in rows]
        if not spec.spec.modified_field and since is not None:
            # No timestamp to poll on: a full sweep, each row stamped with the watermark.
            records = [Record(r.key, r.values, since, r.version, r.modified_by) for r in records]
        next_cursor = None
        if len(rows) >= page_size and rows:
            last = rows[-1]
            fields = [f for f in [spec.spec.modified_field, *spec.spec.key_fields] if f]
            next_cursor = queries.encode_cursor([last.get(f) for f in fields])
        return ChangePage(records, next_cursor)

    async def search(self, entity: str, criteria: Values, limit: int = 50) -> Sequence[Record]:
        """Records whose fields equal ``criteria`` (across legal entities)."""
        spec = self._entity(entity)
        params = {**CROSS, "$top": str(limit), "$orderby": ",".join(spec.spec.key_fields)}
        if criteria:
            params["$filter"] = queries.equals(spec, criteria)
        doc = await self.client.get_json(spec.spec.name, params)
        # F&O reads '*' inside an eq string as a wildcard and offers no escape for it: keep
        # only the rows that really equal what was asked, or a match could bind a stranger.
        rows = [r for r in doc.get("value", []) if _equal_where_wild(r, criteria)]
        return [self._record(spec, r) for r in rows]

    async def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        """Every id of ``entity``, following ``@odata.nextLink`` pages."""
        spec = self._entity(entity)
        fields = ",".join(spec.spec.key_fields)
        path: str | None = spec.spec.name
        params: dict[str, str] | None = {**CROSS, "$select": fields, "$orderby": fields}
        pending: list[str] = []
        while path:
            doc = await self.client.get_json(path, params)
            pending.extend(keys.make_id(spec, row) for row in doc.get("value", []))
            while len(pending) >= page_size:
                yield pending[:page_size]
                pending = pending[page_size:]
            path, params = doc.get("@odata.nextLink"), None
        if pending:
            yield pending

    async def iter_records(
        self, entity: str, filter_text: str | None = None
    ) -> AsyncIterator[list[Record]]:
        """Every record of ``entity`` page by page, following ``@odata.nextLink``."""
        spec = self._entity(entity)
        path: str | None = spec.spec.name
        params: dict[str, str] | None = {**CROSS, "$orderby": ",".join(spec.spec.key_fields)}
        if filter_text and params is not None:
            params["$filter"] = filter_text
        while path:
            doc = await self.client.get_json(path, params)
            yield [self._record(spec, row) for row in doc.get("value", [])]
            path, params = doc.get("@odata.nextLink"), None

    # -- writes --------------------------------------------------------------------------------
    def _create_body(self, spec: D365Entity, values_in: Values, key: str | None) -> dict[str, Any]:
        body = values.body_of(spec, dict(values_in))
        if key is not None:
            body.update(keys.parse_id(spec, key))
        if spec.company_specific:
            body["dataAreaId"] = str(body.get("dataAreaId") or self.default_company).lower()
        body["@odata.type"] = f"#Microsoft.Dynamics.DataEntities.{spec.type_name}"
        return body

    def _writable(self, name: str) -> D365Entity:
        spec = self._entity(name)
        if spec.spec.read_only:
            raise ValidationError(f"{name} is read-only in D365", system=SYSTEM)
        return spec

    async def create(self, entity: str, values_in: Values, key: str | None = None) -> Record:
        """Create a record; with ``key`` (``usmf/C0001``) the key is ours.

        A repeated key fails with :class:`~syncloom.errors.AlreadyExistsError` (D365's
        "The record already exists.") instead of making a second record.
        """
        spec = self._writable(entity)
        body = self._create_body(spec, values_in, key)
        record_key = self._key(spec, key) if key else None
        response = await self.client.send(
            "POST", spec.spec.name, body=values.dumps(body), record_key=record_key
        )
        return self._record(spec, values.loads(response.content))

    async def update(
        self, entity: str, key: str, values_in: Values, version: str | None = None
    ) -> Record:
        """PATCH the given fields; with ``version`` (an ETag) only if the record is still at it."""
        spec = self._writable(entity)
        headers = {"If-Match": version} if version else {}
        body = values.body_of(spec, dict(values_in))
        await self.client.send(
            "PATCH",
            keys.segment(spec, key),
            params=CROSS,
            body=values.dumps(body),
            headers=headers,
            record_key=self._key(spec, key),
        )
        record = await self.get(entity, key)
        if record is None:
            raise NotFoundError(f"{entity} {key} vanished after its update", system=SYSTEM)
        return record

    async def delete(self, entity: str, key: str) -> None:
        """Delete one record."""
        spec = self._writable(entity)
        await self.client.send(
            "DELETE", keys.segment(spec, key), params=CROSS, record_key=self._key(spec, key)
        )

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply writes through ``$batch``, one changeset per op; one result per op."""
        results: list[OpResult] = []
        for start in range(0, len(ops), self.batch_size):
            results.extend(await self._batch_chunk(list(ops[start : start + self.batch_size])))
        return results

    async def _batch_chunk(self, ops: list[Op]) -> list[OpResult]:
        prepared: list[tuple[Op, batches.Request | SyncError]] = []
        for op in ops:
            try:
                prepared.append((op, self._inner(op)))
            except SyncError as exc:
                prepared.append((op, exc))
        requests = [r for _, r in prepared if isinstance(r, batches.Request)]
        try:
            answers = dict(
                (cid, answer) for cid, answer in await self.client.batch(requests) if cid
            ) if requests else {}  # fmt: skip
        except SyncError as exc:
            return [OpResult(op, error=exc) for op in ops]
        out, number = [], 0
        for op, request in prepared:
            if isinstance(request, SyncError):
                out.append(OpResult(op, error=request))
                continue
            number += 1
            out.append(await self._result(op, answers.get(str(number))))
        return out

    def _inner(self, op: Op) -> batches.Request:
        spec = self._writable(op.entity)
        if op.kind is OpKind.CREATE:
            body = values.dumps(self._create_body(spec, op.values, op.key))
            return batches.Request("POST", self.client.url(spec.spec.name), body)
        if not op.key:
            raise ValidationError(f"{op.kind} of {op.entity} needs a key", system=SYSTEM)
        url = self.client.url(keys.segment(spec, op.key)) + "?cross-company=true"
        if op.kind is OpKind.DELETE:
            return batches.Request("DELETE", url)
        headers: tuple[tuple[str, str], ...] = (("Prefer", "return=representation"),)
        if op.version:
            headers += (("If-Match", op.version),)
        body = values.dumps(values.body_of(spec, dict(op.values)))
        return batches.Request("PATCH", url, body, headers)

    async def _result(self, op: Op, answer: Any) -> OpResult:
        spec = self._entity(op.entity)
        record_key = self._key(spec, op.key) if op.key else None
        if answer is None:
            return OpResult(op, error=translate(record_key=record_key))
        if answer.status >= 400:
            return OpResult(op, error=translate(answer=answer, record_key=record_key))
        if op.kind is OpKind.DELETE:
            return OpResult(op)
        if answer.body.strip():
            return OpResult(op, record=self._record(spec, values.loads(answer.body)))
        try:
            return OpResult(op, record=await self.get(op.entity, op.key or ""))
        except SyncError as exc:
            return OpResult(op, error=exc)


def _equal_where_wild(row: Mapping[str, Any], criteria: Values) -> bool:
    return all(
        row.get(name) == value
        for name, value in criteria.items()
        if isinstance(value, str) and "*" in value
    )
