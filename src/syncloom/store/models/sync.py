"""The state that keeps two systems in step: links, watermarks, the write ledger, intake."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncloom.store.base import Base, TenantOwned
from syncloom.store.types import str_enum, utc_now

__all__ = [
    "IntakeEvent",
    "IntakeStatus",
    "Link",
    "LinkState",
    "Watermark",
    "WriteLedgerEntry",
]


class LinkState(enum.StrEnum):
    """Where a Link stands: a target key reserved before a create, bound, or broken."""

    PENDING = "pending"
    LINKED = "linked"
    UNLINKED = "unlinked"


class Link(TenantOwned, Base):
    """One row of the cross-reference between a CRM record and an ERP record in a Flow.

    ``pending_key`` holds a target key chosen before a create, so a retry after a crash finds
    the record instead of creating a second one. ``lease_owner``/``lease_expires_at`` give a
    bulk step per-record mutual exclusion without one queue entry per record.
    """

    __tablename__ = "identity_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "flow", "crm_key"),
        UniqueConstraint("tenant_id", "flow", "erp_key"),
    )

    flow: Mapped[str] = mapped_column(String(100))
    crm_key: Mapped[str | None] = mapped_column(String(255))
    erp_key: Mapped[str | None] = mapped_column(String(255))
    pending_key: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[LinkState] = mapped_column(
        str_enum(LinkState, "link_state"), default=LinkState.PENDING
    )
    legal_entity: Mapped[str | None] = mapped_column(String(64))
    crm_hash: Mapped[str | None] = mapped_column(String(64))
    erp_hash: Mapped[str | None] = mapped_column(String(64))
    base_snapshot: Mapped[dict[str, Any] | None]
    synced_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Watermark(TenantOwned, Base):
    """The persisted since-value of one Flow side, with the keys already seen at the boundary.

    ``value_utc`` comes from the source's own timestamps, never the local clock.
    """

    __tablename__ = "watermarks"
    __table_args__ = (UniqueConstraint("tenant_id", "flow", "side"),)

    flow: Mapped[str] = mapped_column(String(100))
    side: Mapped[str] = mapped_column(String(32))
    value_utc: Mapped[datetime | None]
    boundary_keys: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class WriteLedgerEntry(TenantOwned, Base):
    """The hash of the values we last wrote to one record, so our own write is not an echo."""

    __tablename__ = "write_ledger"
    __table_args__ = (UniqueConstraint("tenant_id", "system", "record_key"),)

    system: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(255))
    values_hash: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utc_now)


class IntakeStatus(enum.StrEnum):
    """The life of a stored change hint."""

    RECEIVED = "received"
    ENQUEUED = "enqueued"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"


class IntakeEvent(TenantOwned, Base):
    """A webhook or business-event hint, stored before the sender gets its 202."""

    __tablename__ = "intake_events"
    __table_args__ = (
        Index("ix_intake_events_tenant_id_status", "tenant_id", "status"),
        UniqueConstraint("connection_id", "digest"),
    )

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    body: Mapped[str] = mapped_column(Text)
    # Names one delivery (timestamp + body), so a replay inside the window is refused.
    digest: Mapped[str | None] = mapped_column(String(64))
    record_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[IntakeStatus] = mapped_column(
        str_enum(IntakeStatus, "intake_status"), default=IntakeStatus.RECEIVED
    )
    processed_at: Mapped[datetime | None]
    # Why a hint's record job failed (error class and where it went), never vendor text.
    outcome: Mapped[str | None] = mapped_column(String(255))
