"""A syncloom worker for the chaos rounds: start a Node, poll every flow, until killed.

Usage: ``python worker.py DATABASE_URL KEYRING_FILE [--interval-s 0.3] [--hooks-port N]``.
The Node's runtime recovers whatever a killed predecessor left pending (same executor id),
then this loop polls each flow of the one tenant over and over, and every few turns sweeps
each flow's key set for deleted records (polls do not see deletes; a lost delete webhook is
found this way). With ``--hooks-port`` the node's webhook intake listens on that port too. A
poll that fails under injected faults is simply tried again on the next turn: the watermark
only moves when a poll commits, so a failed poll loses nothing. Each line printed says what
happened, for the log.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from pathlib import Path

from fastapi import FastAPI

from syncloom.engine.intake_api import intake_router
from syncloom.engine.retry import RetryPolicy
from syncloom.engine.sweep import KeySetSweep
from syncloom.log import configure_logging
from syncloom.node import Node
from syncloom.settings import load_settings
from syncloom.simulators.common.server import SimulatorServer
from syncloom.store import make_engine, session_factory
from syncloom.vault import Vault, read_keyring_file

EXECUTOR_ID = "chaos-worker"
SWEEP_EVERY = 5  # turns


def _poll_forever(node: Node, interval_s: float) -> None:
    turn = 0
    while True:
        turn += 1
        for tenant_id, inst in node.installations.items():
            for flow in inst.document.flows:
                try:
                    report = node.poll_now(tenant_id, flow.name).result(60)
                except Exception as exc:  # a faulted poll: the next turn reads the same changes
                    print(f"turn {turn} {flow.name}: poll failed ({type(exc).__name__})")
                    continue
                print(f"turn {turn} {flow.name}: read {report['read']} queued {report['enqueued']}")
                if turn % SWEEP_EVERY == 0:
                    _sweep(inst, flow.name, turn)
        time.sleep(interval_s)


def _sweep(inst, flow: str, turn: int) -> None:  # type: ignore[no-untyped-def]
    try:
        report = inst.bridge.run(KeySetSweep.for_flow(inst, flow).sweep())
    except Exception as exc:  # a faulted sweep: the next one reads the key sets again
        print(f"turn {turn} {flow}: sweep failed ({type(exc).__name__})")
        return
    print(f"turn {turn} {flow}: swept {len(report.missing)} gone")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("keyring_file")
    parser.add_argument("--interval-s", type=float, default=0.3)
    parser.add_argument("--hooks-port", type=int, default=0)
    args = parser.parse_args()
    # Everything the node logs, at its most talkative, is what the secrets scan reads.
    configure_logging("json", "DEBUG")
    vault = Vault(read_keyring_file(Path(args.keyring_file)))
    sessions = session_factory(make_engine(args.database_url))
    # The same retry cap as `syncloom worker` (SYNCLOOM_RETRY_CAP_S), set by the chaos tests.
    retry = RetryPolicy(cap_s=load_settings().retry_cap_s)
    node = Node(args.database_url, sessions, vault, executor_id=EXECUTOR_ID, retry=retry)
    node.start()
    with ExitStack() as stack:
        if args.hooks_port:
            app = FastAPI()
            app.include_router(intake_router(node.intake()))
            stack.enter_context(SimulatorServer(app, port=args.hooks_port))
        print("worker started", flush=True)
        try:
            _poll_forever(node, args.interval_s)
        finally:
            node.stop()


if __name__ == "__main__":
    main()
