"""Writes: POST (201 + entity), PATCH/PUT and DELETE (204), with F&O's validations.

The create pipeline follows F&O's: defaults for every field, the supplied fields, number
sequences for omitted keys, reference checks (``validateField``) and the duplicate check
(``The record already exists.``), each failure a 500 ``AxODataWriteException`` as captured
inside ``$batch``. Malformed JSON and unknown properties are OData 400s. ``If-Match`` is
optional; a stale one is a 412.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from syncloom.simulators.common.app import SimClock
from syncloom.simulators.common.store import SimStore
from syncloom.simulators.d365.entities import EMPTY_DATE, NAMESPACE, SETS, EntitySet
from syncloom.simulators.d365.pricing import price_line
from syncloom.simulators.d365.reads import find, not_found
from syncloom.simulators.d365.rows import (
    BadValue,
    Row,
    blank,
    convert,
    etag,
    format_instant,
    key_segment,
    public,
    row_key,
    store_key,
)
from syncloom.simulators.d365.wire import ODataRequest, ODataResponse, error, write_error

ChangeHook = Callable[[EntitySet, Row, str], None]


class Writer:
    """Applies writes to the store and reports each change to ``on_change``."""

    def __init__(self, store: SimStore, clock: SimClock, on_change: ChangeHook) -> None:
        self.store = store
        self.clock = clock
        self.on_change = on_change
        self.strict_nulls = False
        self.check_etags = True
        self._recids = itertools.count(5637144576)
        self._versions = itertools.count(1_000_003, 7919)
        self._sequences: dict[str, itertools.count[int]] = {}
        self.journal: list[tuple[str, str, Row | None]] | None = None

    def rollback(self, journal: list[tuple[str, str, Row | None]]) -> None:
        """Undo the writes of a failed changeset, newest first."""
        for table, key, previous in reversed(journal):
            if previous is None:
                self.store.delete(table, key)
            else:
                self.store.put(table, key, previous)

    def _remember(self, table: str, key: str, previous: Row | None) -> None:
        if self.journal is not None:
            self.journal.append((table, key, previous))

    # -- entry points ---------------------------------------------------------------------
    def create(self, entity: EntitySet, request: ODataRequest) -> ODataResponse:
        body = self._body(entity, request)
        if isinstance(body, ODataResponse):
            return body
        row = blank(entity)
        problem = self._apply(entity, row, body)
        if problem:
            return problem
        if entity.company_specific:
            company = row["dataAreaId"] or request.caller.user.default_company
            row["dataAreaId"] = str(company).lower()
        self._number(entity, row)
        price_line(entity, row)
        failure = self._validate(entity, row, creating=True)
        if failure:
            return failure
        row["_rid"], row["_rv"] = next(self._recids), 1
        self._stamp(entity, row)
        self._remember(entity.name, row_key(entity, row), None)
        self.store.put(entity.name, row_key(entity, row), row)
        self.on_change(entity, row, "created")
        doc = {"@odata.context": f"{request.base}/data/$metadata#{entity.name}/$entity"}
        doc.update(public(entity, row))
        location = f"{request.base}/data/{key_segment(entity, row)}"
        return ODataResponse.of_json(201, doc, Location=location, ETag=etag(row))

    def update(self, entity: EntitySet, key_text: str, request: ODataRequest) -> ODataResponse:
        row = find(self.store, entity, key_text, request)
        if row is None:
            return not_found(request)
        match = request.headers.get("if-match")
        if self.check_etags and match and match != "*" and match != etag(row):
            return error(412, "The record has been changed by another user since it was read.")
        body = self._body(entity, request)
        if isinstance(body, ODataResponse):
            return body
        original = dict(row)
        changed_keys = [k for k in entity.keys if k in body and _differs(body[k], row[k])]
        if changed_keys:
            return error(400, f"The key property '{changed_keys[0]}' cannot be changed.")
        problem = self._apply(entity, row, body)
        if problem:
            return problem
        failure = self._validate(entity, row, creating=False)
        if failure:
            return failure
        row["_rv"] = next(self._versions)
        self._stamp(entity, row)
        self._remember(entity.name, row_key(entity, row), original)
        self.store.put(entity.name, row_key(entity, row), row)
        self.on_change(entity, row, "updated")
        if "return=representation" in request.headers.get("prefer", ""):
            return ODataResponse.of_json(200, public(entity, row), ETag=etag(row))
        return ODataResponse(204, b"", {"ETag": etag(row)})

    def delete(self, entity: EntitySet, key_text: str, request: ODataRequest) -> ODataResponse:
        row = find(self.store, entity, key_text, request)
        if row is None:
            return not_found(request)
        self._remember(entity.name, row_key(entity, row), row)
        self.store.delete(entity.name, row_key(entity, row))
        self.on_change(entity, row, "deleted")
        return ODataResponse(204)

    def seed(self, entity: EntitySet, row: Row) -> None:
        """Store a seeded row as it is (its timestamps were set by the seeder)."""
        row["_rid"], row["_rv"] = next(self._recids), 1
        self.store.put(entity.name, row_key(entity, row), row)

    def save(self, entity: EntitySet, row: Row) -> None:
        """Store a row changed by a server-side process (posting, stock moves)."""
        if "_rid" not in row:
            row["_rid"], row["_rv"] = next(self._recids), 1
        else:
            row["_rv"] = next(self._versions)
        self._stamp(entity, row)
        self.store.put(entity.name, row_key(entity, row), row)

    # -- steps ----------------------------------------------------------------------------
    def _body(self, entity: EntitySet, request: ODataRequest) -> dict[str, Any] | ODataResponse:
        if entity.read_only:
            return error(405, f"The entity '{entity.name}' is read-only.")
        try:
            body = request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"The request body is not valid JSON: {exc}.")
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object.")
        kind = str(body.pop("@odata.type", "")).lstrip("#")
        if kind and kind != f"{NAMESPACE}.{entity.type_name}":
            return error(400, f"A type named '{kind}' could not be resolved by the model.")
        for name in [k for k in body if k.startswith("@") or "@odata." in k]:
            body.pop(name)
        return body

    def _apply(self, entity: EntitySet, row: Row, body: dict[str, Any]) -> ODataResponse | None:
        for name, value in body.items():
            prop = entity.prop(name)
            if prop is None:
                return error(
                    400,
                    f"The property '{name}' does not exist on type "
                    f"'{NAMESPACE}.{entity.type_name}'. Make sure to only use property names "
                    "that are defined by the type.",
                )
            try:
                row[name] = convert(prop, value, strict_nulls=self.strict_nulls)
            except BadValue as exc:
                return error(400, str(exc))
        if entity.company_specific and isinstance(row.get("dataAreaId"), str):
            row["dataAreaId"] = row["dataAreaId"].lower()
        return None

    def _number(self, entity: EntitySet, row: Row) -> None:
        last = entity.keys[-1]
        if entity.number_sequence and row.get(last) in ("", None):
            counter = self._sequences.setdefault(entity.name, itertools.count(1))
            while True:
                candidate = f"{entity.number_sequence}{next(counter):06d}"
                row[last] = candidate
                if self.store.get(entity.name, row_key(entity, row)) is None:
                    return

    def _validate(self, entity: EntitySet, row: Row, *, creating: bool) -> ODataResponse | None:
        for name in entity.keys:
            if row.get(name) in ("", None):
                return write_error(
                    entity.table,
                    f"Field '{name}' must be filled in.; Warning: validateWrite failed on table.",
                )
        company = row.get("dataAreaId")
        if (
            entity.company_specific
            and self.store.get("LegalEntities", json.dumps([company])) is None
        ):
            return write_error(entity.table, f"Company '{row['dataAreaId']}' does not exist.")
        for name, target in entity.references.items():
            failure = self._reference(entity, row, name, SETS[target])
            if failure:
                return failure
        if creating and self.store.get(entity.name, row_key(entity, row)) is not None:
            keys = ", ".join(str(row[k]) for k in entity.keys[1:] or entity.keys)
            return write_error(
                entity.table,
                f"Info: Cannot create a record in {entity.label} ({entity.table}). "
                f"{entity.keys[-1]}: {keys}.\nThe record already exists.",
            )
        return None

    def _reference(
        self, entity: EntitySet, row: Row, name: str, target: EntitySet
    ) -> ODataResponse | None:
        value = row.get(name)
        if value in ("", None):
            return None
        key = {target.keys[-1]: value}
        if target.company_specific:
            key["dataAreaId"] = row.get("dataAreaId")
        if (
            set(key) != set(target.keys)
            or self.store.get(target.name, store_key(target, key)) is None
        ):
            return write_error(
                entity.table,
                f"Warning: The value '{value}' in field '{name}' is not found in the related "
                f"table '{target.label}'.; Warning: validateField failed on field "
                f"'{entity.table}.{name}'.",
            )
        return None

    def _stamp(self, entity: EntitySet, row: Row) -> None:
        now = format_instant(self.clock.now())
        if entity.modified:
            row[entity.modified] = now
        if "OrderCreationDateTime" in row and row["OrderCreationDateTime"] == EMPTY_DATE:
            row["OrderCreationDateTime"] = now


def _differs(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() != b.lower()
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return Decimal(str(a)) != Decimal(str(b))
    return a != b
