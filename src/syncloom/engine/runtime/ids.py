"""Workflow ids: one id per (record key, source version), sortable within a record key.

A workflow id is also DBOS's idempotency key: starting or enqueueing a workflow under an id
that already exists attaches to the existing run instead of starting a second one. Deriving the
id from the record key and the version we read makes a duplicated webhook or an overlapping poll
collapse onto one job, and sorting ids of one key puts its versions in source order.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["workflow_id_for"]

# Zero-padded so that string order equals numeric order for any 64-bit version counter.
_INT_WIDTH = 20


def workflow_id_for(
    record_key: str, source_version: str | int | datetime, *, kind: str = "sync"
) -> str:
    """Return the workflow id for one version of one record.

    Integers are zero-padded and datetimes rendered in UTC with microseconds, so ids of the
    same record key sort in version order as plain strings.

    Args:
        record_key: Canonical record key, e.g. ``crm:Account:<uuid>``.
        source_version: The version read from the source (counter, ETag or modified-on).
        kind: What the job does; keeps different jobs on one version apart.

    Returns:
        An id such as ``sync:crm:Account:42@00000000000000000007``.

    Raises:
        ValueError: On an empty key, a negative counter or a naive datetime.
    """
    if not record_key.strip():
        raise ValueError("record_key must not be empty")
    return f"{kind}:{record_key}@{_render_version(source_version)}"


def _render_version(version: str | int | datetime) -> str:
    if isinstance(version, datetime):
        if version.tzinfo is None:
            raise ValueError("source_version datetimes must be timezone-aware")
        return version.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    if isinstance(version, int):
        if version < 0:
            raise ValueError("source_version counters must not be negative")
        return str(version).zfill(_INT_WIDTH)
    if not version.strip():
        raise ValueError("source_version must not be empty")
    return version
