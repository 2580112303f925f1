from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(IntacctSimulator(records=20)) as running:
        yield running
