"""Webhooks: what a Creatio business process with a signal start and "Call web service" does.

Creatio has no outbound webhook API; customers build a process that starts on a record's
insert, update or delete and calls an external URL. The simulator stands in for that process:
tests register a URL and a shared secret under ``/_sim/webhooks``, and every write POSTs
``{"entity", "id", "action", "modifiedOn", "modifiedBy"}`` signed with
``X-Syncloom-Signature: sha256=<hex HMAC-SHA256 of the body>`` and ``X-Syncloom-Timestamp``.
Deliveries run on a background thread, in order, and never block the write.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from syncloom.simulators.common.app import SimClock
from syncloom.simulators.creatio.values import wire_instant


@dataclass(frozen=True)
class Subscription:
    """One registered receiver; ``entities`` empty means every entity."""

    id: str
    url: str
    secret: str
    entities: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "entities": list(self.entities)}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Notifier:
    """Queues change notices and delivers them from one daemon thread."""

    def __init__(self, clock: SimClock, timeout_s: float = 5.0) -> None:
        self.clock = clock
        self.timeout_s = timeout_s
        self.subscriptions: dict[str, Subscription] = {}
        self.counts = {"queued": 0, "delivered": 0, "failed": 0}
        self._queue: queue.Queue[tuple[Subscription, bytes]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def register(self, url: str, secret: str, entities: list[str]) -> Subscription:
        sub = Subscription(str(uuid.uuid4()), url, secret, tuple(entities))
        self.subscriptions[sub.id] = sub
        return sub

    def clear(self) -> None:
        self.subscriptions.clear()

    def emit(self, entity: str, key: str, action: str, row: dict[str, Any]) -> None:
        """Queue a notice of one write for every matching subscription."""
        if not self.subscriptions:
            return
        notice = {
            "entity": entity,
            "id": key,
            "action": action,
            "modifiedOn": wire_instant(str(row.get("ModifiedOn", ""))),
            "modifiedBy": row.get("ModifiedById"),
        }
        body = json.dumps(notice, separators=(",", ":")).encode()
        for sub in list(self.subscriptions.values()):
            if not sub.entities or entity in sub.entities:
                self.counts["queued"] += 1
                self._queue.put((sub, body))
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                sub, body = self._queue.get()
                self._deliver(client, sub, body)

    def _deliver(self, client: httpx.Client, sub: Subscription, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Syncloom-Signature": sign(sub.secret, body),
            "X-Syncloom-Timestamp": str(int(self.clock.now().timestamp())),
        }
        try:
            response = client.post(sub.url, content=body, headers=headers)
        except httpx.HTTPError:
            self.counts["failed"] += 1
            return
        key = "delivered" if response.is_success else "failed"
        self.counts[key] += 1
