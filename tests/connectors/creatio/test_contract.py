from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from syncloom.connectors.creatio import CreatioConnector
from syncloom.testing import EntityCase, contract_test_class
from tests.connectors.creatio.conftest import running_creatio

NS = uuid.UUID("0c8d1f4e-5a7b-4c2d-9e3f-1a2b3c4d5e6f")
CUSTOMER = "03a75490-53e6-df11-971b-001d60e938c6"
USD = str(uuid.uuid5(uuid.UUID("6f1c2b9e-3c55-4b8e-9a51-c4e4a6c0f001"), "Currency:USD"))


def key(prefix: str):
    return lambda n: str(uuid.uuid5(NS, f"{prefix}:{n}"))


CASES = [
    EntityCase(
        "Account",
        sample=lambda n: {
            "Name": f"Contract Account {n}",
            "Code": f"CA{n}",
            "TypeId": CUSTOMER,
            "UsrErpCustomerId": f"E{n}",
            "UsrCreditLimit": Decimal("1250.50"),
        },
        changes={"Phone": "+1 555 0100", "UsrCreditLimit": Decimal("99.95")},
        invalid={"Name": ""},
        key=key("Account"),
        search_field="Code",
    ),
    EntityCase(
        "Contact",
        sample=lambda n: {
            "Name": f"Pat Contract{n}",
            "Email": f"pat{n}@example.com",
            "BirthDate": date(1980, 1, 1 + n % 28),
        },
        changes={"JobTitle": "Buyer"},
        invalid={"Name": ""},
        key=key("Contact"),
        search_field="Email",
    ),
    EntityCase(
        "Product",
        sample=lambda n: {
            "Name": f"Widget {n}",
            "Code": f"W{n}",
            "CurrencyId": USD,
            "Price": Decimal("19.99"),
            "UsrAvailableQty": Decimal("12.5"),
        },
        changes={"UsrAvailableQty": Decimal("3")},
        invalid={"Name": ""},
        key=key("Product"),
        search_field="Code",
    ),
    EntityCase(
        "Order",
        sample=lambda n: {
            "Date": datetime(2026, 1, 1 + n % 28, 9, tzinfo=UTC),
            "CurrencyId": USD,
            "CurrencyRate": Decimal("1"),
            "Amount": Decimal("100.00"),
            "UsrErpOrderNumber": f"SO{n}",
        },
        changes={"Amount": Decimal("150.25")},
        invalid={"CurrencyId": str(uuid.UUID(int=7))},
        key=key("Order"),
        search_field="UsrErpOrderNumber",
    ),
]

TestCreatioContract = contract_test_class(
    start_simulator=running_creatio,
    make_connector=lambda sim: CreatioConnector(
        sim.base_url, username="Supervisor", password="Supervisor"
    ),
    entities=CASES,
)

TestCreatioContractOAuth = contract_test_class(
    start_simulator=running_creatio,
    make_connector=lambda sim: CreatioConnector(
        sim.base_url,
        client_id="sim-client",
        client_secret="sim-secret",
        token_url=f"{sim.base_url}/connect/token",
    ),
    entities=CASES[:1],
)
