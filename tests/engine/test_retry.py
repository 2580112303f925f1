from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncloom.engine.retry import HOURS_72_S, RetryAction, RetryPolicy
from syncloom.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    MappingError,
    PermanentError,
    StaleVersionError,
    ThrottledError,
    TransientError,
    ValidationError,
    VaultError,
)


def policy(seed=1, **kwargs):
    return RetryPolicy(rng=random.Random(seed), **kwargs)


@pytest.mark.parametrize(
    "error",
    [TransientError("503"), ThrottledError("429"), StaleVersionError("etag")],
)
def test_transient_errors_are_retried(error):
    assert policy().decide(error, attempt=1, elapsed_s=0).action is RetryAction.RETRY


@pytest.mark.parametrize(
    "error",
    [
        PermanentError("bad"),
        AuthError("no"),
        ValidationError("x", field="Name"),
        MappingError("m"),
        ConfigError("c"),
        VaultError("v"),
        RuntimeError("a bug"),
    ],
)
def test_permanent_errors_are_dead_lettered(error):
    decision = policy().decide(error, attempt=1, elapsed_s=0)
    assert decision.action is RetryAction.DEAD_LETTER
    assert type(error).__name__ in decision.reason


def test_conflicts_go_to_review():
    assert policy().decide(ConflictError("c"), attempt=1, elapsed_s=0).action is RetryAction.REVIEW


def test_message_text_does_not_matter():
    decision = policy().decide(PermanentError("timeout, please retry"), attempt=1, elapsed_s=0)
    assert decision.action is RetryAction.DEAD_LETTER


def test_retry_after_is_honoured_even_above_cap():
    error = ThrottledError("429", retry_after_s=7200)
    decision = policy(cap_s=60).decide(error, attempt=1, elapsed_s=0)
    assert decision.delay_s == 7200


def test_backoff_grows_and_is_capped():
    rng_policy = policy(base_delay_s=1, cap_s=100)
    first = max(rng_policy.delay_s(1) for _ in range(200))
    tenth = max(rng_policy.delay_s(10) for _ in range(200))
    assert first <= 1
    assert 50 < tenth <= 100


def test_same_seed_same_delays():
    assert [policy(3).delay_s(n) for n in range(1, 8)] == [
        policy(3).delay_s(n) for n in range(1, 8)
    ]


def test_gives_up_after_72_hours():
    decision = policy().decide(TransientError("503"), attempt=80, elapsed_s=HOURS_72_S - 1)
    assert decision.action in (RetryAction.RETRY, RetryAction.DEAD_LETTER)
    decision = policy().decide(TransientError("503"), attempt=80, elapsed_s=HOURS_72_S)
    assert decision.action is RetryAction.DEAD_LETTER
    assert "72.0 h" in decision.reason


@given(
    attempt=st.integers(1, 10_000),
    elapsed=st.floats(0, HOURS_72_S * 2),
    retry_after=st.none() | st.floats(0, 10 * 3600),
    cap=st.floats(1, 7200),
    seed=st.integers(0, 2**32),
)
def test_delays_respect_retry_after_cap_and_budget(attempt, elapsed, retry_after, cap, seed):
    rp = policy(seed, cap_s=cap)
    decision = rp.decide(
        ThrottledError("429", retry_after_s=retry_after), attempt=attempt, elapsed_s=elapsed
    )
    if decision.action is RetryAction.RETRY:
        assert decision.delay_s >= (retry_after or 0)
        assert decision.delay_s <= max(cap, retry_after or 0)
        assert elapsed + decision.delay_s <= HOURS_72_S
    else:
        assert decision.action is RetryAction.DEAD_LETTER


@given(st.integers(0, 2**32))
def test_a_retried_record_never_outlives_the_budget(seed):
    rp = policy(seed, cap_s=3600)
    elapsed, attempt = 0.0, 1
    while True:
        decision = rp.decide(TransientError("503"), attempt=attempt, elapsed_s=elapsed)
        if decision.action is not RetryAction.RETRY:
            break
        elapsed += decision.delay_s
        attempt += 1
    assert elapsed <= HOURS_72_S
    assert attempt > 10
