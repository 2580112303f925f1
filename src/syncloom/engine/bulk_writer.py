"""PageWriter: the writes of one planned page, in each side's batch size.

Creates go to the target in batches under the keys the plan reserved; an "already exists"
answer means a run that died after its batch call made the record, so the writer reads it
and carries on. Updates go the same way, then the write-backs (the target's key, written on
the source after a create) go to the source in its own batches. A failed op fails only its
record: the others of the batch go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from syncloom.connectors.base import Op, OpKind, Record, Values
from syncloom.engine.bulk_plan import Action, Planned
from syncloom.engine.flows import Flow
from syncloom.engine.keys import render_template
from syncloom.engine.record_job import FlowSide
from syncloom.errors import AlreadyExistsError, SyncError, TransientError

__all__ = ["PageWrites", "PageWriter"]


@dataclass
class PageWrites:
    """What the writes of one page left behind, by position in the plan."""

    targets: dict[int, Record] = field(default_factory=dict)
    sources: dict[int, Record] = field(default_factory=dict)
    failures: dict[int, SyncError] = field(default_factory=dict)
    target_ops: int = 0
    source_ops: int = 0
    calls: int = 0
    written_back: int = 0


class PageWriter:
    """Writes planned pages of one flow through both sides' ``batch``."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        source_gate: Callable[[], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        # Held around every source call, so a read ahead of the next page never overlaps them.
        self.source_gate = source_gate
        self._sizes: dict[str, int] = {}

    def _gate(self, side: FlowSide) -> AbstractAsyncContextManager[object]:
        if side is self.source and self.source_gate is not None:
            return self.source_gate()
        return contextlib.nullcontext()

    async def write(self, planned: Sequence[Planned]) -> PageWrites:
        """Create, update and write back every writing record of the page."""
        out = PageWrites()
        for i, item in enumerate(planned):
            if item.action is Action.BIND and item.target is not None:
                out.targets[i] = item.target
        await self._creates(planned, out)
        await self._updates(planned, out)
        await self._write_backs(planned, out)
        return out

    async def _creates(self, planned: Sequence[Planned], out: PageWrites) -> None:
        ops = [
            (i, Op(OpKind.CREATE, self.target.entity, _ident(p.target_key), p.to_target))
            for i, p in enumerate(planned)
            if p.action is Action.CREATE
        ]
        found, failed = await self._batch(self.target, ops, out)
        existing = [i for i, exc in failed.items() if isinstance(exc, AlreadyExistsError)]
        for i in existing:
            del failed[i]
            record = await self._get(self.target, planned[i].target_key)
            if record is None:
                failed[i] = TransientError("the reserved key exists but cannot be read yet")
            else:
                found[i] = record
        out.target_ops += len(ops)
        out.targets.update(found)
        out.failures.update(failed)

    async def _updates(self, planned: Sequence[Planned], out: PageWrites) -> None:
        updates = [(i, p) for i, p in enumerate(planned) if p.action is Action.UPDATE]
        target_ops = [
            (i, Op(OpKind.UPDATE, self.target.entity, _ident(p.target_key), p.to_target))
            for i, p in updates
            if p.to_target
        ]
        for i, p in updates:
            if not p.to_target and p.target is not None:
                out.targets[i] = p.target
        found, failed = await self._batch(self.target, target_ops, out)
        for i, _ in target_ops:
            if i in found or i in failed:
                continue
            # A batch that answers without the record: keep what we know it now holds.
            found[i] = _merged(planned[i].target, planned[i].to_target)
        out.target_ops += len(target_ops)
        out.targets.update(found)
        out.failures.update(failed)
        source_ops = [
            (i, Op(OpKind.UPDATE, self.source.entity, p.source.key.id, p.to_source))
            for i, p in updates
            if p.to_source and i not in out.failures
        ]
        await self._source_writes(planned, source_ops, out)

    async def _write_backs(self, planned: Sequence[Planned], out: PageWrites) -> None:
        if not self.flow.writeback:
            return
        ops: list[tuple[int, Op]] = []
        for i, item in enumerate(planned):
            target = out.targets.get(i)
            if item.action is not Action.CREATE or target is None or i in out.failures:
                continue
            values = self.write_back_values(item, target)
            if values:
                ops.append((i, Op(OpKind.UPDATE, self.source.entity, item.source.key.id, values)))
        out.written_back += len(ops)
        await self._source_writes(planned, ops, out)

    def write_back_values(self, item: Planned, target: Record) -> dict[str, object]:
        """The write-back fields of a created record, or nothing when the source has them."""
        names = {
            "target_id": target.key.id,
            "target_key": str(target.key),
            "legal_entity": item.legal_entity,
        }
        values: dict[str, object] = {
            wb.field: render_template(wb.value, names, target.values) for wb in self.flow.writeback
        }
        if all(item.source.values.get(k) == v for k, v in values.items()):
            return {}
        return values

    async def _source_writes(
        self, planned: Sequence[Planned], ops: list[tuple[int, Op]], out: PageWrites
    ) -> None:
        found, failed = await self._batch(self.source, ops, out)
        for i, op in ops:
            if i not in found and i not in failed:
                found[i] = _merged(planned[i].source, op.values)
        out.source_ops += len(ops)
        out.sources.update(found)
        out.failures.update(failed)

    async def _batch(
        self, side: FlowSide, ops: list[tuple[int, Op]], out: PageWrites
    ) -> tuple[dict[int, Record], dict[int, SyncError]]:
        found: dict[int, Record] = {}
        failed: dict[int, SyncError] = {}
        if not ops:
            return found, failed
        size = await self._batch_size(side)
        for start in range(0, len(ops), size):
            chunk = ops[start : start + size]
            async with self._gate(side), side.slot():
                results = await side.connector.batch([op for _, op in chunk])
            out.calls += 1
            for (i, _), result in zip(chunk, results, strict=True):
                if result.error is not None:
                    failed[i] = result.error
                elif result.record is not None:
                    found[i] = result.record
        return found, failed

    async def _batch_size(self, side: FlowSide) -> int:
        if side.entity not in self._sizes:
            async with self._gate(side), side.slot():
                spec = await side.connector.describe(side.entity)
            self._sizes[side.entity] = max(1, spec.batch_size)
        return self._sizes[side.entity]

    async def _get(self, side: FlowSide, key: str | None) -> Record | None:
        async with self._gate(side), side.slot():
            return await side.connector.get(side.entity, _ident(key))


def _ident(full_key: str | None) -> str:
    """The connector's id from a full ``system:entity:id`` key."""
    return (full_key or "").split(":", 2)[-1]


def _merged(record: Record | None, values: Values) -> Record:
    assert record is not None
    return Record(
        record.key,
        {**record.values, **values},
        record.modified_on_utc,
        record.version,
        record.modified_by,
    )
