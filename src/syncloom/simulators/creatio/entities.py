"""Entity schemas: the Creatio objects the simulator serves, in Creatio's own column names.

Every object carries the base columns (``Id``, ``CreatedOn``, ``CreatedById``, ``ModifiedOn``,
``ModifiedById``, ``ProcessListeners``). A lookup column ``Xxx`` is stored as ``XxxId`` and is
exposed twice, as the scalar ``XxxId`` and as the navigation property ``Xxx``. Custom columns
carry the ``Usr`` prefix, as columns added in a customer's package do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACE = "Terrasoft.Configuration.OData"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

EDM_TYPES = {
    "guid": "Edm.Guid",
    "string": "Edm.String",
    "int": "Edm.Int32",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.DateTimeOffset",
    "decimal": "Edm.Decimal",
    "lookup": "Edm.Guid",
    "stream": "Edm.Stream",
}


@dataclass(frozen=True)
class Column:
    """One column: ``kind`` is guid, string, int, bool, datetime, date, decimal, lookup, stream."""

    name: str
    kind: str = "string"
    ref: str | None = None
    required: bool = False
    scale: int = 2
    max_length: int | None = None  # text columns of a fixed size (Creatio's ShortText: 50)

    @property
    def storage(self) -> str:
        """The stored (and scalar OData) name: ``XxxId`` for a lookup ``Xxx``."""
        return f"{self.name}Id" if self.kind == "lookup" else self.name

    @property
    def edm(self) -> str:
        return EDM_TYPES[self.kind]


@dataclass(frozen=True)
class Entity:
    """One object schema: its columns by stored name and its navigation properties."""

    name: str
    columns: tuple[Column, ...]
    by_storage: dict[str, Column] = field(init=False, repr=False, compare=False)
    navigations: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_storage", {c.storage: c for c in self.columns})
        object.__setattr__(
            self, "navigations", {c.name: c for c in self.columns if c.kind == "lookup"}
        )

    @property
    def type_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"


def S(name: str, *, required: bool = False, max_length: int | None = None) -> Column:
    return Column(name, "string", required=required, max_length=max_length)


def L(name: str, ref: str, *, required: bool = False) -> Column:
    return Column(name, "lookup", ref=ref, required=required)


def K(name: str, kind: str, *, required: bool = False, scale: int = 2) -> Column:
    return Column(name, kind, required=required, scale=scale)


BASE = (
    Column("Id", "guid"),
    K("CreatedOn", "datetime"),
    L("CreatedBy", "Contact"),
    K("ModifiedOn", "datetime"),
    L("ModifiedBy", "Contact"),
    K("ProcessListeners", "int"),
)
LOOKUP_BASE = (S("Name", required=True), S("Description"))
# Custom lookups that mirror ERP dimensions (a customer's package adds them): the ERP code,
# and whether the value may still be chosen.
ERP_LOOKUP = (*LOOKUP_BASE, S("Code"), K("UsrActive", "bool"))
DIMENSION_LOOKUPS = (
    "UsrIntacctProject",
    "UsrIntacctDepartment",
    "UsrIntacctLocation",
    "UsrIntacctTeam",  # a user-defined dimension of the ERP
)
_DIMENSIONS = tuple(L(name, name) for name in DIMENSION_LOOKUPS)


def _entity(name: str, *columns: Column) -> Entity:
    return Entity(name, (*BASE, *columns))


_ADDRESS = (S("Address"), S("Zip"), L("City", "City"), L("Country", "Country"))
_LINE = (
    L("Product", "Product"),
    S("Name"),
    K("Quantity", "decimal", scale=3),
    K("Price", "decimal"),
    K("Amount", "decimal"),
    K("DiscountPercent", "decimal"),
    K("DiscountAmount", "decimal"),
    K("TaxAmount", "decimal"),
    K("TotalAmount", "decimal"),
    L("Currency", "Currency"),
    K("CurrencyRate", "decimal", scale=8),
    K("DeliveryDate", "date"),
    S("Notes"),
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity(
            "Currency",
            *LOOKUP_BASE,
            S("Code", required=True),
            S("Symbol", required=True),
            S("ShortName"),
            K("Division", "int"),
            K("Rate", "decimal", scale=8),
        ),
        _entity("Country", *LOOKUP_BASE, S("Code"), S("BillingInfo")),
        _entity("City", *LOOKUP_BASE, L("Country", "Country")),
        _entity("AccountType", *LOOKUP_BASE),
        _entity("OrderStatus", *LOOKUP_BASE, K("Position", "int"), K("FinalStatus", "bool")),
        _entity("InvoicePaymentStatus", *LOOKUP_BASE),
        # A customer's package: business units owning accounts, delivery options on orders.
        _entity("UsrBusinessUnit", *LOOKUP_BASE, S("UsrCode")),
        _entity("UsrDeliveryOption", *LOOKUP_BASE),
        _entity("FileType", *LOOKUP_BASE),
        *(_entity(name, *ERP_LOOKUP) for name in DIMENSION_LOOKUPS),
        _entity(
            "AccountFile",
            S("Name", required=True),
            L("Account", "Account", required=True),
            L("Type", "FileType"),
            K("Size", "int"),
            K("TotalSize", "int"),
            K("Data", "stream"),
            S("Notes"),
        ),
        _entity(
            "OpportunityStage",
            *LOOKUP_BASE,
            K("Number", "int"),
            K("End", "bool"),
            K("Successful", "bool"),
            K("MaxProbability", "int"),
            K("ShowInFunnel", "bool"),
        ),
        _entity(
            "Account",
            S("Name", required=True),
            S("Code"),
            S("AlternativeName"),
            L("Type", "AccountType"),
            L("Owner", "Contact"),
            L("PrimaryContact", "Contact"),
            L("Parent", "Account"),
            S("Phone"),
            S("AdditionalPhone"),
            S("Fax"),
            S("Web"),
            *_ADDRESS,
            S("Notes"),
            K("Logo", "stream"),
            K("Completeness", "int"),
            S("UsrErpCustomerId"),
            S("UsrLegalEntity"),
            S("UsrTaxRegistrationNumber"),
            S("UsrEmail"),
            S("UsrPaymentTerms"),
            S("UsrSalesTaxGroup"),
            S("UsrCustomerGroup"),
            L("UsrCurrency", "Currency"),
            K("UsrCreditLimit", "decimal"),
            L("UsrBusinessUnit", "UsrBusinessUnit"),
            K("UsrOpenBalance", "decimal"),
            K("UsrOverdueBalance", "decimal"),
            K("UsrOverdue", "bool"),
            S("UsrCustomerTier", max_length=20),
            S("UsrTerritory"),
            K("UsrOnHold", "bool"),
            K("UsrInactive", "bool"),
        ),
        _entity(
            "Contact",
            S("Name", required=True),
            S("Surname"),
            S("GivenName"),
            S("MiddleName"),
            S("Dear"),
            S("JobTitle"),
            L("Account", "Account"),
            L("Owner", "Contact"),
            K("BirthDate", "date"),
            S("Email"),
            S("Phone"),
            S("MobilePhone"),
            S("HomePhone"),
            S("Skype"),
            *_ADDRESS,
            K("DoNotUseEmail", "bool"),
            K("DoNotUseCall", "bool"),
            K("Confirmed", "bool"),
            S("Notes"),
            K("ContactPhoto", "stream"),
            S("UsrErpContactId"),
        ),
        _entity(
            "Product",
            S("Name", required=True),
            S("Code"),
            L("Currency", "Currency", required=True),
            K("Price", "decimal"),
            K("Active", "bool"),
            K("IsArchive", "bool"),
            L("Owner", "Contact"),
            S("URL"),
            S("Description"),
            S("Notes"),
            S("UsrUnit"),
            S("UsrErpItemId"),
            K("UsrAvailableQty", "decimal", scale=3),
            K("UsrAvailabilityUpdatedOn", "datetime"),
            S("UsrTaxGroup"),
            K("UsrAvailableToPromiseQty", "decimal", scale=3),
        ),
        _entity(
            "Opportunity",
            S("Title", required=True),
            L("Stage", "OpportunityStage", required=True),
            L("Owner", "Contact", required=True),
            L("Account", "Account"),
            L("Contact", "Contact"),
            K("DueDate", "datetime"),
            K("CheckDate", "date"),
            K("Amount", "decimal"),
            K("Budget", "decimal"),
            K("Probability", "int"),
            K("IsPrimary", "bool"),
            S("Description"),
            S("Notes"),
            L("UsrCurrency", "Currency"),
            S("UsrErpQuotationId"),
            *_DIMENSIONS,
        ),
        _entity(
            "OpportunityProductInterest",
            L("Opportunity", "Opportunity", required=True),
            L("Product", "Product", required=True),
            K("Quantity", "decimal", scale=3),
            K("Price", "decimal"),
            K("Amount", "decimal"),
            S("Comment"),
            K("UsrDiscountPercent", "decimal"),
            K("UsrDeliveryDate", "date"),
        ),
        _entity(
            "Order",
            S("Number"),
            K("Date", "datetime", required=True),
            L("Owner", "Contact", required=True),
            L("Account", "Account"),
            L("Contact", "Contact"),
            L("Opportunity", "Opportunity"),
            L("Status", "OrderStatus"),
            L("Currency", "Currency", required=True),
            K("CurrencyRate", "decimal", required=True, scale=8),
            K("Amount", "decimal"),
            K("PaymentAmount", "decimal"),
            K("PrimaryAmount", "decimal"),
            K("DueDate", "datetime"),
            K("ActualDate", "datetime"),
            S("DeliveryAddress"),
            S("ReceiverName"),
            S("ContactNumber"),
            S("Comment"),
            S("Notes"),
            S("UsrErpOrderNumber"),
            S("UsrLegalEntity"),
            S("UsrOrderType"),
            L("UsrDeliveryOption", "UsrDeliveryOption"),
            S("UsrInvoiceStatus"),
            K("UsrInvoiceDueDate", "date"),
            K("UsrAmountDue", "decimal"),
            *_DIMENSIONS,
        ),
        _entity("OrderProduct", L("Order", "Order", required=True), *_LINE),
        _entity(
            "Invoice",
            S("Number"),
            K("StartDate", "date", required=True),
            K("DueDate", "date", required=True),
            L("Owner", "Contact", required=True),
            L("PaymentStatus", "InvoicePaymentStatus", required=True),
            L("Account", "Account"),
            L("Contact", "Contact"),
            L("Supplier", "Account"),
            L("Currency", "Currency", required=True),
            K("CurrencyRate", "decimal", required=True, scale=8),
            K("Amount", "decimal"),
            K("PaymentAmount", "decimal"),
            K("PrimaryAmount", "decimal"),
            L("Order", "Order"),
            L("Opportunity", "Opportunity"),
            S("Notes"),
            S("UsrErpInvoiceNumber"),
            S("UsrLegalEntity"),
        ),
        _entity(
            "Activity",
            S("Title", required=True),
            K("StartDate", "datetime", required=True),
            K("DueDate", "datetime", required=True),
            L("Owner", "Contact", required=True),
            L("Author", "Contact"),
            L("Account", "Account"),
            L("Contact", "Contact"),
            L("Opportunity", "Opportunity"),
            L("Order", "Order"),
            L("Invoice", "Invoice"),
            S("DetailedResult"),
            S("Body"),
            K("DurationInMinutes", "int"),
            S("Notes"),
        ),
    )
}

# Documents numbered by the server when the client leaves ``Number`` empty.
NUMBER_PREFIX = {"Order": "ORD-", "Invoice": "INV-"}
