"""A worker that creates the ERP customer of one account, then dies by SIGKILL before the link.

Run by ``test_kill.py``: ``python -m tests.e2e.kill_worker DB_URL CRM_URL ERP_URL ACCOUNT_ID``.
"""

from __future__ import annotations

import os
import signal
import sys

from syncloom.connectors.base import RecordKey
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.intacct import IntacctConnector
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.flows import load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.store import make_engine, session_factory
from tests.e2e.world import INTACCT, flow_document


def build(db_url: str, crm_url: str, erp_url: str) -> Installation:
    """The installation of the test's tenant, over the test's simulators."""
    sessions = session_factory(make_engine(db_url))
    crm = CreatioConnector(crm_url, username="Supervisor", password="Supervisor")
    erp = IntacctConnector(erp_url, INTACCT)
    budget = Limits(rate_per_s=100, burst=10, max_in_flight=4)
    return Installation(
        tenant_id=1,
        document=load_flows(flow_document()),
        sessions=sessions,
        connections={"crm": ConnectionInfo(crm, 1, budget), "erp": ConnectionInfo(erp, 2, budget)},
        clock=SystemClock(),
        bridge=LoopBridge(),
    )


def main() -> None:
    db_url, crm_url, erp_url, account_id = sys.argv[1:5]
    inst = build(db_url, crm_url, erp_url)
    job = inst.unit("accounts").job

    def die(*args: object, **kwargs: object) -> None:
        print("created; dying before the link commit", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    job.settle = die  # type: ignore[method-assign]
    inst.bridge.run(job.run(RecordKey("creatio", "Account", account_id)))


if __name__ == "__main__":
    main()
