"""Entities: what the connector knows about Creatio objects beyond ``$metadata``.

``$metadata`` gives names and Edm types; it cannot say which ``Edm.DateTimeOffset`` columns
hold a calendar date, which columns the server sets, or which column identifies a lookup
row by text. Those vendor facts live here.
"""

from __future__ import annotations

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00Z"
KEY_FIELD = "Id"
MODIFIED_FIELD = "ModifiedOn"
MODIFIED_BY_FIELD = "ModifiedById"

# Set by the server on every write; never sent.
SERVER_SET = frozenset(
    {"CreatedOn", "CreatedById", "ModifiedOn", "ModifiedById", "ProcessListeners"}
)
# Base-currency amounts are derived by Creatio; the connector never writes them.
DERIVED_PREFIX = "Primary"

# Date-only columns: stored as Edm.DateTimeOffset, compared by calendar date.
DATE_ONLY: dict[str, frozenset[str]] = {
    "Contact": frozenset({"BirthDate"}),
    "Invoice": frozenset({"StartDate", "DueDate"}),
    "Opportunity": frozenset({"CheckDate"}),
    "OrderProduct": frozenset({"DeliveryDate"}),
    "Order": frozenset({"UsrInvoiceDueDate"}),
    "OpportunityProductInterest": frozenset({"UsrDeliveryDate"}),
    "InvoiceProduct": frozenset({"DeliveryDate"}),
}

# Columns required in Creatio's UI that the OData model marks nullable anyway.
REQUIRED: dict[str, frozenset[str]] = {
    "Account": frozenset({"Name"}),
    "Contact": frozenset({"Name"}),
    "Product": frozenset({"Name", "CurrencyId"}),
    "Opportunity": frozenset({"Title", "StageId", "OwnerId"}),
    "Order": frozenset({"Date", "OwnerId", "CurrencyId", "CurrencyRate"}),
    "Invoice": frozenset({"StartDate", "DueDate", "OwnerId", "PaymentStatusId", "CurrencyId"}),
    "Activity": frozenset({"Title", "StartDate", "DueDate", "OwnerId"}),
}

# Which text identifies a row of a lookup table (ISO codes where Creatio keeps them).
LOOKUP_TEXT: dict[str, tuple[str, ...]] = {
    "Currency": ("Code", "Name"),
    "Country": ("Code", "Name"),
    "City": ("Name",),
    "AccountType": ("Name",),
    "OpportunityStage": ("Name",),
    "OrderStatus": ("Name",),
    "InvoicePaymentStatus": ("Name",),
}
