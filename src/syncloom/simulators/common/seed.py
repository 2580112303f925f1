"""Seed data: one deterministic, realistic world that all three simulators share.

The same seed gives the same companies, people and products everywhere, and the reference
data (countries, currencies, payment terms, customer groups, tax groups, warehouses, legal
entities, dimensions) is one catalogue, so the Solutions sync out of the box. Each simulator
maps these neutral shapes onto its own field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faker import Faker

COUNTRIES = {
    "US": "United States",
    "DE": "Germany",
    "GB": "United Kingdom",
    "FR": "France",
    "CA": "Canada",
}
CURRENCIES = {"USD": "US Dollar", "EUR": "Euro", "GBP": "Pound Sterling", "CAD": "Canadian Dollar"}
COUNTRY_CURRENCY = {"US": "USD", "DE": "EUR", "GB": "GBP", "FR": "EUR", "CA": "CAD"}
# US dollars per unit of each currency on the seeded day: the ERPs' daily exchange rates.
USD_PER_UNIT = {"USD": "1", "EUR": "1.08", "GBP": "1.27", "CAD": "0.73"}
PAYMENT_TERMS = {"Net30": 30, "Net60": 60, "Net10": 10, "DueOnReceipt": 0}
CUSTOMER_GROUPS = {"10": "Wholesale customers", "20": "Retail customers", "30": "Intercompany"}
TAX_GROUPS = {"TAXABLE": "Taxable sales", "EXEMPT": "Tax exempt", "EU": "EU reverse charge"}
WAREHOUSES = {"11": "Main warehouse", "12": "East coast", "21": "Berlin"}
DELIVERY_MODES = {"10": "Truck", "20": "Air", "30": "Parcel"}
UNITS = ("ea", "hr", "kg", "box")
# Legal entities: D365 data areas and the Intacct entities that stand for the same companies.
LEGAL_ENTITIES = {
    "usmf": {"name": "Contoso USA", "currency": "USD", "country": "US", "intacct": "E100"},
    "demf": {"name": "Contoso Germany", "currency": "EUR", "country": "DE", "intacct": "E200"},
}
DEPARTMENTS = {"SALES": "Sales", "SVC": "Services", "OPS": "Operations"}
COST_CENTERS = {"CC100": "North", "CC200": "South"}
BUSINESS_UNITS = {"BU-US": "usmf", "BU-EU": "demf"}
# Business units as a CRM keeps them: name -> (legal entity, customer group, payment terms).
CRM_BUSINESS_UNITS = {
    "Contoso USA": ("usmf", "10", "Net30"),
    "Contoso USA Retail": ("usmf", "20", "Net10"),
    "Contoso Germany": ("demf", "20", "Net30"),
}
# Customer price groups of the ERP's trade agreements, by customer group.
PRICE_GROUPS = {"10": "WHOLESALE", "20": "RETAIL", "30": "INTERCO"}
# A user-defined dimension (an Intacct UDD, object TEAM): its values by name.
TEAMS = ("Enterprise", "Mid-market", "Partners")
# A second UDD (object CHANNEL): the route a sale came through.
CHANNELS = ("Direct", "Reseller", "Online")
# Projects: id -> (name, legal entity). Intacct keeps them as PROJECT, Creatio as a lookup.
PROJECTS = {
    "PRJ-100": ("ERP rollout", "usmf"),
    "PRJ-200": ("Berlin office fit-out", "demf"),
    "PRJ-300": ("Support renewal", "usmf"),
}
# A customer-defined classification: a CRM custom column and an ERP user-defined picklist.
CUSTOMER_TIERS = ("Gold", "Silver", "Bronze")


@dataclass(frozen=True)
class Company:
    """A customer company in neutral terms."""

    number: int
    name: str
    email: str
    phone: str
    tax_id: str
    address: str
    city: str
    zip: str
    country: str
    currency: str
    payment_terms: str
    customer_group: str
    tax_group: str
    legal_entity: str
    credit_limit: Decimal
    tier: str = ""


@dataclass(frozen=True)
class Person:
    """A contact person of a company."""

    number: int
    company: int
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str


@dataclass(frozen=True)
class Product:
    """A sellable item."""

    number: str
    name: str
    price: Decimal
    unit: str
    tax_group: str
    on_hand: int


class SeedWorld:
    """Generates the shared world deterministically from a seed."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self._faker = Faker(["en_US"])
        self._faker.seed_instance(seed)

    def companies(self, count: int) -> list[Company]:
        fake = self._faker
        fake.seed_instance(self.seed)
        out: list[Company] = []
        countries = list(COUNTRIES)
        for n in range(1, count + 1):
            name = f"{fake.company()} {n:05d}"
            country = countries[n % len(countries)]
            entity = "demf" if country in {"DE", "FR"} else "usmf"
            domain = "".join(c for c in name.lower() if c.isalnum())[:20] or "example"
            out.append(
                Company(
                    number=n,
                    name=name,
                    email=f"ap@{domain}.example.com",
                    phone=fake.numerify("+1-###-555-####"),
                    tax_id=fake.numerify("##-#######"),
                    address=fake.street_address(),
                    city=fake.city(),
                    zip=fake.postcode(),
                    country=country,
                    currency=COUNTRY_CURRENCY[country],
                    payment_terms=list(PAYMENT_TERMS)[n % len(PAYMENT_TERMS)],
                    customer_group=list(CUSTOMER_GROUPS)[n % 2],
                    tax_group=list(TAX_GROUPS)[n % 2],
                    legal_entity=entity,
                    credit_limit=Decimal(10000 * (1 + n % 10)),
                    # From the number, not the faker, so the other seeded values stay put.
                    tier=CUSTOMER_TIERS[n % len(CUSTOMER_TIERS)],
                )
            )
        return out

    def people(self, companies: list[Company], per_company: int = 2) -> list[Person]:
        fake = self._faker
        fake.seed_instance(self.seed + 1)
        out: list[Person] = []
        for company in companies:
            for _ in range(per_company):
                first, last = fake.first_name(), fake.last_name()
                out.append(
                    Person(
                        number=len(out) + 1,
                        company=company.number,
                        first_name=first,
                        last_name=last,
                        email=f"{first}.{last}{len(out) + 1}@example.com".lower(),
                        phone=fake.numerify("+1-###-555-####"),
                        job_title=fake.job()[:50],
                    )
                )
        return out

    def products(self, count: int) -> list[Product]:
        fake = self._faker
        fake.seed_instance(self.seed + 2)
        out: list[Product] = []
        for n in range(1, count + 1):
            words = fake.words(2)
            out.append(
                Product(
                    number=f"P{n:05d}",
                    name=f"{' '.join(w.title() for w in words)} {n}",
                    price=Decimal(fake.random_int(5, 2000)) + Decimal("0.99"),
                    unit=UNITS[n % len(UNITS)],
                    tax_group=list(TAX_GROUPS)[n % 2],
                    on_hand=fake.random_int(0, 500),
                )
            )
        return out


def as_dict(value: Any) -> dict[str, Any]:
    """A seed dataclass as a plain dict."""
    return dict(value.__dict__)
