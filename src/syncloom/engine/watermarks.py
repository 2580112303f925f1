"""Watermarks: each flow side's since-value and the keys already seen near it.

The value comes from the source's own modified-on times, never from our clock. Reads start an
overlap window before it, so a record stamped late (a long transaction committing after our
read) is not lost; the keys seen inside that window, with the modified-on they had, stop the
overlap from enqueueing the same version twice. Writes go through the caller's connection, so
the watermark advances in the same transaction that enqueues the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, insert, select, update

from syncloom.connectors.base import Record
from syncloom.engine.hashing import hash_values
from syncloom.store.models import Watermark as WatermarkRow

__all__ = ["Watermark", "WatermarkStore", "version_of"]


@dataclass(frozen=True)
class Watermark:
    """A flow side's position: the newest modified-on seen, and the versions seen near it."""

    value_utc: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)

    def since(self, overlap: timedelta) -> datetime | None:
        """Where the next read starts: the value less the overlap window."""
        return self.value_utc - overlap if self.value_utc else None

    def is_new(self, record: Record) -> bool:
        """False when this exact version of the record was already enqueued."""
        return self.seen.get(str(record.key)) != version_of(record)

    def advanced(self, records: list[Record], overlap: timedelta) -> Watermark:
        """The watermark after ``records``: newest value, and seen keys inside the window."""
        if not records:
            return self
        newest = max(r.modified_on_utc for r in records)
        value = max(newest, self.value_utc) if self.value_utc else newest
        seen = {**self.seen, **{str(r.key): version_of(r) for r in records}}
        floor = value - overlap
        kept = {k: v for k, v in seen.items() if _instant(v) >= floor}
        return Watermark(value, kept)


def version_of(record: Record) -> str:
    """A record's version: its modified-on plus a hash of its values.

    Some systems stamp modified-on to the second, so two edits in one second share a
    timestamp; the values' hash tells them apart, and neither is taken for the other.
    """
    return f"{record.modified_on_utc.isoformat()}#{hash_values(record.values)[:12]}"


def _instant(version: str) -> datetime:
    return datetime.fromisoformat(version.partition("#")[0])


class WatermarkStore:
    """Loads and saves the watermarks of one tenant's flows through a given connection."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id

    def _where(self, flow: str, side: str) -> ColumnElement[bool]:
        return and_(
            WatermarkRow.tenant_id == self.tenant_id,
            WatermarkRow.flow == flow,
            WatermarkRow.side == side,
        )

    def load(self, conn: Connection, flow: str, side: str) -> Watermark:
        """The saved watermark, or an empty one (read everything) before the first poll."""
        row = conn.execute(
            select(WatermarkRow.value_utc, WatermarkRow.boundary_keys).where(
                self._where(flow, side)
            )
        ).first()
        if row is None:
            return Watermark()
        seen = {str(k): str(v) for k, v in (row.boundary_keys or [])}
        return Watermark(row.value_utc, seen)

    def raise_to(self, conn: Connection, flow: str, side: str, mark: Watermark) -> bool:
        """Move the watermark up to ``mark``, never back; True when it moved.

        A bulk load seeds the watermark this way when it finishes, so the first poll after
        it reads what changed since the load, not the whole table; a poll that already ran
        further keeps its place.
        """
        if mark.value_utc is None:
            return False
        current = self.load(conn, flow, side)
        if current.value_utc is not None and current.value_utc >= mark.value_utc:
            return False
        self.save(conn, flow, side, mark)
        return True

    def save(self, conn: Connection, flow: str, side: str, mark: Watermark) -> None:
        """Write the watermark inside the caller's transaction."""
        pairs = sorted([k, v] for k, v in mark.seen.items())
        found = conn.execute(
            update(WatermarkRow)
            .where(self._where(flow, side))
            .values(value_utc=mark.value_utc, boundary_keys=pairs)
        )
        if found.rowcount == 0:
            conn.execute(
                insert(WatermarkRow).values(
                    tenant_id=self.tenant_id,
                    flow=flow,
                    side=side,
                    value_utc=mark.value_utc,
                    boundary_keys=pairs,
                )
            )
