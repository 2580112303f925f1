from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from syncloom.connectors.d365 import D365Connector
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.d365.app import D365Simulator
from syncloom.testing import SimulatorHandle


@contextmanager
def running_d365(**options: object) -> Iterator[SimulatorHandle]:
    certs = make_certificates()
    simulator = D365Simulator(seed=1, records=20, **options)  # type: ignore[arg-type]
    with SimulatorServer(
        simulator, certfile=str(certs.cert_file), keyfile=str(certs.key_file)
    ) as server:
        yield SimulatorHandle(server.base_url, verify=str(certs.ca_file))


def connect(sim: SimulatorHandle, **options: object) -> D365Connector:
    return D365Connector(
        base_url=sim.base_url,
        tenant="simtenant",
        client_id="sim-client",
        client_secret="sim-secret",
        authority_host=sim.base_url,
        ca_file=str(sim.verify),
        **options,  # type: ignore[arg-type]
    )
