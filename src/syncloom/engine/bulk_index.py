"""TargetSnapshot: the target side of a bulk run, read once and indexed for matching.

Why prefetch? A first load of thousands of records cannot afford a search per record (each one
a round trip under the target's budget). Paging the target's changes from the beginning
reads every record in a few dozen calls; the snapshot keeps them by key, and the Matcher's
:class:`~syncloom.engine.matcher.TargetIndex` answers "does this already exist?" in memory.

The snapshot ages while the run goes on: a record a person edits in the target after the
prefetch is compared as it was. Writes of a bulk run are therefore whole-field updates of the
source's values, never merges of the target's, and records the run creates are added to the
snapshot as they are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from syncloom.connectors.base import EntitySpec, Record
from syncloom.engine.matcher import Matcher, TargetIndex
from syncloom.engine.record_job import FlowSide

__all__ = ["TargetSnapshot", "prefetch"]


@dataclass
class TargetSnapshot:
    """Every record of the target entity as read at the start of a run, by full key."""

    records: dict[str, Record] = field(default_factory=dict)
    index: TargetIndex | None = None
    matcher: Matcher | None = None
    pages: int = 0
    # The target's own field list, so planned writes are checked field by field first.
    spec: EntitySpec | None = None

    def get(self, key: str | None) -> Record | None:
        """The record with full key ``key`` (``system:entity:id``), if it was read."""
        return self.records.get(key) if key else None

    def add(self, record: Record) -> None:
        """Keep (or replace) one record, and index it for matching."""
        known = str(record.key) in self.records
        self.records[str(record.key)] = record
        if self.index is not None and not known:
            self.index.add(record)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records.values())


async def prefetch(
    side: FlowSide, matcher: Matcher | None, *, page_size: int = 1000
) -> TargetSnapshot:
    """Read every record of ``side``'s entity through its change feed and index it.

    Args:
        side: the flow's target side (its Governor paces the reads).
        matcher: the flow's matcher; ``None`` when the flow declares no match tiers.
        page_size: records per read; the connector may cap it.

    Returns:
        The snapshot, with a match index when ``matcher`` is given.
    """
    snapshot = TargetSnapshot(
        index=matcher.index(()) if matcher is not None else None, matcher=matcher
    )
    cursor: str | None = None
    while True:
        async with side.slot():
            page = await side.connector.read_changes(side.entity, None, cursor, page_size)
        snapshot.pages += 1
        for record in page.records:
            snapshot.add(record)
        cursor = page.cursor
        if cursor is None:
            return snapshot
