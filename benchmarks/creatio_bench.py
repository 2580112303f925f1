"""Creatio benchmark: list Accounts through the connector; $batch writes vs one POST each.

Run with ``.venv/bin/python -m benchmarks.creatio_bench [--quick]``. Full size lists 100k
Accounts and writes 10k; ``--quick`` uses 10x fewer. The simulator runs in a thread of the
same process, so client and server share the interpreter (and the GIL): the figures compare
strategies on one machine, they are not a forecast for a real tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.creatio import CreatioConnector
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator


def connector(url: str) -> CreatioConnector:
    return CreatioConnector(url, username="Supervisor", password="Supervisor")


async def list_changes(url: str, page_size: int) -> int:
    conn = connector(url)
    seen, cursor = 0, None
    while True:
        page = await conn.read_changes("Account", None, cursor, page_size=page_size)
        seen += len(page.records)
        cursor = page.cursor
        if cursor is None:
            break
    await conn.aclose()
    return seen


async def list_keys(url: str, page_size: int) -> int:
    conn = connector(url)
    seen = 0
    async for page in conn.iter_keys("Account", page_size=page_size):
        seen += len(page)
    await conn.aclose()
    return seen


def values(n: int, tag: str) -> dict[str, object]:
    return {"Name": f"Bench {tag} {n}", "Code": f"B{tag}{n}", "UsrErpCustomerId": f"X{n}"}


async def write_batched(url: str, count: int) -> int:
    conn = connector(url)
    ops = [Op(OpKind.CREATE, "Account", str(uuid.uuid4()), values(n, "b")) for n in range(count)]
    done = 0
    for start in range(0, count, 1000):
        results = await conn.batch(ops[start : start + 1000])
        done += sum(r.ok for r in results)
    await conn.aclose()
    return done


async def write_single(url: str, count: int) -> int:
    conn = connector(url)
    for n in range(count):
        await conn.create("Account", values(n, "s"), str(uuid.uuid4()))
    await conn.aclose()
    return count


def timed(label: str, work) -> float:
    start = time.perf_counter()
    count = asyncio.run(work)
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {count:>8} records {elapsed:8.2f} s {count / elapsed:10.0f} rec/s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10x fewer records")
    args = parser.parse_args()
    listed, written = (10_000, 1_000) if args.quick else (100_000, 10_000)
    start = time.perf_counter()
    simulator = CreatioSimulator(records=listed)
    print(f"seeded {listed} Accounts in {time.perf_counter() - start:.1f} s")
    with SimulatorServer(simulator) as server:
        url = server.base_url
        t_changes = timed("list: read_changes, keyset pages of 5000", list_changes(url, 5000))
        timed("list: read_changes, keyset pages of 1000", list_changes(url, 1000))
        timed("list: iter_keys ($select=Id), pages of 5000", list_keys(url, 5000))
        t_batch = timed("write: $batch, 100 per call", write_batched(url, written))
        t_single = timed("write: one POST each", write_single(url, written))
    print(f"ratio one-POST / $batch: {t_single / t_batch:.1f}x")
    print(f"listing: {listed / t_changes:.0f} Accounts/s with pages of 5000")


if __name__ == "__main__":
    main()
