"""History: runs and the record log, filtered, and one record's history with its lineage.

Lineage is where the record came from and went to: the identity link that binds its CRM and
ERP keys in the flow, the runs that touched it, and its dead letters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_
from sqlalchemy.orm import Session

from syncloom.engine.privacy import RECORD_LOG_DIFF, RECORD_LOG_ERROR, unseal, unseal_text
from syncloom.portal.params import MAX_ID
from syncloom.portal.problems import Missing
from syncloom.store.models import (
    DeadLetter,
    Link,
    RecordLogEntry,
    Run,
    RunKind,
    RunStatus,
)
from syncloom.vault import Vault

__all__ = [
    "FieldChange",
    "LogEntryView",
    "RecordFilter",
    "RecordHistory",
    "RunFilter",
    "RunView",
    "find_run",
    "list_entries",
    "list_runs",
    "record_history",
]


class RunFilter(BaseModel):
    """Which runs to list."""

    model_config = ConfigDict(extra="forbid")

    flow: str | None = Field(default=None, max_length=100)
    kind: RunKind | None = None
    status: RunStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class RunView(BaseModel):
    """A run as shown."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    flow: str | None
    kind: RunKind
    status: RunStatus
    counts: dict[str, Any]
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class RecordFilter(BaseModel):
    """Which record-log entries to list."""

    model_config = ConfigDict(extra="forbid")

    flow: str | None = Field(default=None, max_length=100)
    record_key: str | None = Field(default=None, max_length=255)
    action: str | None = Field(default=None, max_length=32)
    run_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    errors_only: bool = False
    limit: int = Field(default=100, ge=1, le=1000)


class FieldChange(BaseModel):
    """One field of a diff: old and new value, and why the winner won when both changed."""

    field: str
    old: Any = None
    new: Any = None
    note: str = ""


class LogEntryView(BaseModel):
    """A record-log entry with its diff as rows."""

    id: int
    flow: str
    record_key: str
    run_id: int | None
    attempt: int
    action: str
    error: str | None
    created_at: datetime
    changes: list[FieldChange]

    @classmethod
    def of(cls, row: RecordLogEntry, vault: Vault | None = None) -> LogEntryView:
        """The view of one entry (its diff and error opened with ``vault`` when sealed)."""
        diff = unseal(vault, row.tenant_id, RECORD_LOG_DIFF, row.diff)
        return cls(
            id=row.id,
            flow=row.flow,
            record_key=row.record_key,
            run_id=row.run_id,
            attempt=row.attempt,
            action=row.action,
            error=unseal_text(vault, row.tenant_id, RECORD_LOG_ERROR, row.error),
            created_at=row.created_at,
            changes=[_change(name, value) for name, value in sorted(diff.items())],
        )


def _change(name: str, value: Any) -> FieldChange:
    # The engine writes [old, new] pairs, or a mapping with old/new and the reason a side won.
    if isinstance(value, list | tuple) and len(value) == 2:
        return FieldChange(field=name, old=value[0], new=value[1])
    if isinstance(value, dict):
        rest = {k: v for k, v in value.items() if k not in ("old", "new")}
        note = ", ".join(f"{k}: {v}" for k, v in rest.items())
        return FieldChange(field=name, old=value.get("old"), new=value.get("new"), note=note)
    return FieldChange(field=name, new=value)


class LinkView(BaseModel):
    """An identity link binding a CRM and an ERP record in a flow."""

    model_config = ConfigDict(from_attributes=True)

    flow: str
    crm_key: str | None
    erp_key: str | None
    state: str
    legal_entity: str | None
    synced_at: datetime | None


class RecordHistory(BaseModel):
    """One record's log entries (newest first), identity links, runs and dead letters."""

    flow: str
    record_key: str
    entries: list[LogEntryView]
    links: list[LinkView]
    run_ids: list[int]
    dead_letter_ids: list[int]


def list_runs(session: Session, tenant_id: int, query: RunFilter) -> list[RunView]:
    """The tenant's runs, newest first."""
    select_ = Run.scoped(tenant_id)
    if query.flow:
        select_ = select_.where(Run.flow == query.flow)
    if query.kind:
        select_ = select_.where(Run.kind == query.kind)
    if query.status:
        select_ = select_.where(Run.status == query.status)
    rows = session.scalars(
        select_.order_by(Run.started_at.desc(), Run.id.desc()).limit(query.limit)
    )
    return [RunView.model_validate(row) for row in rows]


def find_run(session: Session, tenant_id: int, run_id: int) -> RunView:
    """One run of the tenant.

    Raises:
        Missing: no such run in this tenant.
    """
    row = session.get(Run, run_id)
    if row is None or row.tenant_id != tenant_id:
        raise Missing(f"no run {run_id}")
    return RunView.model_validate(row)


def list_entries(
    session: Session, tenant_id: int, query: RecordFilter, vault: Vault | None = None
) -> list[LogEntryView]:
    """The tenant's record-log entries, newest first."""
    select_ = RecordLogEntry.scoped(tenant_id)
    if query.flow:
        select_ = select_.where(RecordLogEntry.flow == query.flow)
    if query.record_key:
        select_ = select_.where(RecordLogEntry.record_key.contains(query.record_key))
    if query.action:
        select_ = select_.where(RecordLogEntry.action == query.action)
    if query.run_id is not None:
        select_ = select_.where(RecordLogEntry.run_id == query.run_id)
    if query.errors_only:
        select_ = select_.where(RecordLogEntry.error.is_not(None))
    rows = session.scalars(select_.order_by(RecordLogEntry.id.desc()).limit(query.limit))
    return [LogEntryView.of(row, vault) for row in rows]


def record_history(
    session: Session, tenant_id: int, flow: str, record_key: str, vault: Vault | None = None
) -> RecordHistory:
    """Everything known about one record in one flow.

    Raises:
        Missing: the tenant has nothing on this record.
    """
    entries = list_entries(
        session, tenant_id, RecordFilter(flow=flow, record_key=None, limit=1000), vault
    )
    entries = [e for e in entries if e.record_key == record_key]
    links = session.scalars(
        Link.scoped(tenant_id).where(
            Link.flow == flow, or_(Link.crm_key == record_key, Link.erp_key == record_key)
        )
    ).all()
    letters = session.scalars(
        DeadLetter.scoped(tenant_id).where(
            DeadLetter.flow == flow, DeadLetter.record_key == record_key
        )
    ).all()
    if not entries and not links and not letters:
        raise Missing(f"no history for {record_key} in flow {flow}")
    return RecordHistory(
        flow=flow,
        record_key=record_key,
        entries=entries,
        links=[LinkView.model_validate(link) for link in links],
        run_ids=sorted({e.run_id for e in entries if e.run_id is not None}),
        dead_letter_ids=[letter.id for letter in letters],
    )
