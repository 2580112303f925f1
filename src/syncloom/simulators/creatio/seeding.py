"""Seeding: the shared SeedWorld as a Creatio site's rows.

Reference lookups (currencies with ISO codes, countries, cities, account types, opportunity
stages, order and payment statuses) come first, then the Supervisor and integration contacts,
then companies as Accounts, people as Contacts, products as Products, and for every fifth
company an Opportunity with a product, an Order with a line and an Invoice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from syncloom.simulators.common.seed import (
    COUNTRIES,
    CRM_BUSINESS_UNITS,
    CURRENCIES,
    DEPARTMENTS,
    LEGAL_ENTITIES,
    Company,
    SeedWorld,
)
from syncloom.simulators.common.store import SimStore
from syncloom.simulators.creatio.auth import INTEGRATION_CONTACT, SUPERVISOR_CONTACT
from syncloom.simulators.creatio.entities import ENTITIES
from syncloom.simulators.creatio.values import empty_row, format_instant

_NS = uuid.UUID("6f1c2b9e-3c55-4b8e-9a51-c4e4a6c0f001")
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
CUSTOMER_TYPE = "03a75490-53e6-df11-971b-001d60e938c6"
FILE_TYPE = "529bc2f8-0ee0-df11-971b-001d60e938c6"
ACCOUNT_TYPES = {CUSTOMER_TYPE: "Customer", "Partner": "Partner", "Supplier": "Supplier"}
STAGES = ("Qualification", "Presentation", "Proposal", "Negotiation", "Closed won", "Closed lost")
ORDER_STATUSES = ("1. Draft", "2. Confirmation", "3. In progress", "4. Completed", "5. Canceled")
PAYMENT_STATUSES = ("Planned", "Partially paid", "Paid", "Canceled", "Overdue")
DELIVERY_OPTIONS = ("Standard ground", "Express air", "Parcel")
# The business unit seeded accounts belong to, by their legal entity.
_BUSINESS_UNIT = {"usmf": "Contoso USA", "demf": "Contoso Germany"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "C$"}


def seed_id(entity: str, key: object) -> str:
    """A stable GUID for a seeded row."""
    return str(uuid.uuid5(_NS, f"{entity}:{key}"))


class Seeder:
    """Writes the seeded rows of one simulator into its store."""

    def __init__(self, store: SimStore, seed: int, records: int, *, persist: bool = False) -> None:
        self.store = store
        self.persist = persist
        self.world = SeedWorld(seed)
        self.records = records
        self.tick = 0

    def put(self, entity: str, key: str, **values: Any) -> str:
        self.tick += 1
        when = format_instant(_EPOCH + timedelta(seconds=self.tick))
        row = empty_row(ENTITIES[entity])
        row.update(CreatedOn=when, ModifiedOn=when, Id=key)
        row.update(CreatedById=SUPERVISOR_CONTACT, ModifiedById=SUPERVISOR_CONTACT)
        if "OwnerId" in row:
            row["OwnerId"] = SUPERVISOR_CONTACT
        row.update(values)
        if self.persist:
            self.store.put(entity, key, row)
        else:  # skip the per-row write-through: seeding 100k rows must stay fast
            self.store.table(entity)[key] = row
        return key

    def run(self) -> None:
        self.put("Contact", SUPERVISOR_CONTACT, Name="Supervisor", Surname="Supervisor")
        self.put(
            "Contact",
            INTEGRATION_CONTACT,
            Name="Syncloom Integration",
            GivenName="Syncloom",
            Surname="Integration",
        )
        self._reference()
        companies = self.world.companies(self.records)
        accounts = {c.number: self._account(c) for c in companies}
        for person in self.world.people(companies):
            self.put(
                "Contact",
                seed_id("Contact", person.number),
                Name=f"{person.first_name} {person.last_name}",
                GivenName=person.first_name,
                Surname=person.last_name,
                Email=person.email,
                Phone=person.phone,
                JobTitle=person.job_title,
                AccountId=accounts[person.company],
                UsrErpContactId=f"CT{person.number:05d}",
            )
        products = [self._product(p) for p in self.world.products(max(self.records, 5))]
        for company in companies[4::5]:
            self._documents(
                company, accounts[company.number], products[company.number % len(products)]
            )

    def _reference(self) -> None:
        for code, name in CURRENCIES.items():
            self.put(
                "Currency",
                seed_id("Currency", code),
                Name=name,
                Code=code,
                Symbol=SYMBOLS.get(code, code),
                ShortName=code,
                Division=100,
                Rate=1.0,
            )
        for code, name in COUNTRIES.items():
            self.put("Country", seed_id("Country", code), Name=name, Code=code)
        for key, name in ACCOUNT_TYPES.items():
            self.put(
                "AccountType",
                key if key == CUSTOMER_TYPE else seed_id("AccountType", key),
                Name=name,
            )
        for n, name in enumerate(STAGES, 1):
            self.put(
                "OpportunityStage",
                seed_id("OpportunityStage", name),
                Name=name,
                Number=n,
                End=n >= 5,
                Successful=n == 5,
                MaxProbability=min(n * 20, 100),
                ShowInFunnel=n < 5,
            )
        for n, name in enumerate(ORDER_STATUSES, 1):
            self.put(
                "OrderStatus",
                seed_id("OrderStatus", name),
                Name=name,
                Position=n,
                FinalStatus=n >= 4,
            )
        self.put("FileType", FILE_TYPE, Name="File")
        for name in PAYMENT_STATUSES:
            self.put("InvoicePaymentStatus", seed_id("InvoicePaymentStatus", name), Name=name)
        for name, (entity, _, _) in CRM_BUSINESS_UNITS.items():
            self.put("UsrBusinessUnit", seed_id("UsrBusinessUnit", name), Name=name, UsrCode=entity)
        for name in DELIVERY_OPTIONS:
            self.put("UsrDeliveryOption", seed_id("UsrDeliveryOption", name), Name=name)
        self._dimensions()

    def _dimensions(self) -> None:
        """Departments and locations the site already keeps; projects and teams arrive by sync."""
        for code, name in DEPARTMENTS.items():
            key = seed_id("UsrIntacctDepartment", code)
            self.put("UsrIntacctDepartment", key, Name=name, Code=code, UsrActive=True)
        for info in LEGAL_ENTITIES.values():
            code = info["intacct"]
            key = seed_id("UsrIntacctLocation", code)
            self.put("UsrIntacctLocation", key, Name=info["name"], Code=code, UsrActive=True)

    def _account(self, company: Company) -> str:
        city = seed_id("City", f"{company.country}:{company.city}")
        if city not in self.store.table("City"):
            self.put("City", city, Name=company.city, CountryId=seed_id("Country", company.country))
        return self.put(
            "Account",
            seed_id("Account", company.number),
            Name=company.name,
            Code=f"C{company.number:05d}",
            TypeId=CUSTOMER_TYPE,
            Phone=company.phone,
            Address=company.address,
            Zip=company.zip,
            CityId=city,
            CountryId=seed_id("Country", company.country),
            UsrEmail=company.email,
            UsrErpCustomerId=f"C{company.number:05d}",
            UsrLegalEntity=company.legal_entity,
            UsrTaxRegistrationNumber=company.tax_id,
            UsrPaymentTerms=company.payment_terms,
            UsrCustomerGroup=company.customer_group,
            UsrCurrencyId=seed_id("Currency", company.currency),
            UsrCreditLimit=float(company.credit_limit),
            UsrBusinessUnitId=seed_id("UsrBusinessUnit", _BUSINESS_UNIT[company.legal_entity]),
            UsrCustomerTier=company.tier,
        )

    def _product(self, product: Any) -> str:
        return self.put(
            "Product",
            seed_id("Product", product.number),
            Name=product.name,
            Code=product.number,
            CurrencyId=seed_id("Currency", "USD"),
            Price=float(product.price),
            Active=True,
            UsrUnit=product.unit,
            UsrErpItemId=product.number,
            UsrAvailableQty=float(product.on_hand),
        )

    def _documents(self, company: Company, account: str, product: str) -> None:
        currency = seed_id("Currency", company.currency)
        price = self.store.table("Product")[product]["Price"]
        opportunity = self.put(
            "Opportunity",
            seed_id("Opportunity", company.number),
            Title=f"Deal {company.name}",
            StageId=seed_id("OpportunityStage", "Proposal"),
            AccountId=account,
            Amount=price * 2,
            Probability=60,
            UsrCurrencyId=currency,
        )
        self.put(
            "OpportunityProductInterest",
            seed_id("Interest", company.number),
            OpportunityId=opportunity,
            ProductId=product,
            Quantity=2.0,
            Price=price,
            Amount=price * 2,
        )
        order = self.put(
            "Order",
            seed_id("Order", company.number),
            Number=f"ORD-{company.number:05d}",
            Date=format_instant(_EPOCH),
            AccountId=account,
            OpportunityId=opportunity,
            StatusId=seed_id("OrderStatus", "2. Confirmation"),
            CurrencyId=currency,
            CurrencyRate=1.0,
            Amount=price * 2,
            UsrLegalEntity=company.legal_entity,
        )
        self.put(
            "OrderProduct",
            seed_id("OrderProduct", company.number),
            OrderId=order,
            ProductId=product,
            Name="Line 1",
            Quantity=2.0,
            Price=price,
            Amount=price * 2,
            TotalAmount=price * 2,
            CurrencyId=currency,
            CurrencyRate=1.0,
        )
        self.put(
            "Invoice",
            seed_id("Invoice", company.number),
            Number=f"INV-{company.number:05d}",
            StartDate=format_instant(_EPOCH),
            DueDate=format_instant(_EPOCH + timedelta(days=30)),
            PaymentStatusId=seed_id("InvoicePaymentStatus", "Planned"),
            AccountId=account,
            CurrencyId=currency,
            CurrencyRate=1.0,
            Amount=price * 2,
            OrderId=order,
            UsrLegalEntity=company.legal_entity,
        )
