from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.testing import EntityCase, contract_test_class
from syncloom.testing.harness import SimulatorHandle

CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")


@contextmanager
def running_simulator() -> Iterator[SimulatorHandle]:
    with SimulatorServer(IntacctSimulator(records=10)) as server:
        yield SimulatorHandle(server.base_url)


TestIntacctContract = contract_test_class(
    start_simulator=running_simulator,
    make_connector=lambda sim: IntacctConnector(sim.base_url, CREDS),
    entities=[
        EntityCase(
            "CUSTOMER",
            sample=lambda n: {
                "NAME": f"Contract Customer {n}",
                "DISPLAYCONTACT.PRINTAS": f"Contract Customer {n}",
                "DISPLAYCONTACT.EMAIL1": f"ap{n}@example.com",
                "CREDITLIMIT": Decimal("1500.50"),
                "CURRENCY": "EUR",
                "ONHOLD": False,
            },
            key=lambda n: f"CC-{n}",
            changes={"NAME": "Renamed Customer", "CREDITLIMIT": Decimal("99.99")},
            invalid={"NAME": ""},
            search_field="NAME",
        ),
        EntityCase(
            "CONTACT",
            sample=lambda n: {"PRINTAS": f"Pat Person {n}", "EMAIL1": f"pat{n}@example.com"},
            key=lambda n: f"Person, Pat ({n})",
            changes={"PHONE1": "+1-555-0100"},
            invalid={"PRINTAS": ""},
            search_field="EMAIL1",
        ),
        EntityCase(
            "ITEM",
            sample=lambda n: {
                "NAME": f"Widget {n}",
                "ITEMTYPE": "Non-Inventory",
                "BASEPRICE": Decimal("12.34"),
            },
            key=lambda n: f"IT-{n}",
            changes={"BASEPRICE": Decimal("20.00")},
            invalid={"ITEMTYPE": "Spaceship"},
            search_field="NAME",
        ),
    ],
)
