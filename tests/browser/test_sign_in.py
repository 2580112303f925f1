from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_and_out(tab: Page) -> None:
    tab.goto("/dead-letters")
    expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()
    tab.get_by_label("Email").fill("admin@acme.test")
    tab.get_by_label("Password").fill("wrong password")
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_have_text("Wrong email or password.")
    sign_in(tab)
    expect(tab.get_by_text("admin@acme.test (admin)")).to_be_visible()
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()
