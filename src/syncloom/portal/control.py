"""EngineControl: the actions the portal asks of the engine (run, dry run, backfill, replay, test).

How does a click in the portal start work in the engine without the portal knowing how the
engine runs? The portal holds an :class:`EngineControl` handed to
:func:`syncloom.portal.app.create_app` and calls it; the engine side implements it. Until one is
plugged in, :class:`DetachedEngine` answers every action with a clear
:class:`~syncloom.errors.ConfigError`.

An engine may run an action where it is asked (``syncloom run``: the worker is in the same
process) or hand it to the workers (``syncloom web``: the portal alone). A handed-over action
answers :class:`Queued` with a job id, and :meth:`EngineControl.job` says how that job is doing.

Example::

    class MyEngine:
        def run_now(self, tenant_id: int, flow: str) -> str:
            return runtime.start_poll(tenant_id, flow)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from syncloom.errors import ConfigError

__all__ = ["DetachedEngine", "EngineControl", "JobView", "Queued"]


@dataclass(frozen=True)
class Queued:
    """An action handed to the workers: one of them runs it; follow it by ``job``."""

    job: str


@dataclass(frozen=True)
class JobView:
    """How a handed-over action is doing.

    Attributes:
        job: its id.
        state: ``ENQUEUED`` (waiting for a worker), ``PENDING`` (running), ``SUCCESS``,
            ``ERROR`` or ``CANCELLED``.
        result: what it returned, once it succeeded (a dry run's report, a replay's jobs).
        error: what it raised, once it failed.
    """

    job: str
    state: str
    result: Any = None
    error: str | None = None


class EngineControl(Protocol):
    """What the portal may ask of the engine; every call is scoped to one tenant."""

    def run_now(self, tenant_id: int, flow: str) -> str:
        """Start a poll of ``flow`` now; returns a run or workflow id to show."""
        ...

    def dry_run(self, tenant_id: int, flow: str) -> dict[str, Any] | Queued:
        """Read and map without writing; returns a report (counts, sample actions, problems).

        An engine whose workers run elsewhere answers :class:`Queued`; the report is the job's
        result.
        """
        ...

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        """Start a backfill of ``flow`` from ``since`` (UTC); returns a run or workflow id."""
        ...

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> list[int] | Queued:
        """Mark the dead letters replayed and enqueue their records; returns the ids replayed.

        An engine whose workers run elsewhere answers :class:`Queued`: a worker replays them.
        """
        ...

    def job(self, tenant_id: int, job: str) -> JobView | None:
        """How an action of this tenant is doing; None when it has no such job."""
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

    def job(self, tenant_id: int, job: str) -> JobView | None:
        """No engine, no jobs."""
        return None
