from __future__ import annotations

import httpx
import pytest

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator

LOGIN = "/ServiceModel/AuthService.svc/Login"
SUPERVISOR = {"UserName": "Supervisor", "UserPassword": "Supervisor"}


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(CreatioSimulator(records=12)) as running:
        yield running


def login(base_url: str) -> httpx.Client:
    """A client logged in with cookies whose writes carry the BPMCSRF header."""
    client = httpx.Client(base_url=base_url, headers={"Accept": "application/json"})
    assert client.post(LOGIN, json=SUPERVISOR).status_code == 200
    client.headers["BPMCSRF"] = client.cookies["BPMCSRF"]
    return client


@pytest.fixture
def crm(server):
    client = login(server.base_url)
    yield client
    client.close()
