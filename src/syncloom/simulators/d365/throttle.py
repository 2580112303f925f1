"""Throttling: F&O's priority-based service protection, configurable through ``/_sim/throttling``.

Two mechanisms, both answering 429 with an integer ``Retry-After`` and F&O's messages:

* resource pressure: while on, apps whose throttling priority is at or below
  ``pressure_level`` (Low first) are refused;
* user-based limits: at most ``request_limit`` requests per (user, app) in a sliding
  ``window_s`` window (F&O: 6,000 per 300 s). Off unless configured.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from syncloom.simulators.common.app import SimClock
from syncloom.simulators.d365.auth import AppUser
from syncloom.simulators.d365.wire import ODataResponse, error

PRIORITIES = ("Low", "Medium", "High")
RESOURCE_MESSAGE = (
    "This request could not be processed at this time due to system experiencing high "
    "resource utilization."
)


def too_many(message: str, retry_after_s: int) -> ODataResponse:
    return error(429, message, **{"Retry-After": str(retry_after_s)})


@dataclass
class Throttle:
    """Decides whether a caller is throttled now."""

    clock: SimClock
    pressure: bool = False
    pressure_level: str = "Low"
    request_limit: int | None = None
    window_s: float = 300.0
    retry_after_s: int = 5
    priorities: dict[str, str] = field(default_factory=dict)
    throttled: int = 0
    _seen: dict[tuple[str, str], deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, body: dict[str, Any]) -> None:
        """Apply an admin request; unknown priorities raise ValueError."""
        for client, level in dict(body.get("priorities") or {}).items():
            if level not in PRIORITIES:
                raise ValueError(f"priority must be one of {PRIORITIES}")
            self.priorities[str(client)] = level
        if "pressure" in body:
            self.pressure = bool(body["pressure"])
        if "pressure_level" in body:
            if body["pressure_level"] not in PRIORITIES:
                raise ValueError(f"pressure_level must be one of {PRIORITIES}")
            self.pressure_level = body["pressure_level"]
        if "request_limit" in body:
            limit = body["request_limit"]
            self.request_limit = int(limit) if limit is not None else None
        if "window_s" in body:
            self.window_s = float(body["window_s"])
        if "retry_after_s" in body:
            self.retry_after_s = int(body["retry_after_s"])

    def reset(self) -> None:
        self.pressure, self.request_limit, self.throttled = False, None, 0
        self.priorities.clear()
        self._seen.clear()

    def check(self, user: AppUser) -> ODataResponse | None:
        """A 429 for this caller now, or ``None``."""
        priority = self.priorities.get(user.client_id, user.priority)
        if self.pressure and PRIORITIES.index(priority) <= PRIORITIES.index(self.pressure_level):
            return self._refuse(RESOURCE_MESSAGE)
        if self.request_limit is None:
            return None
        now = self.clock.now().timestamp()
        with self._lock:
            seen = self._seen[(user.user_id, user.client_id)]
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            if len(seen) >= self.request_limit:
                return self._refuse(
                    f"Number of requests exceeded the limit of {self.request_limit} over the "
                    f"time window of {int(self.window_s)} seconds."
                )
            seen.append(now)
        return None

    def _refuse(self, message: str) -> ODataResponse:
        self.throttled += 1
        return too_many(message, self.retry_after_s)
