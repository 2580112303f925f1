"""Map a custom field by picking it from the systems' own field lists, then sync a record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import ConfigVersions
from syncloom.store.models import Connection
from syncloom.vault import seal_credentials
from tests.browser.conftest import sign_in
from tests.portal.fixtures import World

pytestmark = pytest.mark.browser

FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
"""
CRM = {"username": "Supervisor", "password": "Supervisor"}
ERP_SECRETS = {
    "sender_id": "simsender",
    "sender_password": "simsenderpw",
    "company_id": "SIMCO",
    "user_id": "admin",
    "user_password": "admin",
}
ERP = IntacctCredentials.from_mapping(ERP_SECRETS)


@pytest.fixture
def systems() -> Iterator[dict[str, str]]:
    with (
        SimulatorServer(CreatioSimulator(records=3)) as crm,
        SimulatorServer(IntacctSimulator(records=3)) as erp,
    ):
        yield {"crm": crm.base_url, "erp": erp.base_url}


@pytest.fixture
def wired(world: World, systems: dict[str, str]) -> dict[str, int]:
    """The tenant's two Connections to the simulators, and the flow document."""
    secrets = {"crm": ("creatio", CRM), "erp": ("intacct", ERP_SECRETS)}
    ids = {}
    with world.sessions.begin() as session:
        for name, (system, values) in secrets.items():
            row = Connection(tenant_id=world.acme, name=name, system=system, base_url=systems[name])
            session.add(row)
            session.flush()
            seal_credentials(world.deps.vault, row, values)
            ids[name] = row.id
        ConfigVersions(session).save(world.acme, "flows", FLOWS, author="seed")
    return ids


def _sync_first_account(world: World, systems: dict[str, str], ids: dict[str, int]):
    """Run the saved flow's record job for one account over the simulators."""
    with world.sessions() as session:
        latest = ConfigVersions(session).latest(world.acme, "flows")
        assert latest is not None
        document = load_flows(latest.document)
    bridge = LoopBridge()
    crm = CreatioConnector(systems["crm"], username="Supervisor", password="Supervisor")
    erp = IntacctConnector(systems["erp"], ERP)
    try:
        budget = Limits(rate_per_s=500, burst=100, max_in_flight=16)
        inst = Installation(
            tenant_id=world.acme,
            document=document,
            connections={
                "crm": ConnectionInfo(crm, ids["crm"], budget),
                "erp": ConnectionInfo(erp, ids["erp"], budget),
            },
            sessions=world.sessions,
            clock=SystemClock(),
            bridge=bridge,
        )
        page = bridge.run(crm.read_changes("Account", None, None, page_size=1))
        account = page.records[0]
        outcome = bridge.run(inst.unit("accounts").job.run(account.key))
        assert outcome.target_key is not None, outcome
        customer = bridge.run(erp.get("CUSTOMER", outcome.target_key.rsplit(":", 1)[1]))
        return account, customer
    finally:
        bridge.run(crm.aclose())
        bridge.run(erp.aclose())
        bridge.close()


def test_pick_a_custom_field_on_each_side_save_and_sync(
    world: World, systems: dict[str, str], wired: dict[str, int], tab: Page
) -> None:
    sign_in(tab)
    tab.goto("/flows/accounts")
    target_picker = tab.get_by_label("Pick from target fields, row 2")
    expect(target_picker.locator("optgroup[label='Custom fields'] option")).to_contain_text(
        ["CUSTOMER_TIER — enum · one of Gold, Silver, Bronze · custom", "REGION_CODE"]
    )
    tab.get_by_label("Pick from source fields, row 2").select_option("UsrCustomerTier")
    target_picker.select_option("CUSTOMER_TIER")
    expect(tab.get_by_label("Source field 2")).to_have_value("UsrCustomerTier")
    expect(tab.get_by_label("Target field 2")).to_have_value("CUSTOMER_TIER")
    tab.get_by_role("button", name="Save field map").click()
    expect(tab.get_by_role("status")).to_have_text("Field map of accounts saved.")
    with world.sessions() as session:
        latest = ConfigVersions(session).latest(world.acme, "flows")
        assert latest is not None
        fields = load_flows(latest.document).flow("accounts").fields
    assert [(f.source, f.target) for f in fields] == [
        ("Name", "NAME"),
        ("UsrCustomerTier", "CUSTOMER_TIER"),
    ]

    account, customer = _sync_first_account(world, systems, wired)
    assert customer is not None
    assert account.values["UsrCustomerTier"] in ("Gold", "Silver", "Bronze")
    assert customer.values["CUSTOMER_TIER"] == account.values["UsrCustomerTier"]
