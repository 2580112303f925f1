"""SimulatorHandle: drives a running simulator's ``/_sim/`` admin endpoints from tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class SimulatorHandle:
    """A running simulator: where it listens, how to trust it, and its admin controls."""

    base_url: str
    verify: str | bool = True

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.base_url}/_sim/{path}", json=body, verify=self.verify)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def script_faults(self, kinds: list[str]) -> None:
        """Force the next requests to fail with these faults, in order (``ok`` for none)."""
        self._post("faults", {"script": kinds})

    def set_faults(
        self, spec: str = "", latency_ms: float = 0.0, retry_after_s: int | None = None
    ) -> None:
        """Set random fault rates and latency, replacing earlier ones."""
        body: dict[str, Any] = {"clear": True, "spec": spec, "latency_ms": latency_ms}
        if retry_after_s is not None:
            body["retry_after_s"] = retry_after_s
        self._post("faults", body)

    def clear_faults(self) -> None:
        """Remove every fault and latency."""
        self._post("faults", {"clear": True})

    def freeze_clock(self, moment: datetime | None) -> None:
        """Stop the simulator's clock at ``moment`` (``None`` lets it run again)."""
        self._post("clock", {"freeze": moment.isoformat() if moment else None})

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's clock forward."""
        self._post("clock", {"advance_s": seconds})

    def reset(self) -> None:
        """Back to the seeded state."""
        self._post("reset", {})

    def stats(self) -> dict[str, Any]:
        """Request counts, injected faults and vendor counters."""
        response = httpx.get(f"{self.base_url}/_sim/stats", verify=self.verify)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result
