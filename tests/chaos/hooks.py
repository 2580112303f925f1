"""HookRelay: the network between Creatio's webhook and the worker, at its worst.

Creatio's simulator pushes every Account change here; the relay passes each delivery on to
the worker's intake, but (seeded) sends some twice and holds some back until after the next
one, so the intake sees duplicated and out-of-order hints on top of the polls. A delivery
sent on is signed again with a fresh timestamp, as a sender retrying it would, so the intake
takes it as a new delivery rather than a replay. While the worker is down, deliveries fail
and the polls and sweeps must make up for them.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
from collections import Counter
from collections.abc import MutableMapping
from typing import Any

import httpx

Message = MutableMapping[str, Any]


class HookRelay:
    """An ASGI app that forwards deliveries to ``target``, duplicated and reordered."""

    def __init__(
        self, target: str, secret: str, *, seed: int, duplicate: float = 0.3, hold: float = 0.3
    ) -> None:
        self.target = target
        self._secret = secret
        self._rng = random.Random(seed)
        self.duplicate = duplicate
        self.hold = hold
        self.counts: Counter[str] = Counter()
        self._held: list[bytes] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _read_all(receive)
        self.counts["received"] += 1
        with self._lock:
            held, self._held = self._held, []
            if self._rng.random() < self.hold:
                self._held.append(body)
                self.counts["held back"] += 1
                batch = []
            else:
                batch = [body]
            if batch and self._rng.random() < self.duplicate:
                batch.append(body)
                self.counts["duplicated"] += 1
        # Whatever was held goes after the newer delivery: out of order.
        await self._forward([*batch, *held])
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def flush(self) -> None:
        """Send on whatever is still held back."""
        with self._lock:
            held, self._held = self._held, []
        await self._forward(held)

    async def _forward(self, bodies: list[bytes]) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            for body in bodies:
                try:
                    response = await client.post(
                        self.target, content=body, headers=self._sign(body)
                    )
                except httpx.HTTPError:
                    self.counts["worker down"] += 1
                    continue
                self.counts["accepted" if response.status_code == 202 else "refused"] += 1

    def _sign(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(self._secret.encode(), body, hashlib.sha256).hexdigest()
        # A fresh timestamp per send: a retried delivery, not a replay of the first.
        self.counts["sent"] += 1
        stamp = int(time.time()) - self.counts["sent"] % 200
        return {
            "Content-Type": "application/json",
            "X-Syncloom-Signature": f"sha256={digest}",
            "X-Syncloom-Timestamp": str(stamp),
        }


async def _read_all(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
