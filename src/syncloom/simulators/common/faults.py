"""Faults: the latency and failures a simulator injects, by chance or by script.

A fault spec reads like ``429:0.05,500:0.02,timeout:0.01,reset:0.01``: each kind with the
probability that a request gets it. A script (``["429", "500"]``) forces the next requests'
faults in order, which is what tests use to be deterministic. The random source is seeded.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field

KINDS = ("429", "500", "502", "503", "timeout", "reset", "slow")


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message names the bad part."""


def parse_spec(spec: str) -> dict[str, float]:
    """Parse ``kind:probability,...`` into a dict, refusing unknown kinds and bad numbers."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, sep, prob = part.partition(":")
        if not sep or kind not in KINDS:
            raise FaultSpecError(f"bad fault {part!r}: expected one of {', '.join(KINDS)}:<0..1>")
        try:
            value = float(prob)
        except ValueError:
            raise FaultSpecError(f"bad probability in {part!r}") from None
        if not 0.0 <= value <= 1.0:
            raise FaultSpecError(f"probability in {part!r} must be between 0 and 1")
        rates[kind] = value
    if sum(rates.values()) > 1.0:
        raise FaultSpecError("fault probabilities add up to more than 1")
    return rates


@dataclass
class FaultPlan:
    """Which fault, if any, the next request gets; thread-safe."""

    rates: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    seed: int = 0
    retry_after_s: int = 1
    timeout_s: float = 30.0
    slow_ms: float = 2000.0
    _script: deque[str] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(init=False)
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def script(self, kinds: list[str]) -> None:
        """Force the next ``len(kinds)`` requests to get these faults (``ok`` for none)."""
        for kind in kinds:
            if kind not in KINDS and kind != "ok":
                raise FaultSpecError(f"unknown fault {kind!r}")
        with self._lock:
            self._script.extend(kinds)

    def configure(self, spec: str | None, latency_ms: float | None) -> None:
        """Replace the random rates and/or latency."""
        with self._lock:
            if spec is not None:
                self.rates = parse_spec(spec)
            if latency_ms is not None:
                self.latency_ms = latency_ms

    def clear(self) -> None:
        """Remove every fault, script and latency."""
        with self._lock:
            self.rates = {}
            self.latency_ms = 0.0
            self._script.clear()

    def next_fault(self) -> str | None:
        """Draw the fault of the next request, or ``None``."""
        with self._lock:
            if self._script:
                kind = self._script.popleft()
                return self._count(None if kind == "ok" else kind)
            if not self.rates:
                return None
            draw = self._rng.random()
            for kind, rate in self.rates.items():
                if draw < rate:
                    return self._count(kind)
                draw -= rate
            return None

    def _count(self, kind: str | None) -> str | None:
        if kind is not None:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind
