"""CreatioConnector: Creatio CRM through its OData 4 service.

Reads changes by ``ModifiedOn`` with a keyset cursor over (``ModifiedOn``, ``Id``), finds
deletes by key-set sweeps (``iter_keys``), writes through ``$batch`` with per-request
results, and creates with a client-chosen ``Id`` so that a retried create can never make a
second record. Example::

    conn = CreatioConnector("https://acme.creatio.com", username="Supervisor", password="…")
    page = await conn.read_changes("Account", since=watermark, cursor=None)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from syncloom.connectors.base import (
    ChangePage,
    EntitySpec,
    Op,
    OpResult,
    Record,
    RecordKey,
    Values,
)
from syncloom.connectors.creatio import queries
from syncloom.connectors.creatio.auth import Authenticator, FormsAuth, OAuthAuth, identity_url
from syncloom.connectors.creatio.batching import run_batch
from syncloom.connectors.creatio.client import CreatioClient, parse_json
from syncloom.connectors.creatio.entities import (
    EMPTY_GUID,
    KEY_FIELD,
    MODIFIED_BY_FIELD,
    MODIFIED_FIELD,
)
from syncloom.connectors.creatio.errors import SYSTEM, translate
from syncloom.connectors.creatio.lookups import LookupResolver
from syncloom.connectors.creatio.metadata import parse_metadata
from syncloom.connectors.creatio.values import encode_values, from_wire, parse_instant
from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, response_cap
from syncloom.errors import (
    ConfigError,
    NotFoundError,
    RemoteError,
    StaleVersionError,
    TransientError,
)


class CreatioConnector:
    """The :class:`~syncloom.connectors.base.Connector` for Creatio.

    Args:
        base_url: the site root, e.g. ``https://acme.creatio.com``.
        username: forms-login user (with ``password``), or
        client_id: OAuth client (with ``client_secret`` and optionally ``token_url``).
        netcore: the site runs on .NET Core/.NET 8 (OData at ``/odata/``, not ``/0/odata/``).
        timeout_s: per-request timeout.
        max_response_bytes: the most bytes one answer may carry (a bigger one is refused).
        transport: an httpx transport to use instead of the network (tests).
    """

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        netcore: bool = False,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        auth: Authenticator
        if client_id and client_secret:
            auth = OAuthAuth(client_id, client_secret, token_url or identity_url(base_url))
        elif username and password:
            auth = FormsAuth(username, password)
        else:
            raise ConfigError("Creatio needs username+password or client_id+client_secret")
        self.client = CreatioClient(
            base_url,
            auth,
            netcore=netcore,
            timeout_s=timeout_s,
            transport=transport,
            max_response_bytes=max_response_bytes,
        )
        self.lookups = LookupResolver(self._read_all)
        self._specs: dict[str, EntitySpec] | None = None

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, transport: httpx.AsyncBaseTransport | None = None
    ) -> CreatioConnector:
        """Build from a Connection's settings (``base_url``, credentials, options).

        Raises:
            ConfigError: when ``base_url`` or the credentials are missing.
        """
        if not config.get("base_url"):
            raise ConfigError("Creatio connection needs base_url")
        return cls(
            str(config["base_url"]),
            username=config.get("username"),
            password=config.get("password"),
            client_id=config.get("client_id"),
            client_secret=config.get("client_secret"),
            token_url=config.get("token_url"),
            netcore=bool(config.get("netcore", False)),
            timeout_s=float(config.get("timeout_s", 30.0)),
            transport=transport,
            max_response_bytes=response_cap(config.get("max_response_bytes")),
        )

    def __repr__(self) -> str:
        return f"CreatioConnector({self.client.base_url!r}, auth={self.client.auth!r})"

    async def aclose(self) -> None:
        """Release HTTP connections."""
        await self.client.aclose()

    # -- describing -------------------------------------------------------------------------
    async def describe(self, entity: str) -> EntitySpec:
        """The entity's fields as this tenant's ``$metadata`` lists them (read once)."""
        spec = (await self._model()).get(entity)
        if spec is None:
            raise NotFoundError(
                f"Creatio has no entity {entity!r}; entity names are case-sensitive",
                system=SYSTEM,
                status=404,
            )
        return spec

    async def _model(self) -> dict[str, EntitySpec]:
        if self._specs is None:
            response = await self.client.request(
                "GET", "$metadata", headers={"Accept": "application/xml"}
            )
            if response.status_code != 200:
                raise translate(response)
            self._specs = parse_metadata(response.content)
        return self._specs

    async def entity_names(self) -> Sequence[str]:
        """Every entity this tenant's ``$metadata`` lists, custom ``Usr…`` objects included."""
        return sorted(await self._model())

    def _select(self, spec: EntitySpec) -> str:
        return ",".join(f.name for f in spec.fields)

    def _record(self, spec: EntitySpec, row: Mapping[str, Any]) -> Record:
        values = {f.name: from_wire(f.type, row[f.name]) for f in spec.fields if f.name in row}
        modified = parse_instant(str(row[MODIFIED_FIELD]))
        assert modified is not None, "Creatio rows always carry ModifiedOn"
        return Record(
            key=RecordKey(SYSTEM, spec.name, str(row[KEY_FIELD]).lower()),
            values=values,
            modified_on_utc=modified,
            version=str(row[MODIFIED_FIELD]),
            modified_by=_modified_by(row.get(MODIFIED_BY_FIELD)),
        )

    async def _rows(self, entity: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
        response = await self.client.request("GET", entity, params=params)
        if response.status_code != 200:
            raise translate(response)
        doc = parse_json(response)
        rows = doc.get("value") if isinstance(doc, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise TransientError(
                f"Creatio answered {entity} without a list of records; retry later",
                system=SYSTEM,
                status=response.status_code,
            )
        return rows

    async def _read_all(self, entity: str, columns: Sequence[str]) -> list[dict[str, object]]:
        spec = await self.describe(entity)
        wanted = [c for c in columns if spec.field(c) is not None]
        rows: list[dict[str, object]] = []
        async for page in self._keyset(entity, ",".join(wanted), 1000):
            rows.extend(page)
        return rows

    # -- reading ---------------------------------------------------------------------------
    async def read_changes(
        self, entity: str, since: datetime | None, cursor: str | None, page_size: int = 500
    ) -> ChangePage:
        """One page of records modified at or after ``since``, in (ModifiedOn, Id) order."""
        spec = await self.describe(entity)
        params: dict[str, str | int] = {
            "$select": self._select(spec),
            "$orderby": queries.CHANGE_ORDER,
            "$top": page_size,
        }
        if cursor is not None:
            params["$filter"] = queries.keyset_filter(*queries.decode_cursor(cursor))
        elif since is not None:
            params["$filter"] = queries.since_filter(since)
        rows = await self._rows(entity, params)
        records = [self._record(spec, row) for row in rows]
        next_cursor = None
        if len(rows) == page_size and rows:
            last = rows[-1]
            next_cursor = queries.encode_cursor(str(last[MODIFIED_FIELD]), str(last[KEY_FIELD]))
        return ChangePage(records=records, cursor=next_cursor)

    async def get(self, entity: str, key: str) -> Record | None:
        """Read one record by ``Id``, or ``None`` when there is none."""
        spec = await self.describe(entity)
        try:
            path = f"{entity}({_guid(key)})"
        except NotFoundError:
            return None
        response = await self.client.request("GET", path, params={"$select": self._select(spec)})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise translate(response, record_key=f"{SYSTEM}:{entity}:{key}")
        return self._record(spec, parse_json(response))

    async def search(self, entity: str, criteria: Values, limit: int = 50) -> Sequence[Record]:
        """Records whose fields equal every criterion (lookups compared by Id)."""
        spec = await self.describe(entity)
        params: dict[str, str | int] = {
            "$select": self._select(spec),
            "$orderby": f"{KEY_FIELD} asc",
            "$top": limit,
        }
        if criteria:
            params["$filter"] = queries.equals_all(spec, dict(criteria))
        return [self._record(spec, row) for row in await self._rows(entity, params)]

    async def iter_keys(self, entity: str, page_size: int = 1000) -> AsyncIterator[Sequence[str]]:
        """Every ``Id`` of ``entity`` in pages, for key-set sweeps that reveal deletes."""
        async for rows in self._keyset(entity, KEY_FIELD, page_size):
            yield [str(row[KEY_FIELD]) for row in rows]

    async def _keyset(
        self, entity: str, select: str, page_size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        # Keyset on Id (not $skip): a record deleted mid-sweep must not shift later pages,
        # or a live record would be missed and wrongly taken for deleted.
        last: str | None = None
        while True:
            params: dict[str, str | int] = {
                "$select": select,
                "$orderby": f"{KEY_FIELD} asc",
                "$top": page_size,
            }
            if last is not None:
                params["$filter"] = f"{KEY_FIELD} gt {last}"
            rows = await self._rows(entity, params)
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            last = str(rows[-1][KEY_FIELD])

    # -- writing ---------------------------------------------------------------------------
    async def create(self, entity: str, values: Values, key: str | None = None) -> Record:
        """Create with a client-chosen ``Id`` (a new GUID when ``key`` is None).

        Raises:
            AlreadyExistsError: when a record with this ``Id`` exists (e.g. a retried create).
        """
        spec = await self.describe(entity)
        ident = _guid(key) if key else str(uuid.uuid4())
        body = {KEY_FIELD: ident, **encode_values(spec, dict(values))}
        response = await self.client.request("POST", entity, body=body)
        if response.status_code != 201:
            raise translate(response, record_key=f"{SYSTEM}:{entity}:{ident}")
        return self._record(spec, parse_json(response))

    async def update(
        self, entity: str, key: str, values: Values, version: str | None = None
    ) -> Record:
        """PATCH the given columns and read the record back.

        Creatio has no ETags, so ``version`` (a ``ModifiedOn`` text) is compared here just
        before the write; a change that lands between that read and the PATCH still wins.

        Raises:
            StaleVersionError: when the record's ``ModifiedOn`` is no longer ``version``.
            NotFoundError: when there is no such record.
        """
        spec = await self.describe(entity)
        record_key = f"{SYSTEM}:{entity}:{key}"
        if version is not None:
            current = await self.get(entity, key)
            if current is not None and current.version != version:
                raise StaleVersionError(
                    f"{record_key} changed since version {version}; re-read it",
                    system=SYSTEM,
                    record_key=record_key,
                )
        body = encode_values(spec, dict(values))
        response = await self.client.request("PATCH", f"{entity}({_guid(key)})", body=body)
        if response.status_code != 204:
            raise translate(response, record_key=record_key)
        record = await self.get(entity, key)
        if record is None:
            raise NotFoundError(f"{record_key} vanished right after its update", system=SYSTEM)
        return record

    async def delete(self, entity: str, key: str) -> None:
        """Delete one record.

        Raises:
            NotFoundError: when there is no such record.
        """
        response = await self.client.request("DELETE", f"{entity}({_guid(key)})")
        if response.status_code != 204:
            raise translate(response, record_key=f"{SYSTEM}:{entity}:{key}")

    async def batch(self, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply ops through ``$batch`` (100 per call), one result per op, in order."""
        specs: dict[str, EntitySpec | RemoteError] = {}
        for entity in dict.fromkeys(op.entity for op in ops):
            try:
                specs[entity] = await self.describe(entity)
            except RemoteError as exc:  # reported on each op of that entity
                specs[entity] = exc
        return await run_batch(self.client, specs, ops, self._record)

    # -- lookups ---------------------------------------------------------------------------
    async def lookup_id(self, entity: str, text: str) -> str | None:
        """The id of the lookup row named or coded ``text`` (``Country``/``US``...)."""
        return await self.lookups.id_for(entity, text)

    async def lookup_name(self, entity: str, key: str) -> str | None:
        """The display text of one lookup row."""
        return await self.lookups.name_for(entity, key)


def _modified_by(value: object) -> str | None:
    return str(value).lower() if value and value != EMPTY_GUID else None


def _guid(key: str) -> str:
    try:
        return str(uuid.UUID(key))
    except ValueError:
        raise NotFoundError(
            f"{key!r} is not a Creatio Id (a GUID)", system=SYSTEM, status=404
        ) from None
