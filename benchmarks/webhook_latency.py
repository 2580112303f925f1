"""Webhook latency: from a Creatio edit to the Intacct customer written, at a steady rate.

Run with ``.venv/bin/python -m benchmarks.webhook_latency [--quick] [--rate 20] [--seconds 60]``.
One process holds the Creatio and Intacct simulators, the intake (FastAPI under uvicorn on
loopback, registered as the Creatio simulator's webhook target) and a launched runtime on a
SQLite file with the partitioned record queue (16 jobs at once). The benchmark edits one
distinct Account every ``1/rate`` seconds (open loop: edits do not wait for syncs), and for
each edit measures the time from just before the edit call to the record-log entry that the
record job writes right after the customer is written. The flow writes the customer id back
to the Account, so every edit also brings an echo delivery and a skipped job, as in real use.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from tests.e2e.world import flow_document, world

from syncloom.connectors.base import Connector
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.engine import jobs
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.intake import Intake, WebhookEndpoint
from syncloom.engine.intake_api import intake_router
from syncloom.engine.runtime import Runtime
from syncloom.log import configure_logging
from syncloom.simulators.common.server import SimulatorServer
from syncloom.store.models import RecordLogEntry

SECRET = "bench-hook-secret"
WRITES = ("created", "updated")
# The Intacct gateway (like the real one) serves two concurrent requests per company and
# answers more with 429; a budget above that only buys throttling and back-off.
GATEWAY_BUDGET = Limits(rate_per_s=500, burst=100, max_in_flight=2)


async def edit_steadily(crm_url: str, keys: list[str], rate: float) -> dict[str, datetime]:
    """Edit one Account per tick; returns when each edit was sent (UTC)."""
    crm = CreatioConnector(crm_url, username="Supervisor", password="Supervisor")
    sent: dict[str, datetime] = {}
    started = time.monotonic()
    try:
        for n, key in enumerate(keys):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[key] = datetime.now(UTC)
            await crm.update("Account", key, {"Name": f"Hooked {n}"})
    finally:
        await crm.aclose()
    return sent


def written_at(sessions: sa.orm.sessionmaker[sa.orm.Session]) -> dict[str, datetime]:
    """The first target write logged per Account id."""
    found: dict[str, datetime] = {}
    with sessions() as session:
        query = sa.select(RecordLogEntry.record_key, RecordLogEntry.created_at).where(
            RecordLogEntry.action.in_(WRITES)
        )
        for key, at in session.execute(query.order_by(RecordLogEntry.id)):
            found.setdefault(key.rsplit(":", 1)[1], at)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Edit at the rate for the duration; print p50/p99 and whether the goals held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--rate", type=float, default=20.0, help="edits per second")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(args.rate * seconds)
    configure_logging("console", "WARNING")  # one line per delivery would swamp the figures
    with (
        tempfile.TemporaryDirectory() as tmp,
        world(Path(tmp), flow_document(), records=count, limits=GATEWAY_BUDGET) as w,
    ):
        runtime = Runtime(w.database_url, executor_id="bench-webhooks")
        runtime.register_queue(jobs.RECORD_QUEUE, partitioned=True, worker_concurrency=16)
        runtime.launch()
        try:
            jobs.install(w.inst, runtime)
            endpoint = WebhookEndpoint(CreatioWebhookReceiver(), SECRET)
            intake = Intake(
                transaction=runtime.transaction,
                sessions=w.sessions,
                endpoints={w.inst.connections["crm"].connection_id: endpoint},
                clock=SystemClock(),
            )
            app = FastAPI()
            app.include_router(intake_router(intake))
            with SimulatorServer(app) as server:
                hook = {"url": f"{server.base_url}/hooks/acme/crm", "secret": SECRET}
                httpx.post(
                    f"{w.crm_sim.base_url}/_sim/webhooks", json={**hook, "entities": ["Account"]}
                ).raise_for_status()
                keys = sorted(k for page in w.bridge.run(_keys(w.crm)) for k in page)[:count]
                sent = asyncio.run(edit_steadily(w.crm_sim.base_url, keys, args.rate))
                deadline = time.monotonic() + 120
                while len(written_at(w.sessions)) < count and time.monotonic() < deadline:
                    time.sleep(0.5)
                done = written_at(w.sessions)
        finally:
            runtime.shutdown()
    return report(sent, done, count, args.rate, seconds)


def report(
    sent: dict[str, datetime], done: dict[str, datetime], count: int, rate: float, seconds: float
) -> int:
    """Print the latency percentiles; non-zero when an edit never reached the target."""
    latencies = sorted(
        (done[key] - at).total_seconds() * 1000 for key, at in sent.items() if key in done
    )
    if not latencies:
        print("no edit reached the target")
        return 1
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49], cuts[98]
    print(
        f"{len(latencies)} of {count} edits written ({rate:.0f}/s for {seconds:.0f} s): "
        f"p50 {p50:.0f} ms (goal 200), p99 {p99:.0f} ms (goal 1000), max {latencies[-1]:.0f} ms"
    )
    return 0 if len(latencies) == count else 1


async def _keys(connector: Connector) -> list[list[str]]:
    return [list(page) async for page in connector.iter_keys("Account")]


if __name__ == "__main__":
    raise SystemExit(main())
