"""RetryPolicy: retry, dead-letter or review, decided by the exception's class alone.

When a record job fails, what next? Transient failures (``TransientError`` and its
``ThrottledError``/``StaleVersionError``) are retried with exponential backoff and full jitter,
never sooner than a server's ``retry_after_s``, within a total budget of 72 hours; permanent
ones (``PermanentError``, ``MappingError``, ``ConfigError``, and anything unexpected) go to the
dead-letter queue at once; a ``ConflictError`` goes to review. Message text is never read.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from syncloom.errors import ConflictError, TransientError

__all__ = ["RetryAction", "RetryDecision", "RetryPolicy"]

HOURS_72_S = 72 * 3600.0


class RetryAction(enum.StrEnum):
    """What the caller does next."""

    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """The decision, with the delay before the next attempt when retrying, and why."""

    action: RetryAction
    delay_s: float = 0.0
    reason: str = ""


class RetryPolicy:
    """Decides what follows a failure.

    Example::

        policy = RetryPolicy(rng=random.Random(7))
        decision = policy.decide(exc, attempt=3, elapsed_s=120.0)
        if decision.action is RetryAction.RETRY:
            sleep(decision.delay_s)
    """

    def __init__(
        self,
        *,
        base_delay_s: float = 1.0,
        cap_s: float = 3600.0,
        budget_s: float = HOURS_72_S,
        rng: random.Random | None = None,
    ) -> None:
        """Create the policy.

        Args:
            base_delay_s: the ceiling of the first delay; it doubles per attempt.
            cap_s: the largest delay we choose ourselves (a server may ask for longer).
            budget_s: the total time after the first failure within which we keep trying.
            rng: the random source of the jitter; seed it for reproducible runs.
        """
        if base_delay_s <= 0 or cap_s < base_delay_s or budget_s <= 0:
            raise ValueError("need 0 < base_delay_s <= cap_s and a positive budget")
        self.base_delay_s = base_delay_s
        self.cap_s = cap_s
        self.budget_s = budget_s
        self.rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter, not crypto

    def decide(self, error: BaseException, *, attempt: int, elapsed_s: float) -> RetryDecision:
        """Decide what follows ``error``.

        Args:
            error: what the attempt raised.
            attempt: how many attempts failed so far, counting this one (1 after the first).
            elapsed_s: seconds since the first failure.

        Returns:
            ``retry`` with a delay, ``dead_letter`` or ``review``.
        """
        kind = type(error).__name__
        if isinstance(error, ConflictError):
            return RetryDecision(RetryAction.REVIEW, reason=f"{kind}: a person decides")
        if not isinstance(error, TransientError):
            return RetryDecision(RetryAction.DEAD_LETTER, reason=f"{kind} is not retryable")
        delay = self.delay_s(attempt, error.retry_after_s)
        if elapsed_s + delay > self.budget_s:
            spent = f"{elapsed_s / 3600:.1f} h"
            return RetryDecision(RetryAction.DEAD_LETTER, reason=f"{kind}: retried for {spent}")
        return RetryDecision(RetryAction.RETRY, delay, reason=f"{kind}: attempt {attempt}")

    def delay_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Return the delay before the next attempt: full jitter, capped, never below asked.

        A server's ``retry_after_s`` raises the floor even above ``cap_s``: retrying sooner
        than asked only earns another refusal.
        """
        exponent = min(max(attempt - 1, 0), 62)
        ceiling = min(self.cap_s, self.base_delay_s * 2.0**exponent)
        delay = self.rng.uniform(0.0, ceiling)
        if retry_after_s is not None and retry_after_s > delay:
            delay = retry_after_s
        return delay
