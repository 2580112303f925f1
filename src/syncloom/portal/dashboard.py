"""Dashboard figures: health per flow, throughput, errors, lag, staleness, governors.

Throughput and errors are counted per hour over the last day from the record log; lag is how
far a flow's oldest watermark trails now; staleness is the time since the flow last synced a
record; governor use is each connection's shared API budget.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncloom.portal.flows import current_document, states
from syncloom.store.models import (
    Connection,
    DeadLetter,
    DeadLetterStatus,
    GovernorBucket,
    Link,
    RecordLogEntry,
    Run,
    Watermark,
)

__all__ = ["Dashboard", "FlowHealth", "GovernorUse", "HourCount", "build_dashboard"]

HOURS = 24


class FlowHealth(BaseModel):
    """How one flow is doing."""

    name: str
    enabled: bool
    health: str
    last_run_status: str | None
    last_run_at: datetime | None
    open_dead_letters: int
    lag_s: float | None
    staleness_s: float | None


class HourCount(BaseModel):
    """Records synced and failed in one hour."""

    hour: datetime
    synced: int
    errors: int


class GovernorUse(BaseModel):
    """One connection's shared API budget right now."""

    connection: str
    tokens: float
    in_flight: int
    today: int
    slowdown: float
    blocked_until: datetime | None


class Dashboard(BaseModel):
    """Everything the dashboard shows."""

    flows: list[FlowHealth]
    hours: list[HourCount]
    open_dead_letters: int
    governors: list[GovernorUse]


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def _health(enabled: bool, last_status: str | None, letters: int) -> str:
    if not enabled:
        return "off"
    if last_status == "failed":
        return "failing"
    return "attention" if letters else "healthy"


def _flow_health(
    session: Session, tenant_id: int, name: str, enabled: bool, now: datetime
) -> FlowHealth:
    last = session.scalars(
        Run.scoped(tenant_id).where(Run.flow == name).order_by(Run.started_at.desc()).limit(1)
    ).first()
    letters = (
        session.scalar(
            select(func.count(DeadLetter.id)).where(
                DeadLetter.tenant_id == tenant_id,
                DeadLetter.flow == name,
                DeadLetter.status == DeadLetterStatus.OPEN,
            )
        )
        or 0
    )
    # Lag: how far the oldest side's watermark trails now. Staleness: since the last sync.
    watermark = session.scalar(
        select(func.min(Watermark.value_utc)).where(
            Watermark.tenant_id == tenant_id, Watermark.flow == name
        )
    )
    synced = session.scalar(
        select(func.max(Link.synced_at)).where(Link.tenant_id == tenant_id, Link.flow == name)
    )
    status = str(last.status) if last else None
    return FlowHealth(
        name=name,
        enabled=enabled,
        health=_health(enabled, status, letters),
        last_run_status=status,
        last_run_at=last.started_at if last else None,
        open_dead_letters=letters,
        lag_s=_seconds_since(_aware(watermark), now),
        staleness_s=_seconds_since(_aware(synced), now),
    )


def _aware(moment: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (or text).
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _hour_of(session: Session) -> Any:
    # Count per hour in the database: a busy day is millions of rows, too many to fetch.
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", RecordLogEntry.created_at)
    return func.to_char(
        func.date_trunc("hour", func.timezone("UTC", RecordLogEntry.created_at)),
        "YYYY-MM-DD HH24:00:00",
    )


def _hours(session: Session, tenant_id: int, now: datetime) -> list[HourCount]:
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    hour = _hour_of(session).label("hour")
    failed = RecordLogEntry.error.is_not(None).label("failed")
    rows = session.execute(
        select(hour, failed, func.count(RecordLogEntry.id))
        .where(RecordLogEntry.tenant_id == tenant_id, RecordLogEntry.created_at >= start)
        .group_by(hour, failed)
    )
    synced: Counter[datetime] = Counter()
    errors: Counter[datetime] = Counter()
    for text, is_error, count in rows:
        moment = datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
        (errors if is_error else synced)[moment] += int(count)
    buckets = [start + timedelta(hours=n) for n in range(HOURS)]
    return [HourCount(hour=h, synced=synced[h], errors=errors[h]) for h in buckets]


def _governors(session: Session, tenant_id: int) -> list[GovernorUse]:
    rows = session.execute(
        select(Connection.name, GovernorBucket)
        .join(GovernorBucket, GovernorBucket.connection_id == Connection.id)
        .where(Connection.tenant_id == tenant_id)
        .order_by(Connection.name)
    )
    return [
        GovernorUse(
            connection=name,
            tokens=bucket.tokens,
            in_flight=len(bucket.leases),
            today=bucket.day_count,
            slowdown=bucket.factor,
            blocked_until=bucket.blocked_until,
        )
        for name, bucket in rows
    ]


def build_dashboard(session: Session, tenant_id: int, now: datetime) -> Dashboard:
    """Gather the dashboard's figures for one tenant."""
    switches = states(session, tenant_id)
    flows = [
        _flow_health(session, tenant_id, flow.name, switches.get(flow.name, True), now)
        for flow in current_document(session, tenant_id).flows
    ]
    open_letters = session.scalar(
        select(func.count(DeadLetter.id)).where(
            DeadLetter.tenant_id == tenant_id, DeadLetter.status == DeadLetterStatus.OPEN
        )
    )
    return Dashboard(
        flows=flows,
        hours=_hours(session, tenant_id, now),
        open_dead_letters=open_letters or 0,
        governors=_governors(session, tenant_id),
    )
