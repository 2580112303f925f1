from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from syncloom.engine.clock import FrozenClock
from syncloom.portal.charts import bar_chart
from syncloom.store import ConfigVersions
from syncloom.store.models import (
    Connection,
    DeadLetter,
    GovernorBucket,
    Link,
    LinkState,
    RecordLogEntry,
    Watermark,
)
from tests.portal.fixtures import World

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
FLOWS = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: Customer}
"""


def seed(world: World) -> None:
    world.deps.clock = FrozenClock(NOW)
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", FLOWS, author="seed")
        for minutes in (5, 6, 70):
            session.add(
                RecordLogEntry(
                    tenant_id=world.acme,
                    flow="accounts",
                    record_key="k",
                    action="updated",
                    created_at=NOW - timedelta(minutes=minutes),
                )
            )
        session.add(
            RecordLogEntry(
                tenant_id=world.acme,
                flow="accounts",
                record_key="k",
                action="failed",
                error="boom",
                created_at=NOW - timedelta(minutes=1),
            )
        )
        session.add(
            DeadLetter(
                tenant_id=world.acme,
                flow="accounts",
                record_key="k",
                error_class="ValidationError",
                error_text="boom",
            )
        )
        session.add(
            Link(
                tenant_id=world.acme,
                flow="accounts",
                crm_key="k",
                state=LinkState.LINKED,
                synced_at=NOW - timedelta(minutes=10),
            )
        )
        session.add(
            Watermark(
                tenant_id=world.acme,
                flow="accounts",
                side="crm",
                value_utc=NOW - timedelta(minutes=3),
            )
        )
        connection = Connection(
            tenant_id=world.acme, name="erp", system="intacct", base_url="https://erp.example"
        )
        session.add(connection)
        session.flush()
        session.add(
            GovernorBucket(
                tenant_id=world.acme,
                connection_id=connection.id,
                tokens=3.5,
                day_count=120,
                leases=[["a", "x"]],
            )
        )


def test_dashboard_figures(world: World, client: TestClient, admin: str) -> None:
    seed(world)
    figures = client.get("/api/dashboard").json()
    flow = figures["flows"][0]
    assert (flow["health"], flow["open_dead_letters"]) == ("attention", 1)
    assert flow["staleness_s"] == 600
    assert flow["lag_s"] == 180
    hours = figures["hours"]
    assert len(hours) == 24
    assert (hours[-1]["synced"], hours[-1]["errors"]) == (2, 1)
    assert hours[-2]["synced"] == 1
    assert figures["governors"] == [
        {
            "connection": "erp",
            "tokens": 3.5,
            "in_flight": 1,
            "today": 120,
            "slowdown": 1.0,
            "blocked_until": None,
        }
    ]


def test_dashboard_page_draws_both_charts(world: World, client: TestClient, admin: str) -> None:
    seed(world)
    page = client.get("/").text
    assert page.count('<svg class="chart"') == 2
    assert "<title>12:00: 2</title>" in page
    assert "<title>12:00: 1</title>" in page


def test_bar_heights_follow_the_values() -> None:
    svg = str(bar_chart([("a", 1), ("b", 4), ("c<", 0)], title="t & u"))
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 4 * heights[0]
    assert heights[2] == 0
    assert "t &amp; u" in svg
    assert "c&lt;" in svg
