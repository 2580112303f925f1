"""Seeding: the shared SeedWorld written as F&O rows (companies usmf and demf).

Companies become ``CustomersV3`` in their legal entity, people ``ContactPersonsV2``, products
``ReleasedProductsV2`` released to both companies with on-hand stock in each warehouse, and the
reference catalogue (customer groups, payment terms, tax groups, warehouses, delivery modes,
financial dimension values, legal entities) is written for every company.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from syncloom.simulators.common import seed as world
from syncloom.simulators.common.seed import SeedWorld
from syncloom.simulators.d365.entities import SETS
from syncloom.simulators.d365.rows import Row, blank, format_instant

COUNTRY_IDS = {"US": "USA", "DE": "DEU", "GB": "GBR", "FR": "FRA", "CA": "CAN"}
DIMENSION_FORMAT = ("BusinessUnit", "Department", "CostCenter")


def _row(entity: str, **values: object) -> tuple[str, Row]:
    row = blank(SETS[entity])
    row.update(values)
    return entity, row


def reference_rows() -> Iterator[tuple[str, Row]]:
    """Legal entities, dimensions and per-company reference data."""
    for company, info in world.LEGAL_ENTITIES.items():
        yield _row(
            "LegalEntities",
            LegalEntityId=company,
            Name=info["name"],
            AddressCountryRegionId=COUNTRY_IDS[info["country"]],
            CurrencyCode=info["currency"],
            LanguageId="en-us" if company == "usmf" else "de",
        )
        yield from _company_reference(company)
        yield from _dimension_values(company)


def _company_reference(company: str) -> Iterator[tuple[str, Row]]:
    area = {"dataAreaId": company}
    for group, text in world.CUSTOMER_GROUPS.items():
        yield _row("CustomerGroups", **area, CustomerGroupId=group, Description=text,
                   PaymentTermId="Net30")  # fmt: skip
    for name, days in world.PAYMENT_TERMS.items():
        yield _row("PaymentTerms", **area, Name=name, Description=name, NumberOfDays=days)
    for code, text in world.TAX_GROUPS.items():
        yield _row("SalesTaxGroups", **area, TaxGroupCode=code, Description=text)
    for code, text in world.WAREHOUSES.items():
        yield _row("Warehouses", **area, WarehouseId=code, WarehouseName=text,
                   OperationalSiteId=code[0])  # fmt: skip
    for code, text in world.DELIVERY_MODES.items():
        yield _row("DeliveryModes", **area, ModeCode=code, ModeDescription=text)


def _dimension_values(company: str) -> Iterator[tuple[str, Row]]:
    catalogue = {
        "BusinessUnit": {k: v for k, v in world.BUSINESS_UNITS.items()},
        "Department": world.DEPARTMENTS,
        "CostCenter": world.COST_CENTERS,
    }
    for dimension, values in catalogue.items():
        for value, text in values.items():
            yield _row("FinancialDimensionValues", FinancialDimension=dimension,
                       LegalEntityId=company, DimensionValue=value, Description=text)  # fmt: skip


def world_rows(seed: int, records: int, now: datetime) -> Iterator[tuple[str, Row]]:
    """Customers, contacts, products and stock of the shared world."""
    stamp = format_instant(now)
    source = SeedWorld(seed)
    companies = source.companies(records)
    for company in companies:
        yield _customer(company, stamp)
    for person in source.people(companies):
        owner = companies[person.company - 1]
        yield _row("ContactPersonsV2", dataAreaId=owner.legal_entity,
                   ContactPersonId=f"CP{person.number:05d}",
                   ContactForParty=f"C{owner.number:05d}", FirstName=person.first_name,
                   LastName=person.last_name, PrimaryEmailAddress=person.email,
                   PrimaryPhoneNumber=person.phone, EmploymentJobTitle=person.job_title,
                   LastEditDateTime=stamp)  # fmt: skip
    products = source.products(records)
    for product in products:
        yield from _product(product, stamp)
    if len(products) > 1:
        yield from trade_agreements(products[1], stamp)


def trade_agreements(product: world.Product, stamp: str) -> Iterator[tuple[str, Row]]:
    """Wholesale customers of usmf pay 90 % of the list price, with 5 % off from 10 units."""
    price = float((product.price * Decimal("0.9")).quantize(Decimal("0.01")))
    yield _row("SalesPriceAgreements", dataAreaId="usmf", TradeAgreementJournalNumber="TAJ-0001",
               LineNumber=1, ItemNumber=product.number, PriceCustomerGroupCode="WHOLESALE",
               PriceApplicableFromDate="2025-01-01T00:00:00Z", Price=price,
               PriceCurrencyCode="USD", QuantityUnitSymbol=product.unit,
               ModifiedDateTime1=stamp)  # fmt: skip
    yield _row("SalesLineDiscountAgreements", dataAreaId="usmf",
               TradeAgreementJournalNumber="TAJ-0001", LineNumber=2,
               ItemNumber=product.number, LineDiscountCustomerGroupCode="WHOLESALE",
               DiscountApplicableFromDate="2025-01-01T00:00:00Z", FromQuantity=10,
               DiscountPercentage1=5, DiscountCurrencyCode="USD",
               ModifiedDateTime1=stamp)  # fmt: skip


def _customer(company: world.Company, stamp: str) -> tuple[str, Row]:
    bu = "BU-US" if company.legal_entity == "usmf" else "BU-EU"
    return _row(
        "CustomersV3",
        dataAreaId=company.legal_entity,
        CustomerAccount=f"C{company.number:05d}",
        PartyType="Organization",
        OrganizationName=company.name,
        NameAlias=company.name.split()[0],
        CustomerGroupId=company.customer_group,
        SalesCurrencyCode=company.currency,
        PaymentTerms=company.payment_terms,
        SalesTaxGroup=company.tax_group,
        TaxExemptNumber=company.tax_id,
        AddressStreet=company.address,
        AddressCity=company.city,
        AddressZipCode=company.zip,
        AddressCountryRegionId=COUNTRY_IDS[company.country],
        AddressCountryRegionISOCode=company.country,
        PrimaryContactEmail=company.email,
        PrimaryContactPhone=company.phone,
        CreditLimit=int(company.credit_limit),
        LanguageId="en-us",
        DefaultDimensionDisplayValue=f"{bu}-SALES-",
        DiscountPriceGroupId=world.PRICE_GROUPS[company.customer_group],
        LineDiscountCode=world.PRICE_GROUPS[company.customer_group],
        ModifiedDateTime1=stamp,
    )


def _product(product: world.Product, stamp: str) -> Iterator[tuple[str, Row]]:
    for company in world.LEGAL_ENTITIES:
        yield _row("ReleasedProductsV2", dataAreaId=company, ItemNumber=product.number,
                   ProductNumber=product.number, SearchName=product.name[:20],
                   ProductSearchName=product.name, ProductType="Item",
                   SalesPrice=float(product.price), SalesUnitSymbol=product.unit,
                   InventoryUnitSymbol=product.unit, SalesSalesTaxItemGroupCode=product.tax_group,
                   ModifiedDateTime1=stamp)  # fmt: skip
        for warehouse in list(world.WAREHOUSES)[:2]:
            yield from stock_rows(company, product.number, product.name, warehouse,
                                  product.on_hand, stamp)  # fmt: skip


def stock_rows(
    company: str, item: str, name: str, warehouse: str, quantity: float, stamp: str
) -> Iterator[tuple[str, Row]]:
    """On-hand and available-to-promise rows of one item in one warehouse."""
    yield _row("WarehousesOnHandV2", dataAreaId=company, ItemNumber=item, ProductName=name,
               InventoryWarehouseId=warehouse, InventorySiteId=warehouse[0],
               OnHandQuantity=quantity, AvailableOnHandQuantity=quantity,
               TotalAvailableQuantity=quantity, ModifiedDateTime1=stamp)  # fmt: skip
    yield _row("InventoryAvailableToPromise", dataAreaId=company, ItemNumber=item,
               InventoryWarehouseId=warehouse, AvailableToPromiseQuantity=quantity,
               ATPDate=stamp, ATPTimeFenceDays=30, ModifiedDateTime1=stamp)  # fmt: skip
