"""D365 benchmark: write CustomersV3 through ``$batch`` vs one POST each, then read them back.

Run with ``.venv/bin/python -m benchmarks.d365_bench [--quick]``. Full size writes 100k
customers each way and reads everything back by ``@odata.nextLink`` paging (10,000 rows a
page) and by the connector's keyset ``read_changes``; ``--quick`` uses 10x fewer. The
simulator runs over TLS in a thread of the same process, so client and server share the
interpreter (and the GIL): the figures compare strategies on one machine, they are not a
forecast for a real environment (which also throttles).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.d365 import D365Connector
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.d365.app import D365Simulator


def connector(url: str, ca_file: str, batch_size: int = 1000) -> D365Connector:
    return D365Connector(
        base_url=url,
        tenant="simtenant",
        client_id="sim-client",
        client_secret="sim-secret",
        authority_host=url,
        ca_file=ca_file,
        batch_size=batch_size,
    )


def values(n: int) -> dict[str, object]:
    return {"OrganizationName": f"Bench customer {n}", "CustomerGroupId": "10"}


async def write_batched(conn: D365Connector, prefix: str, count: int) -> int:
    ops = [
        Op(OpKind.CREATE, "CustomersV3", f"usmf/{prefix}{n:07d}", values(n)) for n in range(count)
    ]
    failed = 0
    for start in range(0, count, 5000):
        results = await conn.batch(ops[start : start + 5000])
        failed += sum(1 for r in results if not r.ok)
    return failed


async def write_single(conn: D365Connector, prefix: str, count: int, concurrency: int) -> int:
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await conn.create("CustomersV3", values(n), f"usmf/{prefix}{n:07d}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return 0


async def read_pages(conn: D365Connector) -> tuple[int, int]:
    rows = pages = 0
    async for page in conn.iter_records("CustomersV3"):
        rows += len(page)
        pages += 1
    return rows, pages


async def read_changes(conn: D365Connector, page_size: int) -> int:
    seen, cursor = 0, None
    while True:
        page = await conn.read_changes("CustomersV3", None, cursor, page_size=page_size)
        seen += len(page.records)
        cursor = page.cursor
        if cursor is None:
            return seen


async def timed(label: str, count: int, work: object) -> float:
    started = time.perf_counter()
    outcome = await work  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    print(f"{label:<48} {count:>8} {elapsed:>9.2f} s {count / elapsed:>10.0f} /s   {outcome}")
    return elapsed


async def main(quick: bool) -> None:
    count = 10_000 if quick else 100_000
    certs = make_certificates()
    simulator = D365Simulator(seed=1, records=50)
    server = SimulatorServer(simulator, certfile=str(certs.cert_file), keyfile=str(certs.key_file))
    with server:
        conn = connector(server.base_url, str(certs.ca_file))
        await conn.get("CustomersV3", "usmf/C00002")  # sign in outside the timings
        print(f"{'operation':<48} {'records':>8} {'time':>11} {'rate':>12}   extra")
        batched = await timed(
            "create via $batch (1,000 ops/batch, 1 op/changeset)",
            count,
            write_batched(conn, "BB", count),
        )
        single = await timed(
            "create one POST each (8 concurrent)", count, write_single(conn, "BS", count, 8)
        )
        total = 2 * count + 50
        await timed("read all by nextLink paging (10,000/page)", total, read_pages(conn))
        await timed("read_changes keyset pages of 5,000", total, read_changes(conn, 5000))
        print(f"$batch is {single / batched:.1f}x faster than one request each")
        await conn.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10x fewer records")
    asyncio.run(main(parser.parse_args().quick))
