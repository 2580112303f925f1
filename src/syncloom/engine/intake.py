"""Intake: store a pushed change hint and enqueue its record jobs, in one transaction.

A webhook or business event is only a hint that records may have changed (DESIGN §1.1), so
the intake does three things and nothing more: it checks that the delivery is authentic and
fresh (:class:`~syncloom.engine.signatures.SignatureVerifier`), asks the Connection's
:class:`~syncloom.connectors.base.WebhookReceiver` which records it names, and then, in one
``runtime.transaction()``, stores an ``intake_events`` row per hint and enqueues the record job
of every flow that reads that record. A delivery is refused with nothing stored when it is too
big (413), unauthenticated (401), badly stamped or malformed (400), stale (408) or a replay of
one already stored (409: the ``UNIQUE(connection_id, digest)`` constraint says so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Hint, RecordKey, WebhookReceiver
from syncloom.engine import jobs
from syncloom.engine.clock import Clock
from syncloom.engine.flows import FlowDirection
from syncloom.engine.installation import Installation
from syncloom.engine.poller import Tx
from syncloom.engine.signatures import SignatureVerifier, WebhookRejected
from syncloom.errors import ConfigError, ValidationError
from syncloom.log import get_logger
from syncloom.store.models import Connection, IntakeEvent, IntakeStatus, Tenant

__all__ = [
    "MAX_BODY_BYTES",
    "Intake",
    "IntakeResult",
    "WebhookEndpoint",
    "WebhookRejected",
    "flows_reading",
]

MAX_BODY_BYTES = 1_000_000
_log = get_logger(__name__)


@dataclass(frozen=True)
class WebhookEndpoint:
    """How one Connection's pushes are read and checked.

    Attributes:
        receiver: turns a delivery's body into hints.
        secret: the shared secret of the Connection's webhook (never logged).
        window_s: how far a delivery's timestamp may lie from now.
    """

    receiver: WebhookReceiver
    secret: str = field(repr=False)
    window_s: float = 300.0


@dataclass(frozen=True)
class IntakeResult:
    """What the intake did with one accepted delivery.

    Attributes:
        accepted: the delivery was stored (refusals raise instead).
        hints: the records it named, in body order.
        enqueued: the workflow ids of the record jobs it enqueued (or joined).
    """

    accepted: bool
    hints: tuple[Hint, ...]
    enqueued: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The 202 answer's body: counts only, the sender needs nothing more."""
        return {"accepted": self.accepted, "hints": len(self.hints), "enqueued": len(self.enqueued)}


@dataclass(frozen=True)
class _Delivery:
    """An authenticated, parsed delivery on its way into the store."""

    tenant_id: int
    connection_id: int
    body: str
    digest: str
    hints: tuple[Hint, ...]
    inst: Installation | None
    flows: tuple[tuple[str, ...], ...]  # per hint: the flows of ``inst`` that read its record


