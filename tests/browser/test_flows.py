from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from syncloom.engine.flows import load_flows
from syncloom.store import ConfigVersions
from tests.browser.conftest import sign_in
from tests.portal.fixtures import World

pytestmark = pytest.mark.browser

FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: Customer}
    fields:
      - {source: Name, target: CustomerName, transform: "upper(value)"}
"""


@pytest.fixture
def flows(world: World) -> World:
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", FLOWS, author="seed")
    return world


def test_edit_the_field_map_with_a_preview(flows: World, tab: Page) -> None:
    sign_in(tab)
    tab.goto("/flows/accounts")
    tab.get_by_label("Source field 2").fill("Phone")
    tab.get_by_label("Target field 2").fill("PhoneNo")
    tab.get_by_label("Transform 2").fill("trim(value)")
    tab.get_by_label("Sample record (JSON) for the preview").fill(
        '{"Name": "acme", "Phone": " 555 "}'
    )
    tab.get_by_role("button", name="Preview").click()
    preview = tab.get_by_role("region", name="Preview")
    expect(preview.get_by_role("row", name="CustomerName")).to_contain_text("ACME")
    expect(preview.get_by_role("row", name="PhoneNo")).to_contain_text("555")
    tab.get_by_role("button", name="Save field map").click()
    expect(tab.get_by_role("status")).to_have_text("Field map of accounts saved.")
    with flows.sessions() as session:
        latest = ConfigVersions(session).latest(flows.acme, "flows")
        assert latest is not None
        fields = load_flows(latest.document).flow("accounts").fields
    assert [f.target for f in fields] == ["CustomerName", "PhoneNo"]


def test_a_bad_transform_is_shown_beside_its_row(flows: World, tab: Page) -> None:
    sign_in(tab)
    tab.goto("/flows/accounts")
    tab.get_by_label("Transform 1").fill("uper(value)")
    tab.get_by_role("button", name="Save field map").click()
    expect(tab.get_by_role("alert").filter(has_text="uper")).to_be_visible()


def test_dry_run_shows_its_report(flows: World, tab: Page) -> None:
    sign_in(tab, "operator@acme.test")
    tab.goto("/flows/accounts")
    tab.get_by_role("button", name="Dry run").click()
    report = tab.get_by_role("region", name="Dry-run report")
    expect(report).to_contain_text("creatio:Account:a1")
    expect(report.get_by_role("row").nth(1)).to_contain_text("2")
    assert flows.engine.calls == [("dry_run", (flows.acme, "accounts"))]
