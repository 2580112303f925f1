"""Poll cost: API requests of a poll over a flow with many linked records, by number of changes.

Run with ``.venv/bin/python -m benchmarks.poll_cost [--quick] [--records N]``. ``N`` Creatio
Accounts are first linked to Intacct customers by a BulkLoad, which seeds the flow's polling
watermark with the newest modified-on it read. The first poll afterwards is reported on its own
(it re-reads only the overlap window and should enqueue nothing). Then each poll is measured
after ``k`` Accounts changed (k = 0, 10, 100, 1000): the requests it sent to Creatio, the
records it read and the record jobs it would enqueue. A poll reads changes since its watermark
minus a two-minute overlap, so its cost should grow with the changes, never with the table.
Requests are counted by the simulator (``/_sim/stats``), so they are the requests a vendor
would bill. Exits non-zero when a poll without changes sends more than two requests or the
first poll after the load enqueues anything.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from benchmarks.bulk_targets import TARGETS, Target, engine_installation
from syncloom.connectors.base import Record
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.poller import Tx
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.store import make_engine
from syncloom.testing import SimulatorHandle

CHANGES = (0, 10, 100, 1000)


class CountingTx:
    """A plain transaction whose enqueue only counts: the poll path without a runtime."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.enqueued = 0

    def enqueue(self, queue: str, fn: object, *args: object, **options: Any) -> str:
        self.enqueued += 1
        return f"job-{self.enqueued}"


def _api_requests(handle: SimulatorHandle) -> int:
    counts: dict[str, int] = handle.stats()["requests"]
    return sum(n for path, n in counts.items() if "/_sim/" not in path)


def main(argv: Sequence[str] | None = None) -> int:
    """Load, poll with 0..1000 changes and print the requests of each poll."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 records instead of 100,000")
    parser.add_argument("--records", type=int, default=None)
    args = parser.parse_args(argv)
    records = args.records or (5_000 if args.quick else 100_000)
    target = next(t for t in TARGETS if t.name == "intacct")
    with (
        SimulatorServer(CreatioSimulator(records=records)) as crm,
        SimulatorServer(IntacctSimulator(records=1)) as erp,
        tempfile.TemporaryDirectory() as tmp,
    ):
        return _run(target, records, crm.base_url, erp.base_url, Path(tmp))


def _run(target: Target, records: int, crm_url: str, erp_url: str, workdir: Path) -> int:
    with engine_installation(target, crm_url, erp_url, None, workdir) as (inst, bridge, url):
        run = bridge.run(BulkLoad.for_flow(inst, "accounts").run())
        print(f"linked {run.counts.get('created', 0)} of {records} accounts by a bulk load")
        engine = make_engine(url)

        @contextmanager
        def transaction() -> Iterator[CountingTx]:
            with engine.begin() as connection:
                yield CountingTx(connection)

        enqueued: list[str] = []

        def enqueue(tx: Tx, flow: str, record: Record) -> str:
            enqueued.append(str(record.key))
            return str(record.key)

        inst.attach(transaction, enqueue)
        handle, crm = SimulatorHandle(crm_url), inst.connections["crm"].connector
        keys = [k for page in bridge.run(_keys(crm)) for k in page][: max(CHANGES)]
        failed = False
        for label, k in [("first poll", 0), *((f"{k} changes", k) for k in CHANGES)]:
            for key in keys[:k]:
                bridge.run(crm.update("Account", key, {"Phone": f"+1 555 {k:04d}"}))
            before, enqueued[:] = _api_requests(handle), []
            reports = bridge.run(inst.unit("accounts").poll())
            sent = _api_requests(handle) - before
            read = sum(r.read for r in reports)
            print(f"{label:>12}: {sent:5d} requests, read {read:6d}, enqueued {len(enqueued):6d}")
            if label == "0 changes" and sent > 2:
                failed = True
            if label == "first poll" and enqueued:
                failed = True  # the load's watermark did not cover what it read
        engine.dispose()
        return 1 if failed else 0


async def _keys(connector: Any) -> list[list[str]]:
    return [page async for page in connector.iter_keys("Account")]


if __name__ == "__main__":
    raise SystemExit(main())
