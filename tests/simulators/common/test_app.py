from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncloom.simulators.common.app import Simulator
from syncloom.simulators.common.faults import FaultPlan, FaultSpecError, parse_spec
from syncloom.simulators.common.server import SimulatorServer
from syncloom.testing import SimulatorHandle


class EchoSimulator(Simulator):
    def routes(self) -> list[BaseRoute]:
        return [Route("/things", self.things, methods=["GET", "POST"])]

    async def things(self, request: Request) -> Response:
        return JSONResponse({"now": self.clock.now().isoformat()})


@pytest.fixture(scope="module")
def running():
    with SimulatorServer(EchoSimulator(seed=3)) as server:
        yield server


def test_parse_spec_reads_rates_and_refuses_nonsense():
    assert parse_spec("429:0.05,500:0.02, reset:0.01") == {"429": 0.05, "500": 0.02, "reset": 0.01}
    for bad in ("418:0.1", "429:x", "429:2", "429:0.7,500:0.7", "429"):
        with pytest.raises(FaultSpecError):
            parse_spec(bad)


def test_random_faults_are_seeded():
    a, b = FaultPlan(rates={"500": 0.3}, seed=9), FaultPlan(rates={"500": 0.3}, seed=9)
    assert [a.next_fault() for _ in range(50)] == [b.next_fault() for _ in range(50)]
    assert {a.next_fault() for _ in range(200)} == {None, "500"}


def test_scripted_faults_then_recovery_and_stats(running):
    handle = SimulatorHandle(running.base_url)
    handle.set_faults(retry_after_s=4)
    handle.script_faults(["429", "503", "ok"])
    with httpx.Client(base_url=running.base_url) as client:
        first = client.get("/things")
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "4"
        assert client.get("/things").status_code == 503
        assert client.get("/things").status_code == 200
    stats = handle.stats()
    assert stats["faults_injected"] == {"429": 1, "503": 1}
    assert stats["requests"]["GET /things"] >= 3


def test_reset_fault_drops_the_connection(running):
    SimulatorHandle(running.base_url).script_faults(["reset"])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{running.base_url}/things")


def test_clock_can_be_frozen_and_advanced(running):
    handle = SimulatorHandle(running.base_url)
    handle.freeze_clock(datetime(2026, 3, 8, 12, tzinfo=UTC))
    handle.advance_clock(60)
    assert httpx.get(f"{running.base_url}/things").json()["now"] == "2026-03-08T12:01:00+00:00"
    handle.freeze_clock(None)


def test_oversize_body_gets_413_and_server_stays_up(running):
    big = b"x" * (Simulator.max_body_bytes + 1)
    assert httpx.post(f"{running.base_url}/things", content=big).status_code == 413
    assert httpx.get(f"{running.base_url}/things").status_code == 200


def test_bad_admin_input_is_a_400(running):
    response = httpx.post(f"{running.base_url}/_sim/faults", json={"spec": "999:1"})
    assert response.status_code == 400
    assert "bad fault" in response.json()["error"]
