from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from syncloom.engine.clock import FrozenClock
from syncloom.store.models import RecordLogEntry
from tests.browser.conftest import sign_in
from tests.portal.fixtures import World

pytestmark = pytest.mark.browser


def test_the_throughput_chart_renders(world: World, tab: Page) -> None:
    now = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    world.deps.clock = FrozenClock(now)
    with world.sessions.begin() as session:
        for minutes in (1, 2, 3, 61):
            session.add(
                RecordLogEntry(
                    tenant_id=world.acme,
                    flow="accounts",
                    record_key="k",
                    action="updated",
                    created_at=now - timedelta(minutes=minutes),
                )
            )
    sign_in(tab, "viewer@acme.test")
    chart = tab.get_by_role("img", name="Records synced per hour (last 24 h, UTC)")
    expect(chart).to_be_visible()
    heights = [
        bar.bounding_box()["height"]  # type: ignore[index]
        for bar in chart.locator("rect.bar").all()
    ]
    assert len(heights) == 24
    # Three records in the newest hour, one in the hour before: the bars say so.
    assert heights[-1] == pytest.approx(3 * heights[-2], rel=0.05)
    assert max(heights) > 0
