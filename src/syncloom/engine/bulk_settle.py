"""PageSettler: everything a written page leaves in the database, in one transaction.

After a page's writes, the links become linked (with their base snapshots), the write ledger
learns what we wrote (so the pollers see our writes as echoes), the record log gets one entry
per record, open dead letters of records that now synced close, failures become dead letters,
and ambiguous matches and conflicts become review items. The caller commits all of it
together with the page's checkpoint: a page is either wholly settled or not at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from syncloom.connectors.base import Record, Values
from syncloom.engine.bulk_binder import PageBinder, Settled
from syncloom.engine.bulk_plan import Action, Planned
from syncloom.engine.bulk_rows import execute_rows
from syncloom.engine.bulk_writer import PageWrites
from syncloom.engine.clock import Clock
from syncloom.engine.dead_letters import seal_error
from syncloom.engine.flows import FieldDirection, Side
from syncloom.engine.hashing import hash_values
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.privacy import (
    DEAD_LETTER_PAYLOAD,
    RECORD_LOG_DIFF,
    RECORD_LOG_ERROR,
    seal,
    seal_text,
)
from syncloom.errors import SyncError, TransientError
from syncloom.store.models import (
    DeadLetter,
    DeadLetterStatus,
    RecordLogEntry,
    ReviewItem,
    ReviewStatus,
    WriteLedgerEntry,
)
from syncloom.store.types import utc_now
from syncloom.vault import Vault

__all__ = ["PageSettler"]


class PageSettler:
    """Settles pages of one flow of one tenant."""

    def __init__(
        self,
        *,
        tenant_id: int,
        flow: str,
        source_side: Side,
        mapper: FieldMapMapper,
        binder: PageBinder,
        clock: Clock,
        vault: Vault | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.flow = flow
        self.source_side = source_side
        self.mapper = mapper
        self.binder = binder
        self._clock = clock
        self._vault = vault

    def settle(
        self, session: Session, planned: Sequence[Planned], writes: PageWrites, run_id: int | None
    ) -> Counter[str]:
        """Write the page's outcome inside ``session``; returns its counts."""
        counts: Counter[str] = Counter()
        settled: list[Settled] = []
        for i, item in enumerate(planned):
            error = writes.failures.get(i)
            if item.writes and error is None and i in writes.targets:
                source = writes.sources.get(i, item.source)
                settled.append(self._settled(item, source, writes.targets[i]))
                counts[item.log_action] += 1
            elif error is not None:
                counts["deferred" if isinstance(error, TransientError) else "failed"] += 1
            elif item.action is Action.FAILED:
                counts["failed"] += 1
            else:
                counts[_skip_count(item)] += 1
        self.binder.settle(session, settled)
        self._remember(session, settled, writes, planned)
        self._log(session, planned, writes, run_id)
        self._resolve(session, [str(s.planned.source.key) for s in settled])
        self._park(session, planned, writes)
        self._review(session, [p for p in planned if p.action is Action.REVIEW])
        unfinished = [
            p.link_id for i, p in enumerate(planned) if i in writes.failures and p.link_id
        ]
        self.binder.release(session, [i for i in unfinished if i is not None])
        return counts

    def _settled(self, item: Planned, source: Record, target: Record) -> Settled:
        crm, erp = (source, target) if self.source_side is Side.CRM else (target, source)
        assert item.link_id is not None
        return Settled(
            item, item.link_id, str(crm.key), str(erp.key), hash_values(crm.values),
            hash_values(erp.values),
        )  # fmt: skip

    def fingerprint(self, values: Values, *, is_source: bool) -> str:
        """The hash of what this flow reads from a record's values, as the record job does."""
        if is_source:
            return hash_values(self.mapper.map(values))
        fields = self.mapper.fields(FieldDirection.TO_TARGET)
        return hash_values({k: v for k, v in values.items() if k in fields})

    def _remember(
        self,
        session: Session,
        settled: Sequence[Settled],
        writes: PageWrites,
        planned: Sequence[Planned],
    ) -> None:
        # As the record job does: what we read plus what we wrote, never the system's answer
        # to an update, so a person's edit landing between our read and our write is not ours.
        hashes: dict[str, str] = {}
        index = {id(p): i for i, p in enumerate(planned)}
        for done in settled:
            item = done.planned
            i = index[id(item)]
            source = writes.sources.get(i, item.source)
            target = writes.targets[i]
            source_values, target_values = source.values, target.values
            if item.action is not Action.CREATE and item.target is not None:
                source_values = {**item.source.values, **item.to_source}
                target_values = {**item.target.values, **item.to_target}
            hashes[str(target.key)] = self.fingerprint(target_values, is_source=False)
            hashes[str(source.key)] = self.fingerprint(source_values, is_source=True)
        self._upsert_ledger(session, hashes)

    def _upsert_ledger(self, session: Session, hashes: Mapping[str, str]) -> None:
        if not hashes:
            return
        now = self._clock.now_utc()
        query = select(WriteLedgerEntry.id, WriteLedgerEntry.record_key).where(
            WriteLedgerEntry.tenant_id == self.tenant_id,
            WriteLedgerEntry.record_key.in_(list(hashes)),
        )
        # Core statements on the session's connection: the ORM's execute path adds its own
        # compile step per call, for a query that returns plain rows anyway.
        known = {key: row_id for row_id, key in session.connection().execute(query)}
        created = utc_now()
        changed = [
            {"row_id": known[key], "new_hash": value, "new_at": now}
            for key, value in hashes.items()
            if key in known
        ]
        fresh = [
            {
                "tenant_id": self.tenant_id,
                "system": key.split(":", 1)[0],
                "record_key": key,
                "values_hash": value,
                "written_at": now,
                "created_at": created,
            }
            for key, value in hashes.items()
            if key not in known
        ]
        table = _table(WriteLedgerEntry)
        if changed:
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(values_hash=bindparam("new_hash"), written_at=bindparam("new_at"))
            )
            execute_rows(session, statement, changed)
        if fresh:
            execute_rows(session, insert(table), fresh)

    def _log(
        self,
        session: Session,
        planned: Sequence[Planned],
        writes: PageWrites,
        run_id: int | None,
    ) -> None:
        rows: list[dict[str, Any]] = []
        created = utc_now()
        for i, item in enumerate(planned):
            error = writes.failures.get(i)
            if item.action is Action.SKIP:
                continue
            if error is not None or item.action is Action.FAILED:
                action, text = "failed", _error_text(error) if error else item.reason
            elif item.action is Action.REVIEW:
                action, text = "review", item.reason
            else:
                action, text = item.log_action, None
            rows.append(
                {
                    "tenant_id": self.tenant_id,
                    "flow": self.flow,
                    "record_key": str(item.source.key),
                    "action": action,
                    "diff": seal(self._vault, self.tenant_id, RECORD_LOG_DIFF, item.diff),
                    "error": seal_text(self._vault, self.tenant_id, RECORD_LOG_ERROR, text),
                    "attempt": 1,
                    "run_id": run_id,
                    "created_at": created,
                }
            )
        if rows:
            execute_rows(session, insert(_table(RecordLogEntry)), rows)

    def _resolve(self, session: Session, keys: Sequence[str]) -> None:
        if keys:
            table = _table(DeadLetter)
            session.connection().execute(
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.flow == self.flow,
                    table.c.record_key.in_(list(keys)),
                    table.c.status == DeadLetterStatus.OPEN,
                )
                .values(status=DeadLetterStatus.RESOLVED, closed_at=self._clock.now_utc())
            )

    def _park(self, session: Session, planned: Sequence[Planned], writes: PageWrites) -> None:
        parked: dict[str, tuple[str, str]] = {}
        for i, item in enumerate(planned):
            error = writes.failures.get(i)
            if isinstance(error, TransientError):
                continue  # the reservation stays; the next run retries it
            if error is not None:
                parked[str(item.source.key)] = (type(error).__name__, str(error))
            elif item.action is Action.FAILED:
                parked[str(item.source.key)] = ("MappingError", item.reason)
        if not parked:
            return
        query = DeadLetter.scoped(self.tenant_id).where(
            DeadLetter.flow == self.flow,
            DeadLetter.record_key.in_(list(parked)),
            DeadLetter.status == DeadLetterStatus.OPEN,
        )
        letters = {row.record_key: row for row in session.scalars(query)}
        for key, (error_class, text) in parked.items():
            letter = letters.get(key)
            if letter is None:
                letter = DeadLetter(tenant_id=self.tenant_id, flow=self.flow, record_key=key)
                session.add(letter)
            else:
                letter.attempts += 1
            payload = {"key": key, "reason": "bulk run"}
            letter.payload = seal(self._vault, self.tenant_id, DEAD_LETTER_PAYLOAD, payload)
            letter.error_class = error_class
            letter.error_text = seal_error(self._vault, self.tenant_id, text)

    def _review(self, session: Session, items: Sequence[Planned]) -> None:
        if not items:
            return
        keys = [str(p.source.key) for p in items]
        query = ReviewItem.scoped(self.tenant_id).where(
            ReviewItem.flow == self.flow,
            ReviewItem.record_key.in_(keys),
            ReviewItem.status == ReviewStatus.OPEN,
        )
        open_keys = {row.record_key for row in session.scalars(query)}
        for item in items:
            if str(item.source.key) in open_keys:
                continue
            kind = "ambiguous_match" if item.candidates else "conflict"
            details: dict[str, Any] = {"reason": item.reason, "candidates": list(item.candidates)}
            if item.diff:
                details["diff"] = item.diff
            session.add(
                ReviewItem(
                    tenant_id=self.tenant_id,
                    flow=self.flow,
                    record_key=str(item.source.key),
                    kind=kind,
                    details=details,
                )
            )


_SKIPS = {
    "already linked": "skipped_linked",
    "filtered out": "skipped_filtered",
    "twin deleted": "skipped_twin_gone",
    "twin missing": "skipped_twin_gone",
}


def _table(model: type[Any]) -> Table:
    # Core statements on the mapped table: a page's rows are plain dicts, and the ORM's bulk
    # machinery (identity bookkeeping per row) costs more than the statements themselves.
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _skip_count(item: Planned) -> str:
    if item.action is Action.REVIEW:
        return "review"
    return _SKIPS.get(item.reason, "skipped_busy")


def _error_text(error: SyncError) -> str:
    return f"{type(error).__name__}: {error}"
