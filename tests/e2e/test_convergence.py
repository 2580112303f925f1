"""Any interleaving of edits on both sides, hints from either side and faults converges.

A hypothesis state machine edits one Account/Customer pair in both systems, runs the record
job from either side while the simulators inject 429s, 5xx and connection resets, and at the
end lets the job settle: both systems must agree, on a value somebody actually wrote, and one
more run must write nothing (no oscillation).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from syncloom.connectors.base import RecordKey
from syncloom.errors import TransientError
from tests.e2e.world import flow_document, world

pytestmark = pytest.mark.e2e

NAMES = st.sampled_from(["Alpha", "Beta", "Gamma", "Delta"])
FAULTS = st.sampled_from(["ok", "ok", "429", "503", "reset"])


class SyncMachine(RuleBasedStateMachine):
    """One pair of records, edited and synced in any order, with faults."""

    world = None  # one world for every example: starting simulators is the slow part

    @initialize()
    def start_pair(self) -> None:
        w = SyncMachine.world
        self.job = w.inst.unit("accounts").job
        ident = str(uuid.uuid4())
        account = w.run(w.crm.create("Account", {"Name": "Start"}, ident))
        created = w.run(self.job.run(account.key))
        self.crm_key = account.key
        self.erp_key = RecordKey.parse(created.target_key)
        self.written = {"Start"}

    @rule(name=NAMES)
    def edit_crm(self, name: str) -> None:
        SyncMachine.world.run(
            SyncMachine.world.crm.update("Account", self.crm_key.id, {"Name": name})
        )
        self.written.add(name)

    @rule(name=NAMES)
    def edit_erp(self, name: str) -> None:
        w = SyncMachine.world
        w.run(w.erp.update("CUSTOMER", self.erp_key.id, {"NAME": name}))
        self.written.add(name)

    @rule(from_crm=st.booleans(), fault=FAULTS, on_erp=st.booleans())
    def sync(self, from_crm: bool, fault: str, on_erp: bool) -> None:
        w = SyncMachine.world
        (w.erp_sim if on_erp else w.crm_sim).script_faults([fault])
        try:
            w.run(self.job.run(self.crm_key if from_crm else self.erp_key))
        except TransientError:
            pass  # the durable retry runs the job again later; so does the next rule
        finally:
            w.erp_sim.clear_faults()
            w.crm_sim.clear_faults()

    def teardown(self) -> None:
        w = SyncMachine.world
        if not hasattr(self, "job"):
            return
        for _ in range(4):
            w.run(self.job.run(self.crm_key))
            w.run(self.job.run(self.erp_key))
        crm = w.run(w.crm.get("Account", self.crm_key.id)).values["Name"]
        erp = w.run(w.erp.get("CUSTOMER", self.erp_key.id)).values["NAME"]
        assert crm == erp, f"diverged: crm={crm!r} erp={erp!r}"
        assert crm in self.written, f"{crm!r} was never written by anyone"
        for key in (self.crm_key, self.erp_key):
            outcome = w.run(self.job.run(key))
            assert outcome.writes == 0, f"still writing after settling: {outcome}"


def test_interleavings_and_faults_converge() -> None:
    # Here the edits are the test's own, not a loop: lift the flapping limit out of the way.
    no_limit = "    flapping: {max_syncs: 10000, window_min: 1}\n"
    document = flow_document("both", "newest_wins").replace(
        "    key: {template:", no_limit + "    key: {template:"
    )
    with TemporaryDirectory() as tmp, world(Path(tmp), document, records=1) as w:
        SyncMachine.world = w
        try:
            run_state_machine_as_test(
                SyncMachine,
                settings=settings(
                    max_examples=12,
                    stateful_step_count=12,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        finally:
            SyncMachine.world = None
