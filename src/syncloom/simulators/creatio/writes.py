"""Writes: insert, update and delete of rows with Creatio's server-side rules.

The server stamps ``CreatedOn``/``ModifiedOn`` and ``CreatedById``/``ModifiedById`` (the
caller's contact), defaults ``OwnerId`` to the caller, splits ``Contact.Name``, numbers orders
and invoices, accepts a client-chosen ``Id`` and refuses a repeated one, and enforces foreign
keys and required columns the way the database underneath does (500 with the database text).
An undo log lets a ``$batch`` atomicity group roll back as one.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from syncloom.simulators.common.app import SimClock
from syncloom.simulators.common.store import SimStore
from syncloom.simulators.creatio.auth import Caller
from syncloom.simulators.creatio.entities import EMPTY_GUID, ENTITIES, NUMBER_PREFIX, Entity
from syncloom.simulators.creatio.replies import ODataError, not_found, server_error
from syncloom.simulators.creatio.values import (
    EMPTY_DATE,
    BadValueError,
    coerce,
    empty_row,
    format_instant,
)

Row = dict[str, Any]
Notify = Callable[[str, str, str, Row], None]
_SERVER_SET = {"CreatedOn", "CreatedById", "ModifiedOn", "ModifiedById", "ProcessListeners"}


def bad_request(message: str) -> ODataError:
    return ODataError(400, message, message)


class RowWriter:
    """Applies writes to the store; one per simulator."""

    def __init__(
        self, store: SimStore, clock: SimClock, notify: Notify, *, enforce_required: bool
    ) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify
        self.enforce_required = enforce_required
        self._undo: list[tuple[str, str, Row | None]] | None = None
        self._pending: list[tuple[str, str, str, Row]] | None = None
        self._numbers = itertools.count(1)

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run writes as one unit: on error undo them and send no notifications."""
        outer = self._undo is not None
        if outer:
            yield
            return
        self._undo, self._pending = [], []
        try:
            yield
        except BaseException:
            for table, key, previous in reversed(self._undo):
                if previous is None:
                    self.store.delete(table, key)
                else:
                    self.store.put(table, key, previous)
            raise
        else:
            for event in self._pending:
                self.notify(*event)
        finally:
            self._undo, self._pending = None, None

    def _save(self, table: str, key: str, row: Row | None, action: str) -> None:
        previous = self.store.table(table).get(key)
        if self._undo is not None:
            self._undo.append((table, key, previous))
        if row is None:
            self.store.delete(table, key)
        else:
            self.store.put(table, key, row)
        event = (table, key, action, row if row is not None else previous or {})
        if self._pending is not None:
            self._pending.append(event)
        else:
            self.notify(*event)

    # -- operations ---------------------------------------------------------------------
    def insert(self, entity: Entity, body: dict[str, Any], caller: Caller) -> Row:
        values = self._values(entity, body)
        row: Row = empty_row(entity)
        row.update(values)
        key = str(body.get("Id") and coerce(entity.by_storage["Id"], body["Id"]) or uuid.uuid4())
        if key == EMPTY_GUID:
            key = str(uuid.uuid4())
        row["Id"] = key
        now = format_instant(self.clock.now())
        row.update(CreatedOn=now, ModifiedOn=now, CreatedById=caller.contact_id)
        row["ModifiedById"] = caller.contact_id
        self._defaults(entity, row, caller)
        if key in self.store.table(entity.name):
            raise server_error(
                f'23505: duplicate key value violates unique constraint "PK{entity.name}Id"',
                f'Key ("Id")=({key}) already exists.',
            )
        self._check(entity, row)
        self._save(entity.name, key, row, "insert")
        return row

    def update(self, entity: Entity, key: str, body: dict[str, Any], caller: Caller) -> Row:
        current = self.store.table(entity.name).get(key)
        if current is None:
            raise not_found()
        row = {**current, **self._values(entity, body)}
        row["ModifiedOn"] = format_instant(self.clock.now())
        row["ModifiedById"] = caller.contact_id
        self._check(entity, row)
        self._save(entity.name, key, row, "update")
        return row

    def delete(self, entity: Entity, key: str) -> None:
        if key not in self.store.table(entity.name):
            raise not_found()
        self._check_unreferenced(entity, key)
        self._save(entity.name, key, None, "delete")

    # -- rules --------------------------------------------------------------------------
    def _values(self, entity: Entity, body: dict[str, Any]) -> Row:
        values: Row = {}
        for name, value in body.items():
            if "@" in name or name in entity.navigations or name in _SERVER_SET or name == "Id":
                continue  # annotations and navigation names are ignored, as Creatio does
            column = entity.by_storage.get(name)
            if column is None:
                raise bad_request(
                    f"The property '{name}' does not exist on type '{entity.type_name}'. Make "
                    "sure to only use property names that are defined by the type."
                )
            try:
                values[name] = coerce(column, value)
            except BadValueError as exc:
                raise bad_request(str(exc)) from None
        return values

    def _defaults(self, entity: Entity, row: Row, caller: Caller) -> None:
        if row.get("OwnerId") == EMPTY_GUID and "Owner" in entity.navigations:
            row["OwnerId"] = caller.contact_id
        if entity.name == "Contact" and row.get("Name") and not row.get("Surname"):
            parts = str(row["Name"]).split()
            row["GivenName"] = parts[0] if len(parts) > 1 else ""
            row["Surname"] = parts[-1]
            row["MiddleName"] = " ".join(parts[1:-1])
        prefix = NUMBER_PREFIX.get(entity.name)
        if prefix and not row.get("Number"):
            row["Number"] = f"{prefix}{len(self.store.table(entity.name)) + next(self._numbers)}"

    def _check(self, entity: Entity, row: Row) -> None:
        for column in entity.columns:
            value = row.get(column.storage)
            if column.kind == "lookup" and value != EMPTY_GUID:
                assert column.ref is not None
                if value not in self.store.table(column.ref):
                    raise server_error(
                        f'23503: insert or update on table "{entity.name}" violates foreign key '
                        f'constraint "FK{entity.name}{column.name}"',
                        f'Key ("{column.storage}")=({value}) is not present in table '
                        f'"{column.ref}".',
                    )
            if column.max_length is not None and len(str(value or "")) > column.max_length:
                # What the database under Creatio answers for a too-long text (PostgreSQL).
                raise server_error(
                    f"22001: value too long for type character varying({column.max_length})",
                    f'Column "{column.storage}" of object "{entity.name}".',
                )
            if self.enforce_required and column.required and value in {"", EMPTY_GUID, EMPTY_DATE}:
                raise server_error(
                    f'Column "{column.storage}" of object "{entity.name}" is required and must '
                    "be filled in."
                )

    def _check_unreferenced(self, target: Entity, key: str) -> None:
        for entity in ENTITIES.values():
            columns = [c.storage for c in entity.columns if c.ref == target.name]
            if not columns:
                continue
            for row in self.store.table(entity.name).values():
                if any(row.get(c) == key for c in columns):
                    raise server_error(
                        f'23503: update or delete on table "{target.name}" violates foreign key '
                        f'constraint "FK{entity.name}{target.name}" on table "{entity.name}"'
                    )
