"""Operating state: the shared API budget per connection, alert rules and their state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncloom.store.base import Base, TenantOwned
from syncloom.store.types import utc_now

__all__ = ["AlertRule", "AlertState", "GovernorBucket"]


class GovernorBucket(TenantOwned, Base):
    """One Connection's shared API budget, drawn on under a row lock by every worker.

    The columns mirror :class:`syncloom.engine.budget.BucketState`; ``leases`` is a list of
    ``[lease_id, expires_at_iso]`` pairs, one per request in flight.
    """

    __tablename__ = "governor_buckets"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    tokens: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    factor: Mapped[float] = mapped_column(default=1.0)
    blocked_until: Mapped[datetime | None]
    day: Mapped[str] = mapped_column(String(10), default="")
    day_count: Mapped[int] = mapped_column(default=0)
    leases: Mapped[list[Any]] = mapped_column(default=list)


class AlertRule(TenantOwned, Base):
    """When to tell someone: a condition (kind + params) and where to send the alert."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)


class AlertState(TenantOwned, Base):
    """Whether a rule is firing, so an alert is sent once per episode and not every minute."""

    __tablename__ = "alert_state"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), unique=True
    )
    firing: Mapped[bool] = mapped_column(default=False)
    last_value: Mapped[float | None]
    last_fired_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
