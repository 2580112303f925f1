from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from syncloom.store import ConfigVersions
from tests.browser.conftest import sign_in
from tests.portal.fixtures import World

pytestmark = pytest.mark.browser

V1 = (
    "flows:\n  - name: a\n    source: {connection: c, entity: A}\n"
    "    target: {connection: e, entity: B}\n"
)
V2 = V1.replace("entity: B", "entity: C")


def test_diff_and_roll_back_a_config_version(world: World, tab: Page) -> None:
    with world.sessions.begin() as session:
        versions = ConfigVersions(session)
        versions.save(world.acme, "flows", V1, author="ana@acme.test", comment="first")
        versions.save(world.acme, "flows", V2, author="ana@acme.test", comment="entity C")
    sign_in(tab)
    tab.get_by_role("link", name="Config versions").click()
    tab.get_by_role("link", name="flows", exact=True).click()
    tab.get_by_role("button", name="Compare").click()
    diff = tab.get_by_label("Diff")
    expect(diff).to_contain_text("-    target: {connection: e, entity: B}")
    expect(diff).to_contain_text("+    target: {connection: e, entity: C}")
    tab.go_back()
    tab.get_by_role("button", name="Roll back to v1").click()
    expect(tab.get_by_role("status")).to_have_text(
        "Rolled flows back to version 1 (saved as version 3)."
    )
    expect(tab.get_by_role("row", name="v3")).to_contain_text("restores v1")
    with world.sessions() as session:
        latest = ConfigVersions(session).latest(world.acme, "flows")
        assert latest is not None
        assert latest.document == V1
