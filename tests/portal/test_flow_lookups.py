"""The flow page names the Connections a flow's lookups search among those it still lacks."""

from __future__ import annotations

import textwrap

import pytest
from fastapi.testclient import TestClient

from syncloom.store import ConfigVersions
from tests.portal.fixtures import World

DOCUMENT = textwrap.dedent(
    """
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp, entity: Customer}
        fields:
          - source: CityId
            target: City
            lookup: {connection: geo, entity: City, match: {Id: CityId}, value: Name}
    """
)


@pytest.fixture
def flows(world: World) -> World:
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", DOCUMENT, author="seed")
    return world


def test_flow_page_warns_about_a_lookup_connection_that_does_not_exist(
    flows: World, client: TestClient, admin: str
) -> None:
    assert "do not exist yet: crm, erp, geo" in client.get("/flows/accounts").text
