from __future__ import annotations

from decimal import Decimal

from syncloom.testing import EntityCase, contract_test_class
from tests.connectors.d365.support import connect, running_d365

TestD365Contract = contract_test_class(
    start_simulator=running_d365,
    make_connector=connect,
    entities=[
        EntityCase(
            "CustomersV3",
            sample=lambda n: {
                "OrganizationName": f"Contract Customer {n}",
                "CustomerGroupId": "10",
                "SalesCurrencyCode": "USD",
                "CreditLimit": Decimal("2500.50"),
                "IsOneTimeCustomer": False,
            },
            changes={"OrganizationName": "Renamed Ltd", "CreditLimit": Decimal("99.95")},
            invalid={"CustomerGroupId": "NOPE"},
            key=lambda n: f"usmf/T{n:09d}",
            search_field="OrganizationName",
        ),
        EntityCase(
            "ContactPersonsV2",
            sample=lambda n: {
                "FirstName": "Ada",
                "LastName": f"Lovelace {n}",
                "PrimaryEmailAddress": f"ada{n}@example.com",
            },
            changes={"EmploymentJobTitle": "Analyst", "IsInactive": True},
            invalid={"IsInactive": "Maybe"},
            key=lambda n: f"demf/CT{n:09d}",
            search_field="PrimaryEmailAddress",
        ),
        EntityCase(
            "ReleasedProductsV2",
            sample=lambda n: {
                "SearchName": f"Widget {n}",
                "SalesPrice": Decimal("19.99"),
                "SalesUnitSymbol": "ea",
            },
            changes={"SalesPrice": Decimal("21.49")},
            invalid={"SalesPrice": "not a number"},
            key=lambda n: f"usmf/IT{n:09d}",
            search_field="SearchName",
        ),
        EntityCase(
            "SalesOrderHeadersV2",
            sample=lambda n: {
                "OrderingCustomerAccountNumber": "C00002",
                "CurrencyCode": "USD",
                "CustomersOrderReference": f"CRM-{n}",
            },
            changes={"SalesOrderName": "Rush order"},
            invalid={"OrderingCustomerAccountNumber": "NO-SUCH-CUSTOMER"},
            key=lambda n: f"usmf/SO-T{n:09d}",
            search_field="CustomersOrderReference",
        ),
    ],
)
