from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from syncloom.engine.budget import BucketState, Limits, release, take

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_full_bucket_grants_burst_then_waits_for_rate():
    limits = Limits(rate_per_s=2, burst=3, max_in_flight=100)
    state = BucketState.fresh(limits, T0)
    grants = []
    for i in range(5):
        grant = take(state, limits, T0, f"l{i}")
        state = grant.state
        grants.append(grant.granted)
    assert grants == [True, True, True, False, False]
    refused = take(state, limits, T0, "x")
    assert refused.reason == "rate"
    assert refused.wait_s == 0.5
    assert take(state, limits, T0 + timedelta(seconds=0.5), "y").granted


def test_throttle_halves_rate_blocks_until_retry_after_then_recovers():
    limits = Limits(rate_per_s=10, burst=1, max_in_flight=10)
    state = take(BucketState.fresh(limits, T0), limits, T0, "a").state
    state = release(state, limits, T0, "a", throttled=True, retry_after_s=7)
    assert state.factor == 0.5
    blocked = take(state, limits, T0 + timedelta(seconds=6), "b")
    assert not blocked.granted
    assert blocked.reason == "throttled"
    assert round(blocked.wait_s, 6) == 1.0
    later = T0 + timedelta(seconds=8)
    granted = take(state, limits, later, "c")
    assert granted.granted
    recovered = release(granted.state, limits, later, "c")
    assert 0.5 < recovered.factor <= 1.0


def test_in_flight_cap_and_expired_leases():
    limits = Limits(rate_per_s=100, burst=100, max_in_flight=2, lease_s=30)
    state = BucketState.fresh(limits, T0)
    state = take(state, limits, T0, "a").state
    state = take(state, limits, T0, "b").state
    assert take(state, limits, T0, "c").reason == "in flight"
    assert take(release(state, limits, T0, "a"), limits, T0, "c").granted
    # A worker that died holding a lease frees it when the lease expires.
    assert take(state, limits, T0 + timedelta(seconds=31), "d").granted


def test_daily_quota_resets_at_utc_midnight():
    limits = Limits(rate_per_s=100, burst=100, max_in_flight=100, daily_quota=2)
    state = BucketState.fresh(limits, T0)
    for lease in ("a", "b"):
        state = release(take(state, limits, T0, lease).state, limits, T0, lease)
    refused = take(state, limits, T0, "c")
    assert refused.reason == "daily quota"
    assert refused.wait_s == 12 * 3600
    assert take(state, limits, T0 + timedelta(hours=12), "d").granted


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.floats(0, 2), st.booleans(), st.booleans()), max_size=120),
)
def test_never_grants_more_than_the_budget_in_any_window(rate, burst, steps):
    limits = Limits(rate_per_s=rate, burst=burst, max_in_flight=3, lease_s=5)
    state = BucketState.fresh(limits, T0)
    now, granted_at, in_flight = T0, [], []
    for n, (advance, finish, throttled) in enumerate(steps):
        now += timedelta(seconds=advance)
        grant = take(state, limits, now, str(n))
        state = grant.state
        live = [lid for lid, exp in state.leases]
        assert len(live) <= limits.max_in_flight
        if grant.granted:
            granted_at.append(now)
            in_flight.append(str(n))
        if finish and in_flight:
            state = release(state, limits, now, in_flight.pop(0), throttled=throttled)
    for i, start in enumerate(granted_at):
        for j in range(i, len(granted_at)):
            window = (granted_at[j] - start).total_seconds()
            assert j - i + 1 <= burst + rate * window + 1e-6
