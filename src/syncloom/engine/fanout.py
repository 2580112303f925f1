"""Fan-out: run the independent branches of one record job together, losing no branch.

How does one job write an Order's customer, its products and its lines without waiting for
each request in turn, and without losing an error? Start every independent branch at once,
let each one finish, then fail with the first error in branch order. ``asyncio.gather``
alone raises the first error while the other branches keep running unobserved; a
``TaskGroup`` cancels siblings in the middle of a request and raises an ``ExceptionGroup``
that the RetryPolicy cannot classify. Here a branch's request always completes (its key was
chosen before the call, so a retry finds what it wrote), and the job's error is a plain
``SyncError`` with the other branches' failures noted on it.

How many branches talk to a system at once is not decided here: each request holds one of
its Connection's Governor slots, so the Governor's ``max_in_flight`` bounds the fan-out.

Example::

    created = await settle_all(self.create_line(line) for line in lines)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

__all__ = ["settle_all", "settle_both"]

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


async def settle_all(branches: Iterable[Awaitable[T]]) -> list[T]:
    """Await every branch concurrently; their results in branch order.

    Raises:
        BaseException: the first failed branch's error, once every branch has finished; the
            other failures are added to it as notes so none goes unreported.
    """
    results = await asyncio.gather(*branches, return_exceptions=True)
    _raise_first(results)
    return [r for r in results if not isinstance(r, BaseException)]


async def settle_both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await two branches of different types concurrently, as :func:`settle_all` does."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    _raise_first([a, b])
    assert not isinstance(a, BaseException)
    assert not isinstance(b, BaseException)
    return a, b


def _raise_first(results: Iterable[object]) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    if not failures:
        return
    first = failures[0]
    for other in failures[1:]:
        first.add_note(f"another branch failed too: {type(other).__name__}: {other}")
    raise first
