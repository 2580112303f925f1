"""Applying AR payments to invoices: lower ``TOTALDUE``, raise ``TOTALPAID``, set ``STATE``."""

from __future__ import annotations

from decimal import Decimal

from syncloom.simulators.intacct.context import Call
from syncloom.simulators.intacct.entities import OBJECTS
from syncloom.simulators.intacct.wire import FunctionFailure, IntacctError


def apply_payment(call: Call, invoice_recordno: str, amount: Decimal) -> None:
    """Apply ``amount`` (transaction currency) to one invoice.

    Raises:
        FunctionFailure: when the invoice does not exist or the amount exceeds what is due.
    """
    invoices = OBJECTS["ARINVOICE"]
    row = call.store.by_recordno(invoices, invoice_recordno)
    if row is None:
        raise FunctionFailure(
            [IntacctError("BL01001973", f"Invalid invoice key {invoice_recordno}.")]
        )
    due = Decimal(row.get("TRX_TOTALDUE") or "0")
    if amount > due:
        raise FunctionFailure(
            [IntacctError("BL01001973", f"Payment amount {amount} exceeds the amount due {due}.")]
        )
    rate = Decimal(row.get("EXCHANGE_RATE") or "1")
    trx_paid = Decimal(row.get("TRX_TOTALPAID") or "0") + amount
    trx_due = due - amount
    values = {
        "TRX_TOTALPAID": str(trx_paid),
        "TRX_TOTALDUE": str(trx_due),
        "TOTALPAID": str((trx_paid * rate).quantize(Decimal("0.01"))),
        "TOTALDUE": str((trx_due * rate).quantize(Decimal("0.01"))),
        "STATE": "Paid" if trx_due == 0 else "Partially Paid",
    }
    if trx_due == 0:
        values["WHENPAID"] = call.store.today()
    changed = call.store.change(invoices, row, values, call.user_recordno)
    call.emit(invoices, changed, "update")
