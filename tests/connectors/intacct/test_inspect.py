"""The company's own field list: limits, picklists and user-defined fields (UDFs)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from syncloom.connectors.base import FieldType
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.errors import PermanentError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.testing.harness import SimulatorHandle

pytestmark = pytest.mark.anyio
CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with SimulatorServer(IntacctSimulator(records=6)) as server:
        yield SimulatorHandle(server.base_url)


async def test_describe_adds_the_companys_udfs_with_their_rules(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    spec = await conn.describe("CUSTOMER")
    await conn.aclose()
    tier, region = spec.field("CUSTOMER_TIER"), spec.field("REGION_CODE")
    assert tier is not None
    assert region is not None
    assert tier.custom
    assert region.custom
    assert tier.type is FieldType.ENUM
    assert tier.allowed_values == ("Gold", "Silver", "Bronze")
    assert region.max_length == 10
    name, status = spec.field("NAME"), spec.field("STATUS")
    assert name is not None
    assert status is not None
    assert name.required
    assert not name.custom
    assert name.max_length == 100
    assert status.allowed_values == ("active", "inactive")
    recordno = spec.field("RECORDNO")
    assert recordno is not None
    assert recordno.read_only


async def test_reads_and_writes_carry_udfs(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    seeded = await conn.get("CUSTOMER", "C00001")
    assert seeded is not None
    assert seeded.values["CUSTOMER_TIER"] == "Silver"  # customer 1 of the seeded world
    created = await conn.create(
        "CUSTOMER", {"NAME": "Tiered Ltd", "CUSTOMER_TIER": "Gold", "REGION_CODE": "EMEA"}, "T-1"
    )
    assert created.values["CUSTOMER_TIER"] == "Gold"
    again = await conn.get("CUSTOMER", "T-1")
    assert again is not None
    assert again.values["REGION_CODE"] == "EMEA"
    await conn.aclose()


async def test_the_gateway_refuses_a_value_outside_the_picklist(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    with pytest.raises(PermanentError, match="CUSTOMER_TIER"):
        await conn.create("CUSTOMER", {"NAME": "Odd Ltd", "CUSTOMER_TIER": "Platinum"}, "T-2")
    with pytest.raises(PermanentError, match="REGION_CODE"):
        await conn.create("CUSTOMER", {"NAME": "Odd Ltd", "REGION_CODE": "X" * 11}, "T-3")
    await conn.aclose()


async def test_entity_names_lists_the_objects_it_syncs(sim: SimulatorHandle) -> None:
    conn = IntacctConnector(sim.base_url, CREDS)
    names = await conn.entity_names()
    assert "CUSTOMER" in names
    assert names == sorted(names)
    await conn.aclose()


class _CountingTransport(httpx.AsyncHTTPTransport):
    """The real network transport, counting the ``inspect`` calls it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.inspects = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.inspects += request.content.count(b"<inspect")
        return await super().handle_async_request(request)


async def test_jobs_asking_at_once_share_one_inspect(sim: SimulatorHandle) -> None:
    transport = _CountingTransport()
    conn = IntacctConnector(sim.base_url, CREDS, transport=transport)
    specs = await asyncio.gather(*(conn.describe("CUSTOMER") for _ in range(5)))
    await conn.get("CUSTOMER", "C00002")
    await conn.for_entity("E100").describe("CUSTOMER")
    await conn.aclose()
    assert transport.inspects == 1
    assert all(spec.field("CUSTOMER_TIER") is not None for spec in specs)
