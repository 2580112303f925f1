"""Pricing: the line amount F&O computes for a sales line created without one.

A client may send a quotation or order line with quantity, unit price and discount percentage
only; F&O then prices the line itself: quantity × price, less the line discount percentage,
in the currency's two decimals.
"""

from __future__ import annotations

from decimal import Decimal

from syncloom.simulators.d365.entities import EntitySet
from syncloom.simulators.d365.rows import Row

QUANTITY = {
    "SalesQuotationLines": "RequestedSalesQuantity",
    "SalesOrderLines": "OrderedSalesQuantity",
}
CENT = Decimal("0.01")


def price_line(entity: EntitySet, row: Row) -> None:
    """Fill ``LineAmount`` of a new sales line the client left without one."""
    quantity_field = QUANTITY.get(entity.name)
    if quantity_field is None or row.get("LineAmount") not in (0, None, ""):
        return
    quantity = Decimal(str(row.get(quantity_field) or 0))
    price = Decimal(str(row.get("SalesPrice") or 0))
    percent = Decimal(str(row.get("LineDiscountPercentage") or 0))
    gross = quantity * price
    row["LineAmount"] = float((gross - gross * percent / 100).quantize(CENT))
