"""``demo --live``: edits on both sides of a Solution, and the ERP's changes flow to Creatio."""

from __future__ import annotations

import io
import random
from types import SimpleNamespace

import pytest
from rich.console import Console

from syncloom.demo_live import LiveEdits
from syncloom.solutions import load_solution
from tests.solutions.world import world

pytestmark = pytest.mark.e2e


def _node(w):  # the slice of a Node that LiveEdits reads
    connections = {
        name: SimpleNamespace(connector=w.connectors[name]) for name in ("creatio", "d365")
    }
    return SimpleNamespace(
        installations={1: SimpleNamespace(connections=connections)}, bridge=w.bridge
    )


def test_live_edits_touch_both_sides_and_the_erp_changes_reach_creatio(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), "d365", records=6) as w:
        for flow in ("on_hand_products", "invoices_status"):
            w.prime(flow)
        out = io.StringIO()
        live = LiveEdits(
            _node(w),
            {"d365": 1},
            {"d365": w.simulators["d365"].base_url},
            w.ca_file,
            random.Random(5),
            Console(file=out, width=200),
        )
        for _ in range(6):
            live.tick()
        said = out.getvalue()
        assert "failed" not in said, said
        assert said.count("renamed Creatio Account") == 6
        assert said.count("F&O ") == 6

        changed = [o.action for o in w.poll("on_hand_products")]
        if "received" in said:  # never synced before here, so matched by item number first
            assert any(action.endswith("updated") for action in changed), changed
        invoices = [o.action for o in w.poll("invoices_status")]
        if "invoiced" in said:
            assert "created" in invoices, invoices
        assert "received" in said or "invoiced" in said
