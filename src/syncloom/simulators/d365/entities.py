"""Entity declarations: the F&O data entities the simulator serves, in F&O's own names.

Each public entity has a case-sensitive set name (``CustomersV3``), a singular type name
(``CustomerV3``), named key fields (``dataAreaId`` first for company-specific entities) and
typed properties. Standard F&O entities carry no modified timestamp; like most integrations we
expose one through an extension field (``ModifiedDateTime1``) that the simulator stamps on
every write. Contacts use their native ``LastEditDateTime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

NAMESPACE = "Microsoft.Dynamics.DataEntities"

ENUMS: dict[str, tuple[str, ...]] = {
    "NoYes": ("No", "Yes"),
    "CustVendorBlocked": ("No", "Invoice", "All", "Payment", "Requisition", "Never", "PurchOrder"),
    "SalesStatus": ("None", "Backorder", "Delivered", "Invoiced", "Canceled"),
    "SalesQuotationStatus": ("Created", "Sent", "Confirmed", "Lost", "Canceled"),
    "LedgerJournalACType": ("Ledger", "Cust", "Vend", "Project", "FixedAssets", "Bank"),
    "EcoResProductType": ("Item", "Service"),
}
# Short type codes keep the declarations below on one screen.
TYPES = {
    "S": "Edm.String",
    "D": "Edm.Decimal",
    "I": "Edm.Int32",
    "L": "Edm.Int64",
    "T": "Edm.DateTimeOffset",
    "G": "Edm.Guid",
}
EMPTY_DATE = "1900-01-01T00:00:00Z"


@dataclass(frozen=True)
class Prop:
    """One property: its name and its Edm or enum type name."""

    name: str
    type: str

    @property
    def enum(self) -> str | None:
        prefix = NAMESPACE + "."
        return self.type[len(prefix) :] if self.type.startswith(prefix) else None

    def default(self) -> object:
        if self.enum:
            return ENUMS[self.enum][0]
        return {"Edm.String": "", "Edm.DateTimeOffset": EMPTY_DATE, "Edm.Guid": ""}.get(
            self.type, 0
        )


@dataclass(frozen=True)
class Nav:
    """A navigation to a collection of another set, joined on shared fields."""

    name: str
    target: str
    on: tuple[str, ...]


@dataclass(frozen=True)
class EntitySet:
    """One public data entity."""

    name: str
    type_name: str
    table: str
    label: str
    keys: tuple[str, ...]
    props: tuple[Prop, ...]
    modified: str | None = None
    number_sequence: str | None = None
    read_only: bool = False
    references: dict[str, str] = field(default_factory=dict)
    navs: tuple[Nav, ...] = ()
    # Where F&O starts a new row somewhere other than the type's default.
    defaults: dict[str, object] = field(default_factory=dict)

    @property
    def company_specific(self) -> bool:
        return self.keys[0] == "dataAreaId"

    def prop(self, name: str) -> Prop | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Prop]:
        # Looked up per value of every row written or read: a dictionary, built once.
        by_name: dict[str, Prop] = {}
        for prop in self.props:
            by_name.setdefault(prop.name, prop)
        return by_name

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.props)


def _props(keys: tuple[str, ...], spec: str) -> tuple[Prop, ...]:
    out = [Prop(k, "Edm.Decimal" if k == "LineNumber" else "Edm.String") for k in keys]
    for item in spec.split():
        name, _, code = item.partition(":")
        kind = TYPES.get(code or "S") or f"{NAMESPACE}.{code}"
        out.append(Prop(name, kind))
    return tuple(out)


def _set(
    name: str,
    type_name: str,
    table: str,
    keys: str,
    spec: str,
    *,
    label: str = "",
    modified: str | None = "ModifiedDateTime1",
    number_sequence: str | None = None,
    read_only: bool = False,
    references: dict[str, str] | None = None,
    navs: tuple[Nav, ...] = (),
    defaults: dict[str, object] | None = None,
) -> EntitySet:
    key_tuple = tuple(keys.split(","))
    props = _props(key_tuple, spec + (f" {modified}:T" if modified == "ModifiedDateTime1" else ""))
    return EntitySet(
        name,
        type_name,
        table,
        label or name,
        key_tuple,
        props,
        modified,
        number_sequence,
        read_only,
        references or {},
        navs,
        defaults or {},
    )


_ADDRESS = "AddressStreet AddressCity AddressState AddressZipCode AddressCountryRegionId"
_DELIVERY = (
    "DeliveryAddressName DeliveryAddressStreet DeliveryAddressCity DeliveryAddressStateId "
    "DeliveryAddressZipCode DeliveryAddressCountryRegionId"
)

CATALOGUE: tuple[EntitySet, ...] = (
    _set(
        "CustomersV3",
        "CustomerV3",
        "CustCustomerV3Entity",
        "dataAreaId,CustomerAccount",
        "PartyType OrganizationName NameAlias KnownAs PersonFirstName PersonLastName "
        "CustomerGroupId SalesCurrencyCode PaymentTerms PaymentMethod SalesTaxGroup "
        "TaxExemptNumber IsSalesTaxIncludedInPrices:NoYes "
        f"{_ADDRESS} AddressCountryRegionISOCode FullPrimaryAddress AddressValidFrom:T "
        "SalesDistrict EmployeeResponsibleNumber "
        "PrimaryContactEmail PrimaryContactPhone PrimaryContactURL CreditLimit:D "
        "CreditLimitIsMandatory:NoYes OnHoldStatus:CustVendorBlocked IsOneTimeCustomer:NoYes "
        "InvoiceAccount DeliveryMode DeliveryTerms LanguageId ContactPersonId WarehouseId "
        "SalesMemo PartyNumber DefaultDimensionDisplayValue DiscountPriceGroupId LineDiscountCode",
        label="Customers",
        number_sequence="C",
        references={
            "CustomerGroupId": "CustomerGroups",
            "PaymentTerms": "PaymentTerms",
            "SalesTaxGroup": "SalesTaxGroups",
            "DeliveryMode": "DeliveryModes",
            "WarehouseId": "Warehouses",
        },
    ),
    _set(
        "ContactPersonsV2",
        "ContactPersonV2",
        "smmContactPersonV2Entity",
        "dataAreaId,ContactPersonId",
        "ContactPersonPartyNumber ContactForParty AssociatedPartyNumber FirstName MiddleName "
        "LastName PrimaryEmailAddress PrimaryPhoneNumber IsPrimaryPhoneNumberMobile:NoYes "
        "EmploymentJobTitle EmploymentDepartment IsInactive:NoYes LastEditDateTime:T "
        "ContactInformationLanguageId",
        label="Contacts",
        modified="LastEditDateTime",
        number_sequence="CP",
    ),
    _set(
        "CustomerGroups",
        "CustomerGroup",
        "CustCustomerGroupEntity",
        "dataAreaId,CustomerGroupId",
        "Description PaymentTermId ClearingPeriodPaymentTermName IsSalesTaxIncludedInPrice:NoYes "
        "DefaultDimensionDisplayValue TaxGroupId",
        label="Customer groups",
        modified=None,
    ),
    _set(
        "PaymentTerms",
        "PaymentTerm",
        "PaymentTermEntity",
        "dataAreaId,Name",
        "Description NumberOfDays:I",
        label="Terms of payment",
        modified=None,
    ),
    _set(
        "Warehouses",
        "Warehouse",
        "InventWarehouseEntity",
        "dataAreaId,WarehouseId",
        "WarehouseName OperationalSiteId",
        label="Warehouses",
        modified=None,
    ),
    _set(
        "DeliveryModes",
        "DeliveryMode",
        "DlvModeEntity",
        "dataAreaId,ModeCode",
        "ModeDescription",
        label="Modes of delivery",
        modified=None,
    ),
    _set(
        "SalesTaxGroups",
        "SalesTaxGroup",
        "TaxGroupEntity",
        "dataAreaId,TaxGroupCode",
        "Description",
        label="Sales tax groups",
        modified=None,
    ),
    _set(
        "FinancialDimensionValues",
        "FinancialDimensionValue",
        "DimensionFinancialDimensionValueEntity",
        "FinancialDimension,LegalEntityId,DimensionValue",
        "Description IsSuspended:NoYes IsBlockedForManualEntry:NoYes ActiveFrom:T ActiveTo:T",
        label="Financial dimension values",
        modified=None,
    ),
    _set(
        "LegalEntities",
        "LegalEntity",
        "OMLegalEntity",
        "LegalEntityId",
        "Name AddressCountryRegionId LanguageId PartyNumber CurrencyCode",
        label="Legal entities",
        modified=None,
    ),
    _set(
        "ReleasedProductsV2",
        "ReleasedProductV2",
        "EcoResReleasedProductV2Entity",
        "dataAreaId,ItemNumber",
        "ProductNumber SearchName ProductSearchName ProductType:EcoResProductType ProductGroupId "
        "SalesPrice:D SalesUnitSymbol SalesSalesTaxItemGroupCode PurchasePrice:D "
        "InventoryUnitSymbol UnitCost:D SellStartDate:T DefaultLedgerDimensionDisplayValue",
        label="Released products",
    ),
    _set(
        "SalesQuotationHeadersV2",
        "SalesQuotationHeaderV2",
        "SalesQuotationHeaderV2Entity",
        "dataAreaId,SalesQuotationNumber",
        "SalesQuotationStatus:SalesQuotationStatus SalesQuotationName "
        "RequestingCustomerAccountNumber InvoiceCustomerAccountNumber OpportunityId CurrencyCode "
        "ContactPersonId CustomersReference CustomerRequisitionNumber PaymentTermsName "
        "DeliveryModeCode SalesQuotationExpiryDate:T DefaultLedgerDimensionDisplayValue "
        "GeneratedSalesOrderNumber QuotationTotalAmount:D",
        label="Sales quotations",
        number_sequence="SQ",
        references={"RequestingCustomerAccountNumber": "CustomersV3"},
        navs=(
            Nav(
                "SalesQuotationLines", "SalesQuotationLines", ("dataAreaId", "SalesQuotationNumber")
            ),
        ),
    ),
    _set(
        "SalesQuotationLines",
        "SalesQuotationLine",
        "SalesQuotationLineV2Entity",
        "dataAreaId,InventoryLotId",
        "SalesQuotationNumber LineCreationSequenceNumber:I ItemNumber LineDescription "
        "RequestedSalesQuantity:D SalesUnitSymbol SalesPrice:D LineAmount:D "
        "LineDiscountPercentage:D LineDiscountAmount:D ShippingWarehouseId "
        "RequestedShippingDate:T RequestedReceiptDate:T DefaultLedgerDimensionDisplayValue",
        label="Sales quotation lines",
        number_sequence="QL",
    ),
    _set(
        "SalesOrderHeadersV2",
        "SalesOrderHeaderV2",
        "SalesOrderHeaderV2Entity",
        "dataAreaId,SalesOrderNumber",
        "SalesOrderStatus:SalesStatus SalesOrderProcessingStatus OrderingCustomerAccountNumber "
        "InvoiceCustomerAccountNumber CurrencyCode CustomersOrderReference "
        "CustomerRequisitionNumber QuotationNumber ContactPersonId Email LanguageId "
        "PaymentTermsName DeliveryModeCode DefaultShippingWarehouseId RequestedShippingDate:T "
        "ConfirmedShippingDate:T SalesOrderName DefaultLedgerDimensionDisplayValue "
        f"OrderTotalAmount:D OrderCreationDateTime:T {_DELIVERY}",
        label="Sales orders",
        number_sequence="SO",
        references={"OrderingCustomerAccountNumber": "CustomersV3"},
        navs=(Nav("SalesOrderLines", "SalesOrderLines", ("dataAreaId", "SalesOrderNumber")),),
        defaults={"SalesOrderStatus": "Backorder"},  # F&O's "Open order"
    ),
    _set(
        "SalesOrderLines",
        "SalesOrderLine",
        "SalesOrderLineV2Entity",
        "dataAreaId,InventoryLotId",
        "SalesOrderNumber LineNumber:D LineCreationSequenceNumber:I "
        "SalesOrderLineStatus:SalesStatus "
        "ItemNumber LineDescription OrderedSalesQuantity:D SalesUnitSymbol SalesPrice:D "
        "LineAmount:D LineDiscountPercentage:D LineDiscountAmount:D ShippingWarehouseId "
        "CurrencyCode DeliveryModeCode RequestedShippingDate:T RequestedReceiptDate:T "
        "DefaultLedgerDimensionDisplayValue",
        label="Sales order lines",
        number_sequence="OL",
        references={"ItemNumber": "ReleasedProductsV2"},
    ),
    _set(
        "SalesInvoiceHeadersV2",
        "SalesInvoiceHeaderV2",
        "SalesInvoiceHeaderV2Entity",
        "dataAreaId,InvoiceNumber",
        "InvoiceDate:T SalesOrderNumber InvoiceCustomerAccountNumber CurrencyCode "
        "TotalInvoiceAmount:D TotalTaxAmount:D TotalDiscountAmount:D PaymentTermsName "
        "CustomersOrderReference LedgerVoucher",
        label="Sales invoices",
        read_only=True,
    ),
    _set(
        "CustomerOpenTransactions",
        "CustomerOpenTransaction",
        "CustTransOpenSyncloomEntity",
        "dataAreaId,InvoiceNumber",
        "CustomerAccount Voucher TransactionDate:T DueDate:T AmountCurrency:D SettledAmount:D "
        "CreditNoteNumber "
        "RemainingAmount:D CurrencyCode IsSettled:NoYes LastSettlementDate:T SalesOrderNumber "
        "DaysOverdue:I IsOverdue:NoYes OverdueAmount:D",
        label="Customer open transactions",
        read_only=True,
    ),
    _set(
        "WarehousesOnHandV2",
        "WarehouseOnHandV2",
        "InventWarehouseOnHandV2Entity",
        "dataAreaId,ItemNumber,InventoryWarehouseId",
        "ProductName InventorySiteId OnHandQuantity:D AvailableOnHandQuantity:D "
        "ReservedOnHandQuantity:D OrderedQuantity:D AvailableOrderedQuantity:D "
        "OnOrderQuantity:D TotalAvailableQuantity:D",
        label="Warehouse on-hand",
        read_only=True,
    ),
    _set(
        "InventoryAvailableToPromise",
        "InventoryAvailableToPromise",
        "InventATPSyncloomEntity",
        "dataAreaId,ItemNumber,InventoryWarehouseId",
        "AvailableToPromiseQuantity:D ATPDate:T ATPTimeFenceDays:I",
        label="Available to promise",
        read_only=True,
    ),
    # Trade agreements (PriceDiscTable): prices and line discounts per item, for one customer
    # or a customer price group, valid between dates and from a quantity up to another.
    _set(
        "SalesPriceAgreements",
        "SalesPriceAgreement",
        "SalesPriceAgreementEntity",
        "dataAreaId,TradeAgreementJournalNumber,LineNumber",
        "ItemNumber CustomerAccountNumber PriceCustomerGroupCode PriceApplicableFromDate:T "
        "PriceApplicableToDate:T FromQuantity:D ToQuantity:D Price:D PriceCurrencyCode "
        "QuantityUnitSymbol WillSearchContinue:NoYes",
        label="Sales price agreements",
    ),
    _set(
        "SalesLineDiscountAgreements",
        "SalesLineDiscountAgreement",
        "SalesLineDiscountAgreementEntity",
        "dataAreaId,TradeAgreementJournalNumber,LineNumber",
        "ItemNumber CustomerAccountNumber LineDiscountCustomerGroupCode "
        "DiscountApplicableFromDate:T DiscountApplicableToDate:T FromQuantity:D ToQuantity:D "
        "DiscountPercentage1:D DiscountPercentage2:D DiscountCurrencyCode "
        "WillSearchContinue:NoYes",
        label="Sales line discount agreements",
    ),
    _set(
        "CustomerPaymentJournalHeaders",
        "CustomerPaymentJournalHeader",
        "CustomerPaymentJournalHeaderEntity",
        "dataAreaId,JournalBatchNumber",
        "JournalName Description IsPosted:NoYes",
        label="Customer payment journal",
        number_sequence="JB",
    ),
    _set(
        "CustomerPaymentJournalLines",
        "CustomerPaymentJournalLine",
        "CustomerPaymentJournalLineEntity",
        "dataAreaId,JournalBatchNumber,LineNumber",
        "AccountType:LedgerJournalACType AccountDisplayValue Company CreditAmount:D DebitAmount:D "
        "CurrencyCode TransactionDate:T PaymentMethodName PaymentReference MarkedInvoice "
        "OffsetAccountDisplayValue TransactionText",
        label="Customer payment journal lines",
    ),
)

SETS: dict[str, EntitySet] = {entity.name: entity for entity in CATALOGUE}
