"""Intacct benchmark: list customers through the connector and sageintacctsdk; batched writes.

Run with ``.venv/bin/python -m benchmarks.intacct_bench [--quick]``. Both clients read the
same simulator in one run; ``--quick`` uses 10x fewer records (10k listed, 1k written).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sageintacctsdk import SageIntacctSDK
from sageintacctsdk.apis import ApiBase

from syncloom.connectors.base import Op, OpKind
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator

CREDS = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")


def sdk_for(url: str) -> SageIntacctSDK:
    login = ApiBase()
    login._ApiBase__api_url = url
    login.set_sender_id(CREDS.sender_id)
    login.set_sender_password(CREDS.sender_password)
    sid = login.get_session_id(CREDS.user_id, CREDS.company_id, CREDS.user_password)
    sdk = SageIntacctSDK("simsender", "simsenderpw", "admin", "SIMCO", "admin", session_id=sid)
    for api in vars(sdk).values():
        if isinstance(api, ApiBase):
            api._ApiBase__api_url = url
    return sdk


async def list_with_connector(base_url: str) -> int:
    conn = IntacctConnector(base_url, CREDS)
    seen, cursor = 0, None
    while True:
        page = await conn.read_changes("CUSTOMER", None, cursor, page_size=2000)
        seen += len(page.records)
        cursor = page.cursor
        if cursor is None:
            break
    await conn.aclose()
    return seen


def list_with_sdk(base_url: str) -> int:
    sdk = sdk_for(base_url + "/ia/xml/xmlgw.phtml")
    return sum(len(page) for page in sdk.customers.get_all_generator())


async def write(base_url: str, count: int, batched: bool, prefix: str) -> None:
    conn = IntacctConnector(base_url, CREDS)
    ops = [
        Op(OpKind.CREATE, "CUSTOMER", f"{prefix}{n}", {"NAME": f"Bench {n}"}) for n in range(count)
    ]
    if batched:
        results = await conn.batch(ops)
        assert all(r.ok for r in results)
    else:
        for op in ops:
            await conn.create(op.entity, op.values, op.key)
    await conn.aclose()


def timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    result = fn() if callable(fn) else None
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:8.2f} s   {result if result is not None else ''}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10x fewer records")
    args = parser.parse_args()
    listed, written = (10_000, 1_000) if args.quick else (100_000, 10_000)
    start = time.perf_counter()
    sim = IntacctSimulator(records=listed, max_concurrent=8)
    print(f"seeded {listed} customers in {time.perf_counter() - start:.1f} s")
    with SimulatorServer(sim) as server:
        url = server.base_url
        conn_s = timed(
            "list via connector (read_changes, 2000/page)",
            lambda: asyncio.run(list_with_connector(url)),
        )
        sdk_s = timed("list via sageintacctsdk (get_all_generator)", lambda: list_with_sdk(url))
        batch_s = timed(
            f"write {written} via batch (100/call)",
            lambda: asyncio.run(write(url, written, True, "BB-")),
        )
        single_s = timed(
            f"write {written} one per call", lambda: asyncio.run(write(url, written, False, "BS-"))
        )
    print(
        f"list: sdk/connector time ratio {sdk_s / conn_s:.2f}x; "
        f"{listed / conn_s:,.0f} vs {listed / sdk_s:,.0f} records/s"
    )
    print(
        f"write: one-per-call/batched time ratio {single_s / batch_s:.2f}x; "
        f"{written / batch_s:,.0f} vs {written / single_s:,.0f} records/s"
    )


if __name__ == "__main__":
    main()
