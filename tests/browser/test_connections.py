from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_add_a_connection_and_test_it(tab: Page) -> None:
    sign_in(tab)
    tab.get_by_role("link", name="Connections").click()
    tab.get_by_label("Name", exact=True).fill("crm")
    tab.get_by_label("System").select_option("creatio")
    tab.get_by_label("Environment").select_option("production")
    tab.get_by_label("Base URL").fill("https://crm.example")
    tab.get_by_label("Credentials").fill("username=sync\npassword=hunter2-secret")
    tab.get_by_role("button", name="Add connection").click()
    expect(tab.get_by_role("status")).to_have_text("Connection crm created.")
    row = tab.get_by_role("row", name="crm")
    expect(row).to_contain_text("production")
    expect(row).to_contain_text("set")
    assert "hunter2-secret" not in tab.content()
    row.get_by_role("link", name="crm").click()
    tab.get_by_role("button", name="Test connection").click()
    expect(tab.get_by_role("status")).to_contain_text("Connection test passed")
