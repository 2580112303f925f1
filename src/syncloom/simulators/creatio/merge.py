"""Merge: Creatio's duplicate merge, as a user runs it from the duplicates page.

One record survives. Its empty text and lookup columns take the duplicates' values (Creatio
proposes the filled value where the survivor has none), every lookup that pointed at a
duplicate (a contact's account, an order's account...) now points at the survivor, and the
duplicates are deleted. All of it is one transaction of ordinary writes, so a signal process
hears an update of the survivor, an update of each moved record and a delete per duplicate.
"""

from __future__ import annotations

from typing import Any

from syncloom.simulators.creatio.auth import Caller
from syncloom.simulators.creatio.entities import EMPTY_GUID, ENTITIES, Entity
from syncloom.simulators.creatio.values import EMPTY_DATE
from syncloom.simulators.creatio.writes import RowWriter, bad_request

_FILLABLE = {"string", "lookup"}
_EMPTIES = (None, "", EMPTY_GUID, EMPTY_DATE)
_BASE = {"Id", "CreatedOn", "CreatedById", "ModifiedOn", "ModifiedById", "ProcessListeners"}


def merge(
    writer: RowWriter, entity_name: str, survivor: str, duplicates: list[str], caller: Caller
) -> dict[str, Any]:
    """Merge ``duplicates`` into ``survivor``; returns the survivor's row.

    Raises:
        ODataError: unknown entity or record, or a record merged into itself.
    """
    entity = ENTITIES.get(entity_name)
    if entity is None:
        raise bad_request(f"unknown entity {entity_name!r}")
    rows = writer.store.table(entity.name)
    if survivor not in rows or not duplicates or any(d not in rows for d in duplicates):
        raise bad_request("survivor and duplicates must be existing records")
    if survivor in duplicates:
        raise bad_request("a record cannot be merged into itself")
    with writer.transaction():
        row = writer.update(entity, survivor, _filled(entity, rows, survivor, duplicates), caller)
        for duplicate in duplicates:
            _move_references(writer, entity, duplicate, survivor, caller)
            writer.delete(entity, duplicate)
    return row


def _filled(
    entity: Entity, rows: dict[str, dict[str, Any]], survivor: str, duplicates: list[str]
) -> dict[str, Any]:
    fill: dict[str, Any] = {}
    for column in entity.columns:
        name = column.storage
        if (
            column.kind not in _FILLABLE
            or name in _BASE
            or rows[survivor].get(name) not in _EMPTIES
        ):
            continue
        found = next((rows[d][name] for d in duplicates if rows[d].get(name) not in _EMPTIES), None)
        if found is not None:
            fill[name] = found
    return fill


def _move_references(
    writer: RowWriter, target: Entity, duplicate: str, survivor: str, caller: Caller
) -> None:
    for entity in ENTITIES.values():
        columns = [c.storage for c in entity.columns if c.ref == target.name]
        for row in list(writer.store.table(entity.name).values()):
            moved = {c: survivor for c in columns if row.get(c) == duplicate}
            if moved:
                writer.update(entity, row["Id"], moved, caller)
