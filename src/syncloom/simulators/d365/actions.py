"""Actions: ERP-side processes tests and the demo trigger through ``/_sim/actions/...``.

Confirming a sales order, posting its invoice, posting a customer payment and changing
on-hand stock are not OData CRUD in F&O (they run in the client or in batch jobs). Each
changes the rows a real posting changes and raises the matching business event.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from syncloom.simulators.common.store import SimStore
from syncloom.simulators.d365 import events as ev
from syncloom.simulators.d365.entities import SETS
from syncloom.simulators.d365.rows import Row, blank, format_instant, store_key
from syncloom.simulators.d365.writes import Writer


class ActionError(ValueError):
    """The action cannot run on these rows (404/400 to the caller)."""


class Actions:
    """Runs the admin-triggered ERP processes."""

    def __init__(self, store: SimStore, writer: Writer, events: ev.BusinessEvents) -> None:
        self.store = store
        self.writer = writer
        self.events = events
        self.invoices = 0
        self.journals = 0

    def _row(self, set_name: str, **key: Any) -> Row:
        entity = SETS[set_name]
        if "dataAreaId" in key:
            key["dataAreaId"] = str(key["dataAreaId"]).lower()
        missing = [k for k in entity.keys if k not in key]
        if missing:
            raise ActionError(f"missing {', '.join(missing)}")
        row = self.store.get(set_name, store_key(entity, key))
        if row is None:
            raise ActionError(f"{set_name} {key} not found")
        return row

    def confirm_order(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._row("SalesOrderHeadersV2", dataAreaId=body.get("dataAreaId"),
                          SalesOrderNumber=body.get("SalesOrderNumber"))  # fmt: skip
        order["SalesOrderProcessingStatus"] = "Confirmed"
        order["ConfirmedShippingDate"] = format_instant(self.writer.clock.now())
        self.writer.save(SETS["SalesOrderHeadersV2"], order)
        return self.events.raise_event(ev.CONFIRMED, order["dataAreaId"], {
            "SalesOrderNumber": order["SalesOrderNumber"],
            "CustomerAccount": order["OrderingCustomerAccountNumber"],
        })  # fmt: skip

    def post_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._row("SalesOrderHeadersV2", dataAreaId=body.get("dataAreaId"),
                          SalesOrderNumber=body.get("SalesOrderNumber"))  # fmt: skip
        company, number = order["dataAreaId"], order["SalesOrderNumber"]
        lines = [r for r in self.store.rows("SalesOrderLines")
                 if r["dataAreaId"] == company and r["SalesOrderNumber"] == number]  # fmt: skip
        amount = sum((Decimal(str(r["LineAmount"])) for r in lines), Decimal(0))
        amount = amount or Decimal(str(order["OrderTotalAmount"]))
        self.invoices += 1
        invoice_number = str(body.get("InvoiceNumber") or f"INV{self.invoices:06d}")
        moment = self.writer.clock.now()
        now = format_instant(moment)
        customer = order["InvoiceCustomerAccountNumber"] or order["OrderingCustomerAccountNumber"]
        terms = order["PaymentTermsName"] or self._customer_terms(company, customer)
        due = format_instant(moment + timedelta(days=self._term_days(company, terms)))
        invoice = blank(SETS["SalesInvoiceHeadersV2"])
        invoice.update(dataAreaId=company, InvoiceNumber=invoice_number, InvoiceDate=now,
                       SalesOrderNumber=number, InvoiceCustomerAccountNumber=customer,
                       CurrencyCode=order["CurrencyCode"], TotalInvoiceAmount=float(amount),
                       PaymentTermsName=terms,
                       CustomersOrderReference=order["CustomersOrderReference"],
                       LedgerVoucher=f"ARI{self.invoices:06d}")  # fmt: skip
        self.writer.save(SETS["SalesInvoiceHeadersV2"], invoice)
        open_tx = blank(SETS["CustomerOpenTransactions"])
        open_tx.update(dataAreaId=company, InvoiceNumber=invoice_number, CustomerAccount=customer,
                       Voucher=invoice["LedgerVoucher"], TransactionDate=now, DueDate=due,
                       SalesOrderNumber=number,
                       AmountCurrency=float(amount), RemainingAmount=float(amount),
                       CurrencyCode=order["CurrencyCode"], IsSettled="No")  # fmt: skip
        self.writer.save(SETS["CustomerOpenTransactions"], open_tx)
        order["SalesOrderStatus"] = "Invoiced"
        order["OrderTotalAmount"] = float(amount)
        self.writer.save(SETS["SalesOrderHeadersV2"], order)
        return self.events.raise_event(ev.INVOICED, company, {
            "InvoiceNumber": invoice_number, "SalesOrderNumber": number,
            "InvoiceAmount": float(amount), "CustomerAccount": customer,
            "CurrencyCode": order["CurrencyCode"], "InvoiceDate": now,
        })  # fmt: skip

    def _customer_terms(self, company: str, customer: str) -> str:
        row = self.store.get("CustomersV3", store_key(SETS["CustomersV3"],
                             {"dataAreaId": company, "CustomerAccount": customer}))  # fmt: skip
        return str(row["PaymentTerms"]) if row else ""

    def _term_days(self, company: str, terms: str) -> int:
        """The due date's distance from the invoice date: the terms' days (none: due now)."""
        key = store_key(SETS["PaymentTerms"], {"dataAreaId": company, "Name": terms})
        row = self.store.get("PaymentTerms", key) if terms else None
        return int(row["NumberOfDays"]) if row else 0

    def post_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        tx = self._row("CustomerOpenTransactions", dataAreaId=body.get("dataAreaId"),
                       InvoiceNumber=body.get("InvoiceNumber"))  # fmt: skip
        remaining = Decimal(str(tx["RemainingAmount"]))
        try:
            amount = Decimal(str(body.get("Amount", remaining)))
        except ArithmeticError:
            raise ActionError("Amount must be a number") from None
        now = format_instant(self.writer.clock.now())
        tx["SettledAmount"] = float(Decimal(str(tx["SettledAmount"])) + amount)
        tx["RemainingAmount"] = float(max(remaining - amount, Decimal(0)))
        tx["IsSettled"] = "Yes" if remaining - amount <= 0 else "No"
        tx["LastSettlementDate"] = now
        self.writer.save(SETS["CustomerOpenTransactions"], tx)
        journal = self._journal(tx, amount, now)
        return self.events.raise_event(ev.PAYMENT_POSTED, tx["dataAreaId"], {
            "JournalBatchNumber": journal, "CustomerAccount": tx["CustomerAccount"],
            "InvoiceNumber": tx["InvoiceNumber"], "PaymentAmount": float(amount),
            "CurrencyCode": tx["CurrencyCode"], "IsSettled": tx["IsSettled"],
        })  # fmt: skip

    def _journal(self, tx: Row, amount: Decimal, now: str) -> str:
        self.journals += 1
        number = f"PJ{self.journals:06d}"
        header = blank(SETS["CustomerPaymentJournalHeaders"])
        header.update(dataAreaId=tx["dataAreaId"], JournalBatchNumber=number,
                      JournalName="CustPay", Description="Customer payment",
                      IsPosted="Yes")  # fmt: skip
        self.writer.save(SETS["CustomerPaymentJournalHeaders"], header)
        line = blank(SETS["CustomerPaymentJournalLines"])
        line.update(dataAreaId=tx["dataAreaId"], JournalBatchNumber=number, LineNumber=1,
                    AccountType="Cust", AccountDisplayValue=tx["CustomerAccount"],
                    Company=tx["dataAreaId"], CreditAmount=float(amount),
                    CurrencyCode=tx["CurrencyCode"], TransactionDate=now,
                    MarkedInvoice=tx["InvoiceNumber"])  # fmt: skip
        self.writer.save(SETS["CustomerPaymentJournalLines"], line)
        return number

    def change_on_hand(self, body: dict[str, Any]) -> dict[str, Any]:
        key = {k: body.get(k) for k in ("dataAreaId", "ItemNumber", "InventoryWarehouseId")}
        stock = self._row("WarehousesOnHandV2", **key)
        try:
            if "OnHandQuantity" in body:
                quantity = Decimal(str(body["OnHandQuantity"]))
            else:
                quantity = Decimal(str(stock["OnHandQuantity"])) + Decimal(
                    str(body.get("Delta", 0))
                )
        except ArithmeticError:
            raise ActionError("OnHandQuantity and Delta must be numbers") from None
        reserved = Decimal(str(stock["ReservedOnHandQuantity"]))
        stock.update(OnHandQuantity=float(quantity),
                     AvailableOnHandQuantity=float(quantity - reserved),
                     TotalAvailableQuantity=float(quantity - reserved))  # fmt: skip
        self.writer.save(SETS["WarehousesOnHandV2"], stock)
        atp = self._row("InventoryAvailableToPromise", **key)
        atp["AvailableToPromiseQuantity"] = float(quantity - reserved)
        self.writer.save(SETS["InventoryAvailableToPromise"], atp)
        return self.events.raise_event(ev.ON_HAND_CHANGED, stock["dataAreaId"], {
            "ItemNumber": stock["ItemNumber"],
            "InventoryWarehouseId": stock["InventoryWarehouseId"],
            "InventorySiteId": stock["InventorySiteId"], "OnHandQuantity": float(quantity),
            "AvailableOnHandQuantity": float(quantity - reserved),
        })  # fmt: skip
