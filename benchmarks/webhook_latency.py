"""Webhook latency: from a Creatio edit to the Intacct customer written, at a steady rate.

Run with ``.venv/bin/python -m benchmarks.webhook_latency [--quick] [--rate 20] [--seconds 60]``.

syncloom runs as it is deployed, in processes of its own: ``syncloom run`` (runtime, portal
and webhook intake in one process) over a SQLite file by default, or with ``--postgres URL``
one ``syncloom web`` (the intake) and ``--workers N`` ``syncloom worker`` processes over a
fresh PostgreSQL database. This process plays the outside world: the Creatio and Intacct
simulators (threads on loopback; Creatio posts a signed notice to the intake on every write,
as a business process would) and the person editing. It edits one distinct Account every
``1/rate`` seconds (open loop: edits do not wait for syncs), and for each edit measures the
time from just before the edit call to the record-log entry the record job writes right after
the customer is written. The flow writes the customer id back to the Account, so every edit
also brings an echo notice and a job that skips it, as in real use.

The Intacct gateway serves two concurrent requests per company, as the real one does, and the
Connection's budget says so (``--gateway-slots`` to change both).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from tests.e2e.world import flow_document
from tests.scale.cluster import HOOK_SECRET, Cluster, cluster

from syncloom.connectors.creatio import CreatioConnector
from syncloom.store.models import RecordLogEntry

WRITES = ("created", "updated")


def budget(slots: int) -> dict[str, dict[str, float]]:
    """The Connections' budget: the gateway's concurrent requests, a rate far above the load."""
    return {"limits": {"rate_per_s": 500, "burst": 100, "max_in_flight": slots}}


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


async def account_keys(crm_url: str, count: int) -> list[str]:
    """The first ``count`` Account ids, in key order."""
    crm = CreatioConnector(crm_url, username="Supervisor", password="Supervisor")
    try:
        keys = sorted([k async for page in crm.iter_keys("Account") for k in page])
    finally:
        await crm.aclose()
    return keys[:count]


def written_at(world: Cluster) -> dict[str, datetime]:
    """The first target write logged per Account id."""
    found: dict[str, datetime] = {}
    query = sa.select(RecordLogEntry.record_key, RecordLogEntry.created_at).where(
        RecordLogEntry.action.in_(WRITES)
    )
    with world.sessions() as session:
        for key, at in session.execute(query.order_by(RecordLogEntry.id)):
            found.setdefault(key.rsplit(":", 1)[1], at)
    return found


def start(world: Cluster, workers: int, scaled: bool) -> str:
    """Start the syncloom processes; returns the URL that takes webhooks, once it answers."""
    if scaled:
        base = world.start_web()
        for n in range(workers):
            world.start_worker(f"worker-{n + 1}")
    else:
        base = world.start_run()
    deadline = time.monotonic() + 60
    while True:
        world.check_alive()
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code < 500:
                return base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("syncloom did not start within 60 s")
        time.sleep(0.25)


def main(argv: Sequence[str] | None = None) -> int:
    """Edit at the rate for the duration; print p50/p99 and whether the goals held."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--rate", type=float, default=20.0, help="edits per second")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument(
        "--postgres", metavar="URL", help="scaled out on a fresh database on this server"
    )
    parser.add_argument("--workers", type=int, default=1, help="syncloom workers (PostgreSQL)")
    parser.add_argument("--gateway-slots", type=int, default=2)
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="leave the SQLite file and logs in DIR"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(args.rate * seconds)
    with ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        world = stack.enter_context(
            cluster(
                args.postgres,
                tmp,
                records=count,
                flow=flow_document(),  # webhooks only: no schedule, every job comes from a notice
                limits=budget(args.gateway_slots),
            )
        )
        base = start(world, args.workers, scaled=bool(args.postgres))
        hook = {"url": f"{base}/hooks/acme/crm", "secret": HOOK_SECRET, "entities": ["Account"]}
        httpx.post(f"{world.crm_url}/_sim/webhooks", json=hook).raise_for_status()
        keys = asyncio.run(account_keys(world.crm_url, count))
        sent = asyncio.run(edit_steadily(world.crm_url, keys, args.rate))
        deadline = time.monotonic() + 180
        while len(written_at(world)) < count and time.monotonic() < deadline:
            world.check_alive()
            time.sleep(0.5)
        done = written_at(world)
    shape = f"PostgreSQL, {args.workers} worker(s)" if args.postgres else "SQLite, syncloom run"
    return report(sent, done, count, args.rate, seconds, shape)


def report(
    sent: dict[str, datetime],
    done: dict[str, datetime],
    count: int,
    rate: float,
    seconds: float,
    shape: str,
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
        f"{shape}: {len(latencies)} of {count} edits written ({rate:.0f}/s for {seconds:.0f} s): "
        f"p50 {p50:.0f} ms (goal 200), p99 {p99:.0f} ms (goal 1000), max {latencies[-1]:.0f} ms"
    )
    return 0 if len(latencies) == count else 1


if __name__ == "__main__":
    raise SystemExit(main())
