"""Simulated Smart Events: a signed JSON POST to registered URLs on every write.

Intacct's Smart Events can call a URL when a record changes. The simulator emulates that with
a registry under ``/_sim/webhooks`` (URL + shared secret) and posts
``{"object", "recordno", "id", "action", "whenmodified"}`` with the header
``X-Syncloom-Signature: sha256=<hex HMAC-SHA256 of the body>`` and ``X-Syncloom-Timestamp``
(Unix seconds), so a receiver can verify the sender and reject stale replays.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

import httpx

from syncloom.simulators.intacct.context import ChangeEvent


@dataclass(frozen=True)
class Subscription:
    """One registered receiver."""

    url: str
    secret: str


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class EventPoster:
    """Keeps subscriptions and posts change events to them in the background."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.subscriptions: list[Subscription] = []
        self.delivered = 0
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, url: str, secret: str) -> None:
        self.subscriptions = [s for s in self.subscriptions if s.url != url]
        self.subscriptions.append(Subscription(url, secret))

    def clear(self) -> None:
        self.subscriptions = []

    def publish(self, events: list[ChangeEvent]) -> None:
        """Schedule delivery of ``events`` to every subscriber (fire and forget)."""
        if not events or not self.subscriptions:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(list(events)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, events: list[ChangeEvent]) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            for event in events:
                body = json.dumps(asdict(event)).encode()
                stamp = str(int(self.now().timestamp()))
                for sub in list(self.subscriptions):
                    headers = {
                        "Content-Type": "application/json",
                        "X-Syncloom-Signature": sign(sub.secret, body),
                        "X-Syncloom-Timestamp": stamp,
                    }
                    try:
                        await client.post(sub.url, content=body, headers=headers)
                        self.delivered += 1
                    except httpx.HTTPError:
                        # A receiver that is down loses the hint; polling still finds the change.
                        self.failed += 1
