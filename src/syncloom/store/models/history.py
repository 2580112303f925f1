"""What happened: runs, the per-record log, dead letters and items waiting for review."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from syncloom.store.base import Base, TenantOwned
from syncloom.store.types import str_enum, utc_now

__all__ = [
    "DeadLetter",
    "DeadLetterStatus",
    "RecordLogEntry",
    "ReviewItem",
    "ReviewStatus",
    "Run",
    "RunKind",
    "RunStatus",
]


class RunKind(enum.StrEnum):
    """Why a Run started."""

    SCHEDULED = "scheduled"
    UTILITY = "utility"
    WEBHOOK = "webhook"
    BACKFILL = "backfill"
    BULK = "bulk"
    RECONCILE = "reconcile"


class RunStatus(enum.StrEnum):
    """Where a Run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Run(TenantOwned, Base):
    """One poll, bulk load, backfill or reconciliation of a Flow, with its counts."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_id_flow_started_at", "tenant_id", "flow", "started_at"),
    )

    flow: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[RunKind] = mapped_column(str_enum(RunKind, "run_kind"))
    status: Mapped[RunStatus] = mapped_column(
        str_enum(RunStatus, "run_status"), default=RunStatus.QUEUED
    )
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]


class RecordLogEntry(TenantOwned, Base):
    """One attempt at one record: the action taken, the field-level diff, the error if any."""

    __tablename__ = "record_log"
    __table_args__ = (
        Index("ix_record_log_tenant_id_flow_record_key", "tenant_id", "flow", "record_key"),
    )

    flow: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    record_key: Mapped[str] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(default=1)
    action: Mapped[str] = mapped_column(String(32))
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class DeadLetterStatus(enum.StrEnum):
    """Where a DeadLetter stands; ``resolved`` means a newer version synced on its own."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"


class DeadLetter(TenantOwned, Base):
    """A record that failed permanently or exhausted its retries, kept for a person to act on."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_tenant_id_status", "tenant_id", "status"),
        Index("ix_dead_letters_tenant_id_flow_record_key", "tenant_id", "flow", "record_key"),
    )

    flow: Mapped[str] = mapped_column(String(100))
    record_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_class: Mapped[str] = mapped_column(String(100))
    error_text: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    status: Mapped[DeadLetterStatus] = mapped_column(
        str_enum(DeadLetterStatus, "dead_letter_status"), default=DeadLetterStatus.OPEN
    )
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    closed_at: Mapped[datetime | None]


class ReviewStatus(enum.StrEnum):
    """Where a ReviewItem stands."""

    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ReviewItem(TenantOwned, Base):
    """A decision waiting for a person: an ambiguous first-sync match or a manual conflict."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_tenant_id_status", "tenant_id", "status"),)

    flow: Mapped[str] = mapped_column(String(100))
    record_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "review_status"), default=ReviewStatus.OPEN
    )
    resolution: Mapped[dict[str, Any] | None]
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolved_at: Mapped[datetime | None]
