from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.testing import SimulatorHandle


@contextmanager
def running_creatio(**options: Any) -> Iterator[SimulatorHandle]:
    """A seeded Creatio simulator on loopback, port 0."""
    with SimulatorServer(CreatioSimulator(records=20, **options)) as server:
        yield SimulatorHandle(server.base_url)
