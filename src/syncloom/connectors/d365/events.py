"""Business events: turn an F&O business-event POST into hints for the engine.

A business event is only a hint that a record may have changed (the record job re-reads
it), so this module says which record, what happened and when, and nothing more. Bodies are
checked against ``X-Syncloom-Signature: sha256=<hex>`` (HMAC-SHA256 of the body under the
endpoint's shared secret) in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from syncloom.connectors.base import RecordKey
from syncloom.connectors.d365.values import parse_instant
from syncloom.errors import ValidationError

SYSTEM = "d365"
# BusinessEventId → (entity, key field of the payload, event type) per record it names.
_HINTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "SalesOrderInvoicedBusinessEvent": (
        ("SalesInvoiceHeadersV2", "InvoiceNumber", "invoiced"),
        ("SalesOrderHeadersV2", "SalesOrderNumber", "invoiced"),
        ("CustomerOpenTransactions", "InvoiceNumber", "invoiced"),
    ),
    "SalesOrderConfirmedBusinessEvent": (("SalesOrderHeadersV2", "SalesOrderNumber", "confirmed"),),
    "CustomerPaymentPostedBusinessEvent": (
        ("CustomerOpenTransactions", "InvoiceNumber", "payment_posted"),
        ("CustomerPaymentJournalHeaders", "JournalBatchNumber", "payment_posted"),
    ),
    "InventoryOnHandChangedBusinessEvent": (
        ("WarehousesOnHandV2", "ItemNumber/InventoryWarehouseId", "on_hand_changed"),
        ("InventoryAvailableToPromise", "ItemNumber/InventoryWarehouseId", "on_hand_changed"),
    ),
    "SyncloomCustomerChangedBusinessEvent": (("CustomersV3", "CustomerAccount", "changed"),),
    "SalesPackingSlipPostedBusinessEvent": (
        ("SalesOrderHeadersV2", "SalesOrderNumber", "shipped"),
    ),
    "SyncloomInvoiceCancelledBusinessEvent": (
        ("CustomerOpenTransactions", "InvoiceNumber", "cancelled"),
    ),
}


@dataclass(frozen=True)
class EventHint:
    """Record ``key`` may have changed: ``event`` happened at ``occurred_at`` (UTC)."""

    key: RecordKey
    event: str
    occurred_at: datetime
    event_id: str
    control_number: int


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (``sha256=<hex>``) is the HMAC-SHA256 of ``body`` under ``secret``."""
    if not signature or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256="))


def _event_time(payload: dict[str, object]) -> datetime:
    iso = payload.get("EventTimeIso8601")
    if isinstance(iso, str) and iso:
        return parse_instant(iso)
    match = re.fullmatch(r"/Date\((-?\d+)\)/", str(payload.get("EventTime", "")))
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    raise ValidationError("business event has no EventTime", system=SYSTEM, field="EventTime")


def parse_business_event(body: bytes) -> list[EventHint]:
    """The record hints of one business-event body (empty for events syncloom ignores).

    Raises:
        ValidationError: when the body is not a business event.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("business event body is not JSON", system=SYSTEM) from None
    if not isinstance(payload, dict) or "BusinessEventId" not in payload:
        raise ValidationError("not a business event (no BusinessEventId)", system=SYSTEM)
    company = str(payload.get("BusinessEventLegalEntity", "")).lower()
    moment = _event_time(payload)
    hints = []
    for entity, fields, event in _HINTS.get(str(payload["BusinessEventId"]), ()):
        parts = [str(payload.get(f) or "") for f in fields.split("/")]
        if not all(parts):
            continue
        ident = "/".join([company, *(p.replace("%", "%25").replace("/", "%2F") for p in parts)])
        hints.append(EventHint(RecordKey(SYSTEM, entity, ident), event, moment,
                               str(payload.get("EventId", "")),
                               int(payload.get("ControlNumber") or 0)))  # fmt: skip
    return hints
