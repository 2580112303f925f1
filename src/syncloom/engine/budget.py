"""Budget: the arithmetic of a Connection's shared API budget, free of storage and time.

How many requests may a worker send to an ERP right now, given every other worker's draws?
This module answers that for one bucket state: a token bucket (requests per second with a
burst), a cap on requests in flight, and a daily quota, all scaled by a slowdown factor that
halves on every 429 and recovers gradually on success. The :class:`~syncloom.engine.governor.
Governor` keeps the state in the database and calls :func:`take` inside a row lock, so every
worker on every machine draws from the same budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

__all__ = ["BucketState", "Grant", "Limits", "release", "take"]

_MIN_FACTOR = 0.05
_RECOVERY = 1.1  # each success restores 10 % of the rate, so recovery takes ~30 calls from 5 %


@dataclass(frozen=True, slots=True)
class Limits:
    """A Connection's budget.

    Attributes:
        rate_per_s: sustained requests per second.
        burst: requests that may go at once after a quiet spell (bucket size).
        max_in_flight: requests in flight at once, across all workers.
        daily_quota: requests per UTC day (``None`` for no quota).
        lease_s: how long an in-flight slot is held if its worker never releases it.
    """

    rate_per_s: float = 10.0
    burst: int = 10
    max_in_flight: int = 4
    daily_quota: int | None = None
    lease_s: float = 120.0


@dataclass(frozen=True, slots=True)
class BucketState:
    """What the database row holds for one Connection."""

    tokens: float
    updated_at: datetime
    factor: float = 1.0
    blocked_until: datetime | None = None
    day: str = ""
    day_count: int = 0
    leases: tuple[tuple[str, datetime], ...] = field(default=())

    @classmethod
    def fresh(cls, limits: Limits, now: datetime) -> BucketState:
        """A full bucket at ``now``."""
        return cls(tokens=float(limits.burst), updated_at=now, day=now.date().isoformat())


@dataclass(frozen=True, slots=True)
class Grant:
    """The answer to one acquire: granted with a lease id, or wait ``wait_s`` and ask again."""

    granted: bool
    wait_s: float
    state: BucketState
    reason: str = ""


def _refill(state: BucketState, limits: Limits, now: datetime) -> BucketState:
    elapsed = max(0.0, (now - state.updated_at).total_seconds())
    tokens = min(float(limits.burst), state.tokens + elapsed * limits.rate_per_s * state.factor)
    day = now.date().isoformat()
    leases = tuple((lid, exp) for lid, exp in state.leases if exp > now)
    count = state.day_count if day == state.day else 0
    return replace(
        state,
        tokens=tokens,
        updated_at=max(now, state.updated_at),
        day=day,
        day_count=count,
        leases=leases,
    )


def take(state: BucketState, limits: Limits, now: datetime, lease_id: str) -> Grant:
    """Try to take one request from the budget at ``now``.

    Args:
        state: the bucket as stored.
        limits: the Connection's limits.
        now: the current instant (UTC, from the injected clock).
        lease_id: names the in-flight slot, to be given back by :func:`release`.

    Returns:
        A grant with the new state, or a refusal with how long to wait.
    """
    state = _refill(state, limits, now)
    if state.blocked_until is not None and now < state.blocked_until:
        return Grant(False, (state.blocked_until - now).total_seconds(), state, "throttled")
    if limits.daily_quota is not None and state.day_count >= limits.daily_quota:
        midnight = datetime.fromisoformat(state.day).replace(tzinfo=now.tzinfo) + timedelta(1)
        return Grant(False, (midnight - now).total_seconds(), state, "daily quota")
    if len(state.leases) >= limits.max_in_flight:
        soonest = min(exp for _, exp in state.leases)
        return Grant(False, min(0.05, (soonest - now).total_seconds()), state, "in flight")
    if state.tokens < 1.0:
        rate = limits.rate_per_s * state.factor
        return Grant(False, (1.0 - state.tokens) / rate, state, "rate")
    lease = (lease_id, now + timedelta(seconds=limits.lease_s))
    granted = replace(
        state,
        tokens=state.tokens - 1.0,
        day_count=state.day_count + 1,
        leases=(*state.leases, lease),
    )
    return Grant(True, 0.0, granted)


def release(
    state: BucketState,
    limits: Limits,
    now: datetime,
    lease_id: str,
    *,
    throttled: bool = False,
    retry_after_s: float | None = None,
) -> BucketState:
    """Give back an in-flight slot; a throttled answer halves the rate and may block the bucket."""
    state = _refill(state, limits, now)
    leases = tuple(lease for lease in state.leases if lease[0] != lease_id)
    if not throttled:
        return replace(state, leases=leases, factor=min(1.0, state.factor * _RECOVERY))
    wait = retry_after_s if retry_after_s is not None else 1.0 / limits.rate_per_s
    blocked = now + timedelta(seconds=max(0.0, wait))
    if state.blocked_until is not None and state.blocked_until > blocked:
        blocked = state.blocked_until
    return replace(
        state,
        leases=leases,
        factor=max(_MIN_FACTOR, state.factor * 0.5),
        blocked_until=blocked,
        tokens=min(state.tokens, 0.0),
    )


def current_rate(state: BucketState, limits: Limits) -> float:
    """The rate the bucket allows now, for dashboards."""
    return limits.rate_per_s * state.factor if not math.isnan(state.factor) else 0.0
