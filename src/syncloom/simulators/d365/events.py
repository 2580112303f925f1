"""Business events: F&O's push notifications, delivered to a registered HTTPS/HTTP endpoint.

The payload has F&O's common fields (``BusinessEventId``, ``BusinessEventLegalEntity``,
``ControlNumber`` increasing but gapped, ``EventId``, both ``EventTime`` forms...) followed
by the event's own fields. Each POST is signed: ``X-Syncloom-Signature: sha256=<hex>`` is the
HMAC-SHA256 of the body under the endpoint's shared secret, next to ``X-Syncloom-Timestamp``.
Delivery is asynchronous, with 3 retries 1 s apart as F&O does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from syncloom.simulators.common.app import SimClock

INVOICED = "SalesOrderInvoicedBusinessEvent"
CONFIRMED = "SalesOrderConfirmedBusinessEvent"
PAYMENT_POSTED = "CustomerPaymentPostedBusinessEvent"
ON_HAND_CHANGED = "InventoryOnHandChangedBusinessEvent"
CUSTOMER_CHANGED = "SyncloomCustomerChangedBusinessEvent"  # custom, from an extension
SHIPPED = "SalesPackingSlipPostedBusinessEvent"
INVOICE_CANCELLED = "SyncloomInvoiceCancelledBusinessEvent"  # custom: a credit note cancelled it


@dataclass(frozen=True)
class Endpoint:
    """A registered receiver."""

    url: str
    secret: str
    verify: str | bool = True
    events: tuple[str, ...] = ()  # empty: every event

    def wants(self, event_id: str) -> bool:
        return not self.events or event_id in self.events


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def _iso7(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


class BusinessEvents:
    """Builds, holds (inside changesets) and delivers business events."""

    def __init__(
        self, clock: SimClock, seed: int, retries: int = 3, retry_delay_s: float = 1.0
    ) -> None:
        self.clock = clock
        self.endpoints: list[Endpoint] = []
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.delivered: list[dict[str, Any]] = []
        self.failed = 0
        self._rng = random.Random(seed)
        self._control = 5637611000
        self._held: list[dict[str, Any]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def reset(self) -> None:
        self.endpoints.clear()
        self.delivered.clear()
        self.failed = 0
        self._held = None

    def hold(self, commit: bool | None) -> None:
        """Start holding events (``None``), then send (``True``) or drop (``False``) them."""
        if commit is None:
            self._held = []
            return
        held, self._held = self._held or [], None
        if commit:
            for payload in held:
                self._send(payload)

    def raise_event(self, event_id: str, company: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Build one event and send it (or hold it until its changeset commits)."""
        now = self.clock.now()
        self._control += self._rng.randint(1, 9)
        payload = {
            "BusinessEventId": event_id,
            "BusinessEventLegalEntity": company.upper(),
            "ContextRecordSubject": "",
            "ControlNumber": self._control,
            "EventId": str(uuid.uuid4()).upper(),
            "EventTime": _ms_date(now),
            "EventTimeIso8601": _iso7(now),
            "InitiatingUserAADObjectId": "{" + str(uuid.uuid4()).upper() + "}",
            "MajorVersion": 0,
            "MinorVersion": 0,
            "ParentContextRecordSubjects": [],
            **fields,
        }
        if self._held is not None:
            self._held.append(payload)
        else:
            self._send(payload)
        return payload

    def _send(self, payload: dict[str, Any]) -> None:
        targets = [e for e in self.endpoints if e.wants(payload["BusinessEventId"])]
        if not targets:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no server loop (direct unit use): nothing to deliver with
        for endpoint in targets:
            task = loop.create_task(self._deliver(endpoint, payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, endpoint: Endpoint, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Syncloom-Signature": sign(endpoint.secret, body),
            "X-Syncloom-Timestamp": str(int(self.clock.now().timestamp())),
        }
        async with httpx.AsyncClient(verify=endpoint.verify, timeout=10) as client:
            for attempt in range(self.retries + 1):
                try:
                    response = await client.post(endpoint.url, content=body, headers=headers)
                    if response.status_code < 300:
                        self.delivered.append(payload)
                        return
                except httpx.HTTPError:
                    pass
                if attempt < self.retries:
                    await asyncio.sleep(self.retry_delay_s)
        self.failed += 1
