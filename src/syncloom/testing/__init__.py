"""Public test kit: the connector contract suite and simulator handles (public)."""

from __future__ import annotations

from syncloom.testing.contract import EntityCase, contract_test_class
from syncloom.testing.harness import SimulatorHandle

__all__ = ["EntityCase", "SimulatorHandle", "contract_test_class"]
