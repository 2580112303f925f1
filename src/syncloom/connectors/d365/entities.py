"""Entities: the F&O data entities syncloom reads and writes, declared in F&O's own names.

The entity name the engine uses is the public set name (``CustomersV3``). Standard F&O
entities carry no modified timestamp, so change polling relies on an extension field
(``ModifiedDateTime1``) on customers, products and documents, and on the native
``LastEditDateTime`` on contacts; entities without one are swept whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncloom.connectors.base import DeletePolicy, EntitySpec, FieldSpec, FieldType

ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities"
_CODES = {
    "s": FieldType.STRING,
    "d": FieldType.DECIMAL,
    "i": FieldType.INTEGER,
    "b": FieldType.BOOLEAN,  # NoYes on the wire
    "t": FieldType.DATETIME,
    "day": FieldType.DATE,  # Edm.DateTimeOffset holding a calendar date
    "e": FieldType.ENUM,
}


@dataclass(frozen=True)
class D365Entity:
    """What the connector knows of one entity beyond its EntitySpec."""

    spec: EntitySpec
    type_name: str

    @property
    def company_specific(self) -> bool:
        """Whether rows belong to a legal entity (``dataAreaId`` leads the key)."""
        return self.spec.key_fields[0] == "dataAreaId"


def _fields(keys: tuple[str, ...], text: str) -> tuple[FieldSpec, ...]:
    out = [
        FieldSpec(k, FieldType.DECIMAL if k == "LineNumber" else FieldType.STRING, required=True)
        for k in keys
    ]
    for item in text.split():
        name, _, code = item.partition(":")
        out.append(FieldSpec(name, _CODES[code or "s"]))
    return tuple(out)


def _entity(
    name: str,
    type_name: str,
    keys: str,
    fields: str,
    *,
    modified: str | None = "ModifiedDateTime1",
    read_only: bool = False,
    batch_size: int = 500,
) -> D365Entity:
    key_fields = tuple(keys.split(","))
    if modified:
        fields += f" {modified}:t"
    spec = EntitySpec(
        name=name,
        key_fields=key_fields,
        modified_field=modified,
        fields=_fields(key_fields, fields),
        delete_policy=DeletePolicy.NONE if read_only else DeletePolicy.DELETE,
        batch_size=batch_size,
        read_only=read_only,
    )
    return D365Entity(spec, type_name)


ENTITIES: dict[str, D365Entity] = {
    e.spec.name: e
    for e in (
        _entity(
            "CustomersV3",
            "CustomerV3",
            "dataAreaId,CustomerAccount",
            "PartyType OrganizationName NameAlias CustomerGroupId SalesCurrencyCode PaymentTerms "
            "PaymentMethod SalesTaxGroup TaxExemptNumber AddressStreet AddressCity AddressState "
            "AddressZipCode AddressCountryRegionId AddressCountryRegionISOCode "
            "SalesDistrict EmployeeResponsibleNumber "
            "PrimaryContactEmail PrimaryContactPhone PrimaryContactURL CreditLimit:d "
            "OnHoldStatus:e IsOneTimeCustomer:b InvoiceAccount DeliveryMode LanguageId "
            "ContactPersonId WarehouseId DefaultDimensionDisplayValue DiscountPriceGroupId "
            "LineDiscountCode",
        ),
        _entity(
            "ContactPersonsV2",
            "ContactPersonV2",
            "dataAreaId,ContactPersonId",
            "ContactForParty FirstName MiddleName LastName PrimaryEmailAddress "
            "PrimaryPhoneNumber EmploymentJobTitle EmploymentDepartment IsInactive:b",
            modified="LastEditDateTime",
        ),
        _entity(
            "ReleasedProductsV2",
            "ReleasedProductV2",
            "dataAreaId,ItemNumber",
            "ProductNumber SearchName ProductSearchName ProductType:e ProductGroupId "
            "SalesPrice:d SalesUnitSymbol SalesSalesTaxItemGroupCode InventoryUnitSymbol "
            "UnitCost:d SellStartDate:day DefaultLedgerDimensionDisplayValue",
        ),
        _entity(
            "SalesQuotationHeadersV2",
            "SalesQuotationHeaderV2",
            "dataAreaId,SalesQuotationNumber",
            "SalesQuotationStatus:e SalesQuotationName RequestingCustomerAccountNumber "
            "InvoiceCustomerAccountNumber OpportunityId CurrencyCode ContactPersonId "
            "CustomersReference PaymentTermsName DeliveryModeCode SalesQuotationExpiryDate:day "
            "DefaultLedgerDimensionDisplayValue GeneratedSalesOrderNumber QuotationTotalAmount:d",
        ),
        _entity(
            "SalesQuotationLines",
            "SalesQuotationLine",
            "dataAreaId,InventoryLotId",
            "SalesQuotationNumber LineCreationSequenceNumber:i ItemNumber LineDescription "
            "RequestedSalesQuantity:d SalesUnitSymbol SalesPrice:d LineAmount:d "
            "LineDiscountPercentage:d LineDiscountAmount:d ShippingWarehouseId "
            "RequestedShippingDate:day RequestedReceiptDate:day DefaultLedgerDimensionDisplayValue",
        ),
        _entity(
            "SalesOrderHeadersV2",
            "SalesOrderHeaderV2",
            "dataAreaId,SalesOrderNumber",
            "SalesOrderStatus:e SalesOrderProcessingStatus OrderingCustomerAccountNumber "
            "InvoiceCustomerAccountNumber CurrencyCode CustomersOrderReference "
            "CustomerRequisitionNumber QuotationNumber ContactPersonId PaymentTermsName "
            "DeliveryModeCode DefaultShippingWarehouseId RequestedShippingDate:day "
            "ConfirmedShippingDate:day SalesOrderName DefaultLedgerDimensionDisplayValue "
            "OrderTotalAmount:d OrderCreationDateTime:t",
        ),
        _entity(
            "SalesOrderLines",
            "SalesOrderLine",
            "dataAreaId,InventoryLotId",
            "SalesOrderNumber LineNumber:d SalesOrderLineStatus:e ItemNumber LineDescription "
            "OrderedSalesQuantity:d SalesUnitSymbol SalesPrice:d LineAmount:d "
            "LineDiscountPercentage:d LineDiscountAmount:d ShippingWarehouseId CurrencyCode "
            "DeliveryModeCode RequestedShippingDate:day RequestedReceiptDate:day "
            "DefaultLedgerDimensionDisplayValue",
        ),
        _entity(
            "SalesInvoiceHeadersV2",
            "SalesInvoiceHeaderV2",
            "dataAreaId,InvoiceNumber",
            "InvoiceDate:day SalesOrderNumber InvoiceCustomerAccountNumber CurrencyCode "
            "TotalInvoiceAmount:d TotalTaxAmount:d PaymentTermsName CustomersOrderReference",
            read_only=True,
        ),
        _entity(
            "CustomerOpenTransactions",
            "CustomerOpenTransaction",
            "dataAreaId,InvoiceNumber",
            "CustomerAccount Voucher TransactionDate:day DueDate:day AmountCurrency:d "
            "CreditNoteNumber "
            "SettledAmount:d RemainingAmount:d CurrencyCode IsSettled:b LastSettlementDate:day "
            "SalesOrderNumber DaysOverdue:i IsOverdue:b OverdueAmount:d",
            read_only=True,
        ),
        _entity(
            "WarehousesOnHandV2",
            "WarehouseOnHandV2",
            "dataAreaId,ItemNumber,InventoryWarehouseId",
            "ProductName InventorySiteId OnHandQuantity:d AvailableOnHandQuantity:d "
            "ReservedOnHandQuantity:d TotalAvailableQuantity:d",
            read_only=True,
        ),
        _entity(
            "InventoryAvailableToPromise",
            "InventoryAvailableToPromise",
            "dataAreaId,ItemNumber,InventoryWarehouseId",
            "AvailableToPromiseQuantity:d ATPDate:day ATPTimeFenceDays:i",
            read_only=True,
        ),
        _entity(
            "SalesPriceAgreements",
            "SalesPriceAgreement",
            "dataAreaId,TradeAgreementJournalNumber,LineNumber",
            "ItemNumber CustomerAccountNumber PriceCustomerGroupCode PriceApplicableFromDate:day "
            "PriceApplicableToDate:day FromQuantity:d ToQuantity:d Price:d PriceCurrencyCode "
            "QuantityUnitSymbol WillSearchContinue:b",
        ),
        _entity(
            "SalesLineDiscountAgreements",
            "SalesLineDiscountAgreement",
            "dataAreaId,TradeAgreementJournalNumber,LineNumber",
            "ItemNumber CustomerAccountNumber LineDiscountCustomerGroupCode "
            "DiscountApplicableFromDate:day DiscountApplicableToDate:day FromQuantity:d "
            "ToQuantity:d DiscountPercentage1:d DiscountPercentage2:d DiscountCurrencyCode "
            "WillSearchContinue:b",
        ),
        _entity(
            "CustomerPaymentJournalHeaders",
            "CustomerPaymentJournalHeader",
            "dataAreaId,JournalBatchNumber",
            "JournalName Description IsPosted:b",
            modified=None,
        ),
        _entity(
            "CustomerPaymentJournalLines",
            "CustomerPaymentJournalLine",
            "dataAreaId,JournalBatchNumber,LineNumber",
            "AccountType:e AccountDisplayValue Company CreditAmount:d DebitAmount:d "
            "CurrencyCode TransactionDate:day PaymentMethodName PaymentReference MarkedInvoice "
            "OffsetAccountDisplayValue TransactionText",
            modified=None,
        ),
        _entity(
            "CustomerGroups",
            "CustomerGroup",
            "dataAreaId,CustomerGroupId",
            "Description PaymentTermId DefaultDimensionDisplayValue",
            modified=None,
        ),  # fmt: skip
        _entity(
            "PaymentTerms",
            "PaymentTerm",
            "dataAreaId,Name",
            "Description NumberOfDays:i",
            modified=None,
        ),  # fmt: skip
        _entity(
            "Warehouses",
            "Warehouse",
            "dataAreaId,WarehouseId",
            "WarehouseName OperationalSiteId",
            modified=None,
        ),  # fmt: skip
        _entity(
            "DeliveryModes", "DeliveryMode", "dataAreaId,ModeCode", "ModeDescription", modified=None
        ),  # fmt: skip
        _entity(
            "SalesTaxGroups",
            "SalesTaxGroup",
            "dataAreaId,TaxGroupCode",
            "Description",
            modified=None,
        ),  # fmt: skip
        _entity(
            "FinancialDimensionValues",
            "FinancialDimensionValue",
            "FinancialDimension,LegalEntityId,DimensionValue",
            "Description IsSuspended:b",
            modified=None,
        ),  # fmt: skip
        _entity(
            "LegalEntities",
            "LegalEntity",
            "LegalEntityId",
            "Name AddressCountryRegionId CurrencyCode LanguageId",
            modified=None,
        ),  # fmt: skip
    )
}
