from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.d365.app import D365Simulator


@dataclass
class RunningD365:
    simulator: D365Simulator
    base_url: str
    ca_file: str

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        import ssl

        context = ssl.create_default_context(cafile=self.ca_file)
        return httpx.Client(base_url=self.base_url, verify=context, headers=headers)

    def token(self, **form: str) -> str:
        body = {
            "client_id": "sim-client",
            "client_secret": "sim-secret",
            "grant_type": "client_credentials",
            "scope": f"{self.base_url}/.default",
            **form,
        }
        with self.client() as client:
            response = client.post("/simtenant/oauth2/v2.0/token", data=body)
        response.raise_for_status()
        return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def d365() -> Iterator[RunningD365]:
    certs = make_certificates()
    simulator = D365Simulator(seed=1, records=20)
    with SimulatorServer(
        simulator, certfile=str(certs.cert_file), keyfile=str(certs.key_file)
    ) as server:
        yield RunningD365(simulator, server.base_url, str(certs.ca_file))
