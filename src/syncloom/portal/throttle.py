"""LoginThrottle: slows password guessing by counting failures per account and per address."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from syncloom.engine.clock import Clock

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Refuses sign-in for a key (email or client address) after too many recent failures.

    Args:
        clock: where "now" comes from.
        limit: failures allowed within ``window``.
        window: how long a failure counts.
    """

    def __init__(self, clock: Clock, *, limit: int = 5, window: timedelta | None = None) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window or timedelta(minutes=15)
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def is_blocked(self, *keys: str) -> bool:
        """Return True when any key has used up its failures in the window."""
        with self._lock:
            return any(len(self._recent(key)) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        """Count one failure against each key."""
        now = self._clock.now_utc()
        with self._lock:
            for key in keys:
                self._recent(key).append(now)

    def succeed(self, *keys: str) -> None:
        """Forget the failures of each key after a good sign-in."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        horizon = self._clock.now_utc() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
