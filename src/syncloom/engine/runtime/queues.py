"""Queues: named lanes of durable jobs with concurrency limits, optionally one lane per key.

A *partitioned* queue runs at most one job per partition key at a time (DBOS
``partition_concurrency=1``), across every worker sharing the database. With the canonical
record key as partition key, two changes to one record never sync concurrently, while
different records proceed in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dbos import DBOS

__all__ = ["QueueSpec", "check_enqueue", "declare_queue"]


@dataclass(frozen=True)
class QueueSpec:
    """A queue's declaration.

    Attributes:
        name: The queue's name, shared by every process on the database.
        concurrency: Most jobs running at once across all workers; None for no limit.
        worker_concurrency: Most jobs running at once in one worker; None for no limit.
        partitioned: Run at most one job per partition key at a time.
        polling_interval_s: How often a worker looks for new jobs; the latency floor.
    """

    name: str
    concurrency: int | None = None
    worker_concurrency: int | None = None
    partitioned: bool = True
    polling_interval_s: float = 0.1

    def __post_init__(self) -> None:
        if not self.name or self.name.startswith("_"):
            raise ValueError(f"queue name {self.name!r} must be non-empty and not start with '_'")
        for limit in (self.concurrency, self.worker_concurrency):
            if limit is not None and limit < 1:
                raise ValueError(f"queue {self.name}: concurrency limits must be at least 1")
        if self.polling_interval_s <= 0:
            raise ValueError(f"queue {self.name}: polling_interval_s must be positive")


def declare_queue(spec: QueueSpec) -> None:
    """Persist the queue's configuration; the running workers pick it up within a second."""
    DBOS.register_queue(
        spec.name,
        global_concurrency=spec.concurrency,
        worker_concurrency=spec.worker_concurrency,
        partition_concurrency=1 if spec.partitioned else None,
        polling_interval_sec=spec.polling_interval_s,
        # Our declaration is the source of truth: a restart with new limits applies them.
        on_conflict="always_update",
    )


def check_enqueue(queues: Mapping[str, QueueSpec], queue: str, partition_key: str | None) -> None:
    """Reject an enqueue that DBOS would accept but never run, or would run unordered.

    Raises:
        ValueError: The queue is undeclared, or a partitioned queue got no partition key.
    """
    spec = queues.get(queue)
    if spec is None:
        raise ValueError(f"queue {queue!r} is not registered with this runtime")
    if spec.partitioned and not partition_key:
        raise ValueError(f"queue {queue!r} is partitioned: give a partition_key")
    if not spec.partitioned and partition_key:
        raise ValueError(f"queue {queue!r} is not partitioned: drop the partition_key")
