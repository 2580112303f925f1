"""BatchWriter: applies a batch of ops in Intacct's batch form, one result per op.

Consecutive generic creates (or updates) of one entity go up to 100 records per ``<create>``
(``<update>``), sent together with a ``readByName`` of the same keys in one request, so each
record comes back with its server fields without a second round trip. Intacct stops a
``<create>`` at its first failing record and lists the records written before it; the writer
reports that record's error and resends the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from syncloom.connectors.base import Op, OpKind, OpResult, Values
from syncloom.connectors.intacct import queries
from syncloom.connectors.intacct.entities import IntacctEntity
from syncloom.connectors.intacct.errors import SYSTEM
from syncloom.connectors.intacct.records import to_record
from syncloom.errors import SyncError, ValidationError

if TYPE_CHECKING:
    from syncloom.connectors.intacct.connector import IntacctConnector

MAX_BATCH = 100


class BatchWriter:
    """Writes ops for one connector; never raises for a single failed op."""

    def __init__(self, connector: IntacctConnector) -> None:
        self.conn = connector
        self.results: dict[int, OpResult] = {}

    async def run(self, ops: Sequence[Op]) -> list[OpResult]:
        """Apply ``ops`` in order and return one result per op."""
        index = 0
        while index < len(ops):
            group = self._group(ops, index)
            await self._apply(ops, group)
            index = group[-1] + 1
        return [self.results[i] for i in range(len(ops))]

    def _group(self, ops: Sequence[Op], start: int) -> list[int]:
        first = ops[start]
        spec = self._spec(first)
        if spec is None or first.kind is OpKind.DELETE or spec.writer != "generic":
            return [start]
        group = [start]
        for i in range(start + 1, min(len(ops), start + MAX_BATCH)):
            if ops[i].kind is not first.kind or ops[i].entity != first.entity:
                break
            group.append(i)
        return group

    def _spec(self, op: Op) -> IntacctEntity | None:
        try:
            return self.conn._entity(op.entity)
        except SyncError:
            return None

    async def _apply(self, ops: Sequence[Op], group: list[int]) -> None:
        op = ops[group[0]]
        try:
            spec = self.conn._entity(op.entity)
            if spec.writer == "none":
                raise ValidationError(
                    f"{spec.name} is read through syncloom, never written; edit it in Intacct",
                    system=SYSTEM,
                )
            if op.kind is OpKind.DELETE:
                await self.conn.delete(op.entity, op.key or "")
                self.results[group[0]] = OpResult(op)
            elif spec.writer != "generic" and op.kind is OpKind.CREATE:
                record = await self.conn.create_legacy(spec, op.values, op.key)
                self.results[group[0]] = OpResult(op, record=record)
            else:
                await self._write(spec, [(i, ops[i]) for i in group])
        except SyncError as exc:
            for i in group:
                self.results.setdefault(i, OpResult(ops[i], error=exc))

    async def _write(self, spec: IntacctEntity, pending: list[tuple[int, Op]]) -> None:
        while pending:
            payloads: list[tuple[int, Op, Values]] = []
            for index, op in pending:
                payload = _payload(spec, op)
                if isinstance(payload, SyncError):
                    self.results[index] = OpResult(op, error=payload)
                else:
                    payloads.append((index, op, payload))
            if not payloads:
                return
            pending = await self._send(spec, payloads)

    async def _send(
        self, spec: IntacctEntity, payloads: list[tuple[int, Op, Values]]
    ) -> list[tuple[int, Op]]:
        kind = payloads[0][1].kind
        records = [p for _, _, p in payloads]
        write_body = (queries.create if kind is OpKind.CREATE else queries.update)(spec, records)
        keys = [str(p[spec.key_field]) for p in records]
        write, read = await self.conn.client.call([write_body, queries.by_keys(spec, keys)])
        fetched = {}
        for element in read.records() if read.ok else []:
            record = to_record(spec, element, self.conn.tz)
            fetched[record.key.id] = record
        done = len(write.records())
        for (index, op, payload), _ in zip(payloads[:done], range(done), strict=True):
            key = str(payload[spec.key_field])
            self.results[index] = OpResult(op, record=fetched.get(key))
        if write.ok:
            return []
        if done >= len(payloads):
            return []
        index, op, payload = payloads[done]
        self.results[index] = OpResult(op, error=write.error(str(payload[spec.key_field])))
        return [(i, o) for i, o, _ in payloads[done + 1 :]]


def _payload(spec: IntacctEntity, op: Op) -> Values | SyncError:
    key = op.key or op.values.get(spec.key_field)
    if not key:
        return ValidationError(
            f"{spec.name} needs its business id {spec.key_field} (the record key) to be written",
            field=spec.key_field,
            system=SYSTEM,
        )
    rest = {k: v for k, v in op.values.items() if k != spec.key_field}
    return {spec.key_field: key, **rest}