class Intake:
    """Store-and-enqueue of every pushed change hint (the transactional outbox).

    Example::

        intake = Intake(transaction=runtime.transaction, sessions=sessions, clock=SystemClock(),
                        endpoints={crm_id: WebhookEndpoint(AcmeWebhookReceiver(), secret)})
        result = intake.accept(tenant_id, "crm", headers, body)
    """

    def __init__(
        self,
        *,
        transaction: Callable[[], AbstractContextManager[Tx]],
        sessions: sessionmaker[Session],
        endpoints: Mapping[int, WebhookEndpoint],
        clock: Clock,
        installation: Callable[[int], Installation] = jobs.installation,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """Wire the intake.

        Args:
            transaction: opens a transaction that can enqueue (``Runtime.transaction``).
            sessions: sessions on syncloom's tables, to find tenants and Connections.
            endpoints: the webhook endpoint of each Connection id that accepts pushes.
            clock: where "now" comes from, for the replay window.
            installation: the live installation of a tenant (raises ConfigError if none).
            max_body_bytes: larger deliveries are refused with 413.
        """
        self._transaction = transaction
        self._sessions = sessions
        self._endpoints = dict(endpoints)
        self._clock = clock
        self._installation = installation
        self.max_body_bytes = max_body_bytes

    def tenant_id(self, ref: str) -> int:
        """The id of the active tenant named by slug or by id.

        Raises:
            WebhookRejected: 404 when no active tenant has that slug or id.
        """
        query = sa.select(Tenant.id).where(Tenant.is_active.is_(True))
        with self._sessions() as session:
            found = session.scalar(query.where(Tenant.slug == ref))
            if found is None and ref.isdigit():
                found = session.scalar(query.where(Tenant.id == int(ref)))
        if found is None:
            raise WebhookRejected(404, "no such tenant")
        return found

    def accept(
        self, tenant_id: int, connection_name: str, headers: Mapping[str, str], body: bytes
    ) -> IntakeResult:
        """Verify, store and enqueue one delivery.

        Args:
            tenant_id: the tenant the delivery is addressed to.
            connection_name: the Connection (by name) that pushed it.
            headers: the request headers (any case).
            body: the raw request body.

        Returns:
            What was stored and enqueued.

        Raises:
            WebhookRejected: 413, 404, 401, 400, 408 or 409, with nothing stored.
        """
        if len(body) > self.max_body_bytes:
            raise WebhookRejected(413, f"body larger than {self.max_body_bytes} bytes")
        connection_id = self._connection_id(tenant_id, connection_name)
        endpoint = self._endpoints.get(connection_id)
        if endpoint is None:
            raise WebhookRejected(404, "webhooks are not enabled for this connection")
        lowered = {name.lower(): value for name, value in headers.items()}
        verifier = SignatureVerifier(endpoint.secret, endpoint.window_s)
        # Verify before parsing: an unauthenticated body is never read.
        digest = verifier.verify(lowered, body, self._clock.now_utc())
        hints = tuple(_parse(endpoint.receiver, body, lowered))
        inst, flows = self._flows(tenant_id, connection_name, hints)
        text = body.decode("utf-8", errors="replace")
        delivery = _Delivery(tenant_id, connection_id, text, digest, hints, inst, flows)
        enqueued = self._store(delivery)
        _log.info(
            "webhook accepted",
            tenant_id=tenant_id,
            connection=connection_name,
            hints=len(hints),
            enqueued=len(enqueued),
        )
        return IntakeResult(True, hints, enqueued)

    def _connection_id(self, tenant_id: int, name: str) -> int:
        query = Connection.scoped(tenant_id).where(Connection.name == name)
        with self._sessions() as session:
            row = session.scalar(query.with_only_columns(Connection.id))
        if row is None:
            raise WebhookRejected(404, "no such connection")
        return int(row)

    def _flows(
        self, tenant_id: int, connection: str, hints: Sequence[Hint]
    ) -> tuple[Installation | None, tuple[tuple[str, ...], ...]]:
        try:
            inst = self._installation(tenant_id)
        except ConfigError:
            # No live flows: the hints are still stored (and acknowledged); a poll catches up.
            return None, tuple(() for _ in hints)
        return inst, tuple(flows_reading(inst, connection, hint.key) for hint in hints)

    def _store(self, delivery: _Delivery) -> tuple[str, ...]:
        now = self._clock.now_utc()
        rows = _rows(delivery, now)
        enqueued: tuple[str, ...] = ()
        with self._transaction() as tx:
            try:
                tx.connection.execute(sa.insert(IntakeEvent), rows)
            except IntegrityError:
                raise WebhookRejected(409, "delivery already received (replay)") from None
            if delivery.inst is not None:
                enqueued = _enqueue(tx, delivery.inst, delivery)
        return enqueued


def _enqueue(tx: Tx, inst: Installation, delivery: _Delivery) -> tuple[str, ...]:
    """Enqueue (or join, for a version already enqueued) the job of every flow per hint."""
    return tuple(
        jobs.enqueue_record(tx, inst, flow, hint.key, hint.version)
        for hint, flows in zip(delivery.hints, delivery.flows, strict=True)
        for flow in flows
    )


def flows_reading(inst: Installation, connection: str, key: RecordKey) -> tuple[str, ...]:
    """The flows of ``inst`` that read ``key`` when it changes in Connection ``connection``.

    A flow reads its source side, and its target side too when it syncs both ways; a hint
    on the target of a one-way flow is no reason to run it (its poller would not either).
    """
    names = []
    for name, unit in inst.flows.items():
        sides = [unit.job.source]
        if unit.flow.direction is FlowDirection.BOTH:
            sides.append(unit.job.target)
            sides += [routed.target for routed in unit.job.routes.values()]
        if any(side.connection == connection and side.owns(key) for side in sides):
            names.append(name)
    return tuple(names)


def _parse(receiver: WebhookReceiver, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
    try:
        return receiver.parse_hints(body, headers)
    except ValidationError as exc:
        raise WebhookRejected(400, str(exc)) from None


def _rows(delivery: _Delivery, now: datetime) -> list[dict[str, Any]]:
    """One row per hint (one without a key when there are none), sharing the delivery.

    The first row carries the delivery's digest and body; the others carry digests derived
    from it, so replaying the delivery trips the unique constraint on its first row.
    """
    hints: Sequence[Hint | None] = delivery.hints or (None,)
    flows: Sequence[tuple[str, ...]] = delivery.flows or ((),)
    rows = []
    for index, (hint, reads) in enumerate(zip(hints, flows, strict=True)):
        status = IntakeStatus.ENQUEUED if reads else IntakeStatus.DONE
        rows.append(
            {
                "tenant_id": delivery.tenant_id,
                "connection_id": delivery.connection_id,
                "created_at": now,
                "received_at": now,
                "body": delivery.body if index == 0 else "",
                "digest": _row_digest(delivery.digest, index),
                "record_key": str(hint.key) if hint else None,
                "status": status,
                "processed_at": None if reads else now,
            }
        )
    return rows


def _row_digest(digest: str, index: int) -> str:
    if index == 0:
        return digest
    return hashlib.sha256(f"{digest}:{index}".encode()).hexdigest()
