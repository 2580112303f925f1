"""Durable functions: how engine modules declare workflows and steps without importing DBOS.

A *workflow* is a function whose progress is checkpointed: if the process dies, the workflow is
resumed on the next launch with the same executor id, and every *step* that already completed
returns its recorded output instead of running again. Steps are where side effects live (an
HTTP call, a database write); the workflow body between steps must be deterministic.

Decorate at module level, so the function is known before :meth:`Runtime.launch` recovers
pending work::

    @durable_step
    def write_customer(record: Record) -> str: ...

    @durable_workflow
    def sync_record(key: str) -> None:
        write_customer(read(key))
        sleep(30)  # durable: a restart does not sleep the first part again
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar, overload

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

__all__ = ["current_workflow_id", "durable_step", "durable_workflow", "enqueue_child", "sleep"]

P = ParamSpec("P")
R = TypeVar("R")


@overload
def durable_workflow(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def durable_workflow(*, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def durable_workflow(
    fn: Callable[P, R] | None = None, /, *, name: str | None = None
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a durable workflow.

    Usable bare (``@durable_workflow``) or with a name (``@durable_workflow(name="x")``). The
    default name is the function's module and qualified name, so two modules may each have a
    ``run`` without colliding. Renaming a workflow orphans its pending runs: keep names stable.

    Args:
        fn: The function, when used bare.
        name: The stable name recorded with every run.

    Returns:
        The durable function, or a decorator that makes one.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        return DBOS.workflow(name=name or _qualified_name(func))(func)

    return decorate(fn) if fn is not None else decorate


@overload
def durable_step(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def durable_step(*, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def durable_step(
    fn: Callable[P, R] | None = None, /, *, name: str | None = None
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a step: its output is recorded once it returns, and replayed on recovery.

    A step runs at least once: if the process dies after its side effect but before its output
    is recorded, it runs again on recovery, so steps must be idempotent (our writers are).
    Steps are not retried in memory; long retries are a :func:`sleep` in the workflow.

    Args:
        fn: The function, when used bare.
        name: The stable name recorded with every call.

    Returns:
        The step function, or a decorator that makes one.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        return DBOS.step(name=name or _qualified_name(func))(func)

    return decorate(fn) if fn is not None else decorate


def sleep(seconds: float) -> None:
    """Sleep durably inside a workflow: a recovered workflow only sleeps what is left.

    Args:
        seconds: How long to wait; up to days is fine, the deadline is stored.
    """
    DBOS.sleep(seconds)


def enqueue_child(
    queue: str,
    fn: Callable[..., object],
    *args: object,
    partition_key: str | None = None,
    workflow_id: str,
) -> str:
    """Enqueue a durable workflow from inside a running one.

    The enqueue is recorded with the parent's progress, so a parent resumed after a crash
    does not enqueue the child again; the id makes a repeat attach to the same run anyway.

    Args:
        queue: A queue this process has registered.
        fn: A ``@durable_workflow`` function.
        *args: Its arguments; they must be serialisable.
        partition_key: Required on a partitioned queue.
        workflow_id: The child's id, derived from the parent's so that it is stable.

    Returns:
        The child's workflow id.
    """
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=partition_key):
        return DBOS.enqueue_workflow(queue, fn, *args).get_workflow_id()


def current_workflow_id() -> str | None:
    """Return the id of the workflow running in this thread, or None outside a workflow."""
    return DBOS.workflow_id


def _qualified_name(func: Callable[..., object]) -> str:
    return f"{func.__module__}.{func.__qualname__}"
