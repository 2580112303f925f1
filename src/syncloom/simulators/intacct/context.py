"""What one function call sees: the store, the caller's session, cursors, and what it caused.

A :class:`Call` is built per ``<function>``; handlers read and write through it so that the
entity visibility rules, the monthly transaction count and the change events for webhooks are
applied in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from syncloom.simulators.common.store import Row
from syncloom.simulators.intacct.auth import Session
from syncloom.simulators.intacct.entities import ObjectDef, find_object
from syncloom.simulators.intacct.store import IntacctStore
from syncloom.simulators.intacct.wire import FunctionFailure, IntacctError


@dataclass
class Cursor:
    """A readByQuery result set kept for readMore (cursor-consistent, unlike ``query``)."""

    result_id: str
    obj: ObjectDef
    tag: str
    fields: list[str]
    recordnos: list[str]
    position: int
    pagesize: int
    sessionid: str


@dataclass(frozen=True)
class ChangeEvent:
    """One write, as the simulated Smart Event posts it."""

    object: str
    recordno: str
    id: str
    action: str
    whenmodified: str


@dataclass
class Call:
    """The context of one ``<function>``."""

    store: IntacctStore
    session: Session
    cursors: dict[str, Cursor]
    endpoint: str
    user_recordno: str = "1"
    transactions: int = 0
    events: list[ChangeEvent] = field(default_factory=list)

    @property
    def entity(self) -> str:
        return self.session.locationid

    def object(self, name: str) -> ObjectDef:
        """The object called ``name``.

        Raises:
            FunctionFailure: ``Object definition X not found`` for unknown objects.
        """
        obj = find_object(name)
        if obj is None:
            raise FunctionFailure(
                [IntacctError("Query Failed", f"Object definition {name} not found")]
            )
        return obj

    def visible(self, row: Row, show_private: bool = False) -> bool:
        """Entity logins see their own and top-level rows; top level hides private rows."""
        owner = row.get("MEGAENTITYID", "")
        if not owner or (show_private and not self.entity):
            return True
        return bool(owner == self.entity)

    def rows(self, obj: ObjectDef, show_private: bool = False) -> Iterator[Row]:
        return (r for r in self.store.all(obj) if self.visible(r, show_private))

    def emit(self, obj: ObjectDef, row: Row, action: str) -> None:
        self.events.append(
            ChangeEvent(
                obj.name,
                row["RECORDNO"],
                str(row.get(obj.id_field, row["RECORDNO"])),
                action,
                row.get("WHENMODIFIED", ""),
            )
        )
