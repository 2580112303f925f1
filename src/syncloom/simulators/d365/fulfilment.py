"""Fulfilment: shipping a sales order and cancelling a posted invoice, as F&O posts them.

Posting a packing slip delivers the order's lines: the order and its lines become
``Delivered``. A posted invoice is never deleted: it is cancelled by a credit note that
settles its open transaction in full, and the open transaction names that credit note.
Each posting raises its business event, as the postings in ``actions`` do.
"""

from __future__ import annotations

from typing import Any

from syncloom.simulators.common.store import SimStore
from syncloom.simulators.d365 import events as ev
from syncloom.simulators.d365.actions import ActionError
from syncloom.simulators.d365.entities import SETS
from syncloom.simulators.d365.rows import Row, format_instant, store_key
from syncloom.simulators.d365.writes import Writer


class Fulfilment:
    """Runs the packing-slip and credit-note postings behind ``/_sim/actions``."""

    def __init__(self, store: SimStore, writer: Writer, events: ev.BusinessEvents) -> None:
        self.store = store
        self.writer = writer
        self.events = events
        self.packing_slips = 0
        self.credit_notes = 0

    def _row(self, set_name: str, body: dict[str, Any], field: str) -> Row:
        company, ident = str(body.get("dataAreaId") or "").lower(), body.get(field)
        if not company or not ident:
            raise ActionError(f"missing dataAreaId or {field}")
        row = self.store.get(
            set_name, store_key(SETS[set_name], {"dataAreaId": company, field: ident})
        )
        if row is None:
            raise ActionError(f"{set_name} {company}/{ident} not found")
        return row

    def ship_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """Post the order's packing slip: the order and its lines are delivered."""
        order = self._row("SalesOrderHeadersV2", body, "SalesOrderNumber")
        if order["SalesOrderStatus"] in {"Invoiced", "Canceled"}:
            raise ActionError(f"sales order is {order['SalesOrderStatus']}, nothing to ship")
        company, number = order["dataAreaId"], order["SalesOrderNumber"]
        for line in self.store.rows("SalesOrderLines"):
            if line["dataAreaId"] == company and line["SalesOrderNumber"] == number:
                line["SalesOrderLineStatus"] = "Delivered"
                self.writer.save(SETS["SalesOrderLines"], line)
        order["SalesOrderStatus"] = "Delivered"
        self.writer.save(SETS["SalesOrderHeadersV2"], order)
        self.packing_slips += 1
        return self.events.raise_event(ev.SHIPPED, company, {
            "SalesOrderNumber": number, "PackingSlipId": f"PS{self.packing_slips:06d}",
            "CustomerAccount": order["OrderingCustomerAccountNumber"],
            "DeliveryDate": format_instant(self.writer.clock.now()),
        })  # fmt: skip

    def cancel_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        """Post a credit note for the whole invoice; it settles the open transaction."""
        tx = self._row("CustomerOpenTransactions", body, "InvoiceNumber")
        if tx.get("CreditNoteNumber"):
            raise ActionError(f"invoice already cancelled by {tx['CreditNoteNumber']}")
        self.credit_notes += 1
        credit_note = f"CN{self.credit_notes:06d}"
        tx.update(CreditNoteNumber=credit_note, SettledAmount=tx["AmountCurrency"],
                  RemainingAmount=0.0, IsSettled="Yes",
                  LastSettlementDate=format_instant(self.writer.clock.now()))  # fmt: skip
        self.writer.save(SETS["CustomerOpenTransactions"], tx)
        return self.events.raise_event(ev.INVOICE_CANCELLED, tx["dataAreaId"], {
            "InvoiceNumber": tx["InvoiceNumber"], "CreditNoteNumber": credit_note,
            "CustomerAccount": tx["CustomerAccount"], "Amount": tx["AmountCurrency"],
        })  # fmt: skip
