"""Webhooks: what a Creatio business process with a signal start and "Call web service" does.

Creatio has no outbound webhook API; customers build a process that starts on a record's
insert, update or delete and calls an external URL. The simulator stands in for that process:
tests register a URL and a shared secret under ``/_sim/webhooks``, and every write POSTs
``{"entity", "id", "action", "modifiedOn", "modifiedBy"}`` signed with
``X-Syncloom-Signature: sha256=<hex HMAC-SHA256 of the body>`` and ``X-Syncloom-Timestamp``.
Deliveries run on background threads and never block the write. Each write starts its own
process instance in Creatio, so notices of different records travel side by side; the
simulator keeps the notices of one record in order (a few delivery threads, a record always
on the same one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
import zlib
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


def lane_of(entity: str, key: str, lanes: int) -> int:
    """The sender thread that carries every notice of one record."""
    return zlib.crc32(f"{entity}/{key}".encode()) % lanes


SENDERS = 8


class Notifier:
    """Queues change notices and delivers them from a few daemon threads.

    Why several? One thread sent one notice at a time, so the receiver's answer time capped
    the rate of every write in the system (20 edits a second plus their echoes needed an
    answer within 25 ms). A record's notices always go to the same thread, in order.
    """

    def __init__(self, clock: SimClock, timeout_s: float = 5.0, senders: int = SENDERS) -> None:
        self.clock = clock
        self.timeout_s = timeout_s
        self.subscriptions: dict[str, Subscription] = {}
        self.counts = {"queued": 0, "delivered": 0, "failed": 0}
        self._queues: list[queue.Queue[tuple[Subscription, bytes]]] = [
            queue.Queue() for _ in range(max(1, senders))
        ]
        self._threads: list[threading.Thread | None] = [None] * len(self._queues)
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
        lane = lane_of(entity, key, len(self._queues))
        for sub in list(self.subscriptions.values()):
            if not sub.entities or entity in sub.entities:
                with self._lock:
                    self.counts["queued"] += 1
                self._queues[lane].put((sub, body))
        self._ensure_thread(lane)

    def _ensure_thread(self, lane: int) -> None:
        with self._lock:
            thread = self._threads[lane]
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._run, args=(lane,), daemon=True)
                self._threads[lane] = thread
                thread.start()

    def _run(self, lane: int) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                sub, body = self._queues[lane].get()
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
            with self._lock:
                self.counts["failed"] += 1
            return
        key = "delivered" if response.is_success else "failed"
        with self._lock:
            self.counts[key] += 1
