"""LoopBridge: runs connector coroutines from the runtime's worker threads on one event loop.

Durable workflows run in the runtime's threads, while connectors are asynchronous and keep
HTTP connections and sessions that belong to the event loop they were opened on. The bridge
owns one long-lived loop in a daemon thread, so every job reuses the same connections instead
of opening a loop (and new sessions) per call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["LoopBridge"]

# Jobs on the loop hand their database calls to these threads (``asyncio.to_thread``); the
# interpreter's default of cpu + 4 would queue the calls of sixteen jobs on a small machine.
DATABASE_THREADS = 32
_CANCEL_TIMEOUT_S = 2.0

T = TypeVar("T")


class LoopBridge:
    """One event loop in a daemon thread, callable from any other thread.

    Example::

        bridge = LoopBridge()
        record = bridge.run(connector.get("Account", key))
        bridge.close()
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="syncloom-db")
        self.loop.set_default_executor(self._executor)
        self._thread = threading.Thread(target=self._serve, name="syncloom-io", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[object, object, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` on the bridge's loop and wait for its result in this thread.

        Raises:
            RuntimeError: when called from the bridge's own loop (it would deadlock).
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopBridge.run called from its own loop; await instead")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        """Cancel the work still on the loop, stop it and wait for its thread."""
        if self.loop.is_running():
            # A thread waiting in run() for work left on a stopped loop would wait forever, and
            # keep the process from exiting: cancelled, that work answers it at once.
            cancelling = asyncio.run_coroutine_threadsafe(_cancel_others(), self.loop)
            cancelling.result(timeout=_CANCEL_TIMEOUT_S + 1)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _cancel_others() -> None:
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    if others:
        await asyncio.wait(others, timeout=_CANCEL_TIMEOUT_S)
