"""A syncloom worker for the chaos rounds: start a Node, poll every flow, until killed.

Usage: ``python worker.py DATABASE_URL KEYRING_FILE [--interval-s 0.3]``.
The Node's runtime recovers whatever a killed predecessor left pending (same executor id),
then this loop polls each flow of the one tenant over and over. A poll that fails under
injected faults is simply tried again on the next turn: the watermark only moves when a poll
commits, so a failed poll loses nothing. Each line printed says what happened, for the log.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from syncloom.log import configure_logging
from syncloom.node import Node
from syncloom.store import make_engine, session_factory
from syncloom.vault import Vault, read_keyring_file

EXECUTOR_ID = "chaos-worker"


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
        time.sleep(interval_s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("keyring_file")
    parser.add_argument("--interval-s", type=float, default=0.3)
    args = parser.parse_args()
    # Everything the node logs, at its most talkative, is what the secrets scan reads.
    configure_logging("json", "DEBUG")
    vault = Vault(read_keyring_file(Path(args.keyring_file)))
    sessions = session_factory(make_engine(args.database_url))
    node = Node(args.database_url, sessions, vault, executor_id=EXECUTOR_ID)
    node.start()
    print("worker started", flush=True)
    try:
        _poll_forever(node, args.interval_s)
    finally:
        node.stop()


if __name__ == "__main__":
    main()
