"""User-defined dimensions (UDDs): discovered from the company, never declared in code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.connectors.intacct.dimensions import parse_dimensions
from syncloom.errors import AuthError, ValidationError
from syncloom.simulators.common.seed import CHANNELS, TEAMS
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.simulators.intacct.entities import OBJECTS
from syncloom.testing.harness import SimulatorHandle

pytestmark = pytest.mark.anyio
CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
UDDS = ("TEAM", "CHANNEL")
LINE_ENTITIES = ("ARINVOICEITEM", "SODOCUMENTENTRY")


@pytest.fixture(scope="module")
def simulator() -> Iterator[IntacctSimulator]:
    app = IntacctSimulator(records=6)
    with SimulatorServer(app) as server:
        app.base_url = server.base_url  # type: ignore[attr-defined]
        yield app


@pytest.fixture
def sim(simulator: IntacctSimulator) -> SimulatorHandle:
    return SimulatorHandle(simulator.base_url)  # type: ignore[attr-defined]


class _CountingTransport(httpx.AsyncHTTPTransport):
    """The real network transport, counting the ``getDimensions`` calls it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.asks = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asks += request.content.count(b"<getDimensions")
        return await super().handle_async_request(request)


async def test_every_udd_of_the_company_is_listed_and_readable(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    names = await conn.entity_names()
    assert set(UDDS) <= set(names)
    # Standard dimensions stay the declared entities they are, listed once.
    assert names.count("DEPARTMENT") == 1
    for udd, values in (("TEAM", TEAMS), ("CHANNEL", CHANNELS)):
        spec = await conn.describe(udd)
        assert spec.key_fields == ("id",)
        assert spec.field("name") is not None
        page = await conn.read_changes(udd, None, None)
        assert sorted(r.values["name"] for r in page.records) == sorted(values)
        keys = [k async for chunk in conn.iter_keys(udd) for k in chunk]
        assert len(keys) == len(values)
    await conn.aclose()


async def test_line_entities_describe_a_custom_gldim_field_per_udd(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    for entity in LINE_ENTITIES:
        spec = await conn.describe(entity)
        for udd in UDDS:
            field = spec.field(f"GLDIM{udd}")
            assert field is not None, f"{entity} lacks GLDIM{udd}"
            assert field.custom
        assert spec.field("GLDIMCHANNEL").label == "Sales channel"  # type: ignore[union-attr]
    await conn.aclose()


async def test_a_line_written_with_a_second_udd_arrives_and_reads_back(
    simulator: IntacctSimulator, sim: SimulatorHandle
) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    channels = (await conn.read_changes("CHANNEL", None, None)).records
    reseller = next(r for r in channels if r.values["name"] == "Reseller")
    teams = (await conn.read_changes("TEAM", None, None)).records
    line = {
        "ACCOUNTNO": "4000",
        "AMOUNT": Decimal("40.00"),
        "GLDIMCHANNEL": reseller.key.id,
        "GLDIMTEAM": teams[0].key.id,
    }
    invoice = await conn.create("ARINVOICE", {"CUSTOMERID": "C00001", "lines": [line]})
    (stored,) = [
        r for r in simulator.store.all(OBJECTS["ARINVOICEITEM"]) if r["RECORDKEY"] == invoice.key.id
    ]
    assert stored["GLDIMCHANNEL"] == reseller.key.id
    assert stored["GLDIMTEAM"] == teams[0].key.id
    found = await conn.search("ARINVOICEITEM", {"RECORDKEY": invoice.key.id})
    assert [r.values["GLDIMCHANNEL"] for r in found] == [reseller.key.id]
    await conn.aclose()


async def test_a_udd_stays_read_only(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    with pytest.raises(ValidationError, match="CHANNEL is read through syncloom"):
        await conn.create("CHANNEL", {"name": "Marketplace"})
    await conn.aclose()


async def test_askers_at_once_and_siblings_share_one_get_dimensions(
    sim: SimulatorHandle,
) -> None:
    transport = _CountingTransport()
    conn = IntacctConnector(sim.base_url, CREDS, transport=transport)
    sibling = conn.for_entity("E100")
    await asyncio.gather(
        conn.entity_names(),
        conn.describe("CHANNEL"),
        conn.describe("ARINVOICEITEM"),
        sibling.describe("SODOCUMENTENTRY"),
        sibling.entity_names(),
    )
    await sibling.read_changes("TEAM", None, None)
    assert transport.asks == 1
    await conn.aclose()
    await sibling.aclose()


async def test_a_failed_ask_is_not_remembered(sim: SimulatorHandle) -> None:
    wrong = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "wrong")
    conn = IntacctConnector(sim.base_url, wrong)
    with pytest.raises(AuthError):
        await conn.entity_names()
    conn.credentials = CREDS
    conn.client.credentials = CREDS
    assert "CHANNEL" in await conn.entity_names()
    await conn.aclose()


def test_only_user_defined_dimensions_are_taken_from_the_answer() -> None:
    from lxml import etree

    data = etree.fromstring(
        "<data><dimensions>"
        "<dimension><objectName>DEPARTMENT</objectName><objectLabel>Department</objectLabel>"
        "<userDefinedDimension>false</userDefinedDimension></dimension>"
        "<dimension><objectName>place</objectName><objectLabel>Place</objectLabel>"
        "<termLabel>Site</termLabel><userDefinedDimension>true</userDefinedDimension>"
        "</dimension></dimensions></data>"
    )
    (place,) = parse_dimensions(data)
    assert (place.name, place.label, place.line_field) == ("PLACE", "Site", "GLDIMPLACE")
