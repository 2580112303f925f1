"""JobHandle: a reference to one durable run, by workflow id, that outlives the process."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Generic, TypeVar

from dbos import WorkflowHandle

__all__ = ["JobHandle", "JobState"]

R = TypeVar("R")

_POLL_INTERVAL_S = 0.05


class JobState(StrEnum):
    """Where a run is in its life; the values are DBOS's status names."""

    DELAYED = "DELAYED"
    ENQUEUED = "ENQUEUED"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"
    MAX_RECOVERY_ATTEMPTS_EXCEEDED = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"

    @property
    def is_final(self) -> bool:
        """Whether the run will never change state again on its own."""
        return self not in (JobState.DELAYED, JobState.ENQUEUED, JobState.PENDING)


class JobHandle(Generic[R]):
    """A run started, enqueued or found by id; ask it for its state or wait for its result."""

    def __init__(self, inner: WorkflowHandle[R]) -> None:
        self._inner = inner

    @property
    def workflow_id(self) -> str:
        """The run's workflow id (its idempotency key)."""
        return self._inner.get_workflow_id()

    def status(self) -> JobState:
        """Return the run's current state, read from the database."""
        return JobState(self._inner.get_status().status)

    def result(self, timeout_s: float | None = None) -> R:
        """Wait for the run to end and return its output.

        Args:
            timeout_s: Give up after this many seconds; wait forever when None.

        Returns:
            What the workflow returned.

        Raises:
            TimeoutError: The run did not end in time (it keeps running).
            Exception: Whatever the workflow raised, re-raised here.
        """
        if timeout_s is not None:
            self._wait_final(time.monotonic() + timeout_s)
        return self._inner.get_result(polling_interval_sec=_POLL_INTERVAL_S)

    def _wait_final(self, deadline: float) -> None:
        while not self.status().is_final:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"workflow {self.workflow_id} did not finish in time")
            time.sleep(_POLL_INTERVAL_S)
