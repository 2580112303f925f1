"""EngineControl: the actions the portal asks of the engine (run, dry run, backfill, replay, test).

How does a click in the portal start work in the engine without the portal knowing how the
engine runs? The portal holds an :class:`EngineControl` handed to
:func:`syncloom.portal.app.create_app` and calls it; the engine side implements it. Until one is
plugged in, :class:`DetachedEngine` answers every action with a clear
:class:`~syncloom.errors.ConfigError`.

Example::

    class MyEngine:
        def run_now(self, tenant_id: int, flow: str) -> str:
            return runtime.start_poll(tenant_id, flow)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from syncloom.errors import ConfigError

__all__ = ["DetachedEngine", "EngineControl"]


class EngineControl(Protocol):
    """What the portal may ask of the engine; every call is scoped to one tenant."""

    def run_now(self, tenant_id: int, flow: str) -> str:
        """Start a poll of ``flow`` now; returns a run or workflow id to show."""
        ...

    def dry_run(self, tenant_id: int, flow: str) -> dict[str, Any]:
        """Read and map without writing; returns a report (counts, sample actions, problems)."""
        ...

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        """Start a backfill of ``flow`` from ``since`` (UTC); returns a run or workflow id."""
        ...

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> list[int]:
        """Mark the dead letters replayed and enqueue their records; returns the ids replayed."""
        ...

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        """Sign in and make one cheap call; returns (ok, a message fit to show)."""
        ...


class DetachedEngine:
    """The stand-in used when no engine is plugged in: every action says so."""

    def _refuse(self) -> ConfigError:
        return ConfigError("the engine is not running in this process; start `syncloom run`")

    def run_now(self, tenant_id: int, flow: str) -> str:
        """Refuse: no engine."""
        raise self._refuse()

    def dry_run(self, tenant_id: int, flow: str) -> dict[str, Any]:
        """Refuse: no engine."""
        raise self._refuse()

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        """Refuse: no engine."""
        raise self._refuse()

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> list[int]:
        """Refuse: no engine."""
        raise self._refuse()

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        """Refuse: no engine."""
        raise self._refuse()
