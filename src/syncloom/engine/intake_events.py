"""IntakeEvents: what became of a stored change hint after the intake enqueued its jobs.

A hint row is ``enqueued`` while the record job it woke is pending. When that job ends, every
hint of the same record that arrived before the job's last attempt began is covered by it
(the job re-read the record then, DESIGN §1.1), so those rows become ``done``, or ``failed``
with an outcome naming the error class and where the record went (dead letter, review).
Vendor error text stays out of the outcome: it is plaintext and may echo personal data.

Settled rows are removed by the tenant's retention (:func:`purge`), as are rows still
``enqueued`` past it: a record job ends within the 72-hour retry horizon, so such a row's
delivery joined a job that had already finished.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncloom.store.models import IntakeEvent, IntakeStatus

__all__ = ["purge", "settle"]


def settle(
    session: Session,
    tenant_id: int,
    record_key: str,
    *,
    covered_before: datetime,
    now: datetime,
    outcome: str | None = None,
) -> int:
    """Mark the record's enqueued hints received up to ``covered_before`` as done or failed.

    Args:
        session: the caller's transaction.
        tenant_id: the tenant of the record job.
        record_key: the record the job synced, as the intake stored it.
        covered_before: when the job's last attempt began; later hints wait for their own job.
        now: the settle time.
        outcome: None when the job synced the record; else why it did not (``failed``).

    Returns:
        How many rows were settled.
    """
    status = IntakeStatus.DONE if outcome is None else IntakeStatus.FAILED
    result = session.execute(
        sa.update(IntakeEvent)
        .where(
            IntakeEvent.tenant_id == tenant_id,
            IntakeEvent.record_key == record_key,
            IntakeEvent.status == IntakeStatus.ENQUEUED,
            IntakeEvent.received_at <= covered_before,
        )
        .values(status=status, processed_at=now, outcome=outcome and outcome[:255])
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge(session: Session, tenant_id: int, cutoff: datetime) -> int:
    """Remove the tenant's hint rows received before ``cutoff``, settled or orphaned.

    Returns:
        How many rows were removed.
    """
    result = session.execute(
        sa.delete(IntakeEvent).where(
            IntakeEvent.tenant_id == tenant_id,
            IntakeEvent.received_at < cutoff,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
