"""One chaos round: edit Creatio, break everything, kill the worker, judge the outcome.

Shared by the chaos rounds and the secrets scan, which runs one round to produce the logs,
the database and the reports it then reads.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from syncloom.connectors.creatio import CreatioConnector
from syncloom.simulators.creatio.seeding import seed_id
from syncloom.store import make_engine
from tests.chaos.judge import PREFIX, RoundReport, Tally, judge
from tests.chaos.world import ChaosWorld, wait_until

# A Creatio Order in this status is synced (the orders flow's filter).
CONFIRMED = seed_id("OrderStatus", "2. Confirmation")
USD = seed_id("Currency", "USD")
FAULTS = "429:0.04,500:0.02,503:0.02,timeout:0.01,reset:0.02,slow:0.02"
CONVERGE_S = 150.0


async def _edit(
    world: ChaosWorld,
    rng: random.Random,
    round_no: int,
    new: int,
    updates: int,
    deletes: int = 0,
    orders: int = 0,
):
    crm = CreatioConnector(
        world.sims["crm"].url, username="Supervisor", password=world.credentials.crm_password
    )
    try:
        for index in range(new):
            name = f"{PREFIX}{round_no:02d}-{index:03d}"
            await crm.create("Account", {"Name": name, "Phone": f"+1 555 {rng.randrange(10**4)}"})
        earlier = [k async for page in crm.iter_keys("Account") for k in page]
        chosen = rng.sample(earlier, min(updates, len(earlier)))
        for key in chosen:
            await crm.update("Account", key, {"Phone": f"+44 20 {rng.randrange(10**6)}"})
        await _delete(world, crm, rng, deletes, set(chosen))
        for index in range(orders):
            await _order(world, crm, rng, f"{round_no:02d}-{index:03d}")
        return len(chosen)
    finally:
        await crm.aclose()


async def _order(world: ChaosWorld, crm: CreatioConnector, rng: random.Random, tag: str) -> None:
    """A Confirmed Order of a new Account with 1-4 lines, each of a new Product.

    The Account's name is not a chaos name, so no round deletes it under its Order.
    """
    account = await crm.create("Account", {"Name": f"Orders {tag}", "Phone": "+1 555 0100"})
    number = f"CHX-{tag}"
    order = await crm.create(
        "Order",
        {
            "Number": number,
            "Date": "2026-11-22T00:00:00Z",
            "AccountId": account.key.id,
            "StatusId": CONFIRMED,
            "CurrencyId": USD,
            "CurrencyRate": Decimal(1),
        },
    )
    expected = []
    for line in range(rng.randint(1, 4)):
        code = f"{number}-{line}"
        price = Decimal(rng.randrange(100, 10_000)) / 100
        quantity = Decimal(rng.randint(1, 20))
        product = await crm.create(
            "Product",
            {"Name": f"Chaos part {code}", "Code": code, "Price": price, "CurrencyId": USD},
        )
        await crm.create(
            "OrderProduct",
            {
                "OrderId": order.key.id,
                "ProductId": product.key.id,
                "Name": f"line {line}",
                "Quantity": quantity,
                "Price": price,
                "Amount": quantity * price,
            },
        )
        expected.append((code, quantity, price))
    world.orders[number] = expected


async def _delete(
    world: ChaosWorld, crm: CreatioConnector, rng: random.Random, count: int, spare: set[str]
) -> None:
    """Delete ``count`` chaos Accounts (some new this round, some synced long ago)."""
    if not count:
        return
    candidates = []
    async for page in crm.iter_keys("Account"):
        for key in page:
            record = await crm.get("Account", key)
            if record and str(record.values["Name"]).startswith(PREFIX) and key not in spare:
                candidates.append((key, str(record.values["Name"])))
    for key, name in rng.sample(sorted(candidates), min(count, len(candidates))):
        await crm.delete("Account", key)
        world.deleted.add(name)


def _started(world: ChaosWorld) -> int:
    if not world.log_file.exists():
        return 0
    return world.log_file.read_text(encoding="utf-8", errors="replace").count("worker started")


def _kill_at_random_points(world: ChaosWorld, rng: random.Random, kills: int) -> None:
    for _ in range(kills):
        starts = _started(world)
        process = world.spawn()
        came_up, _ = wait_until(lambda s=starts: _started(world) > s, 60)
        assert came_up, world.log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
        # The kill point is the chaos schedule itself, not a wait for an outcome.
        time.sleep(rng.uniform(0.2, 3.0))
        if rng.random() < 0.5:
            world.expire_sessions()
        world.kill(process)


def run_round(
    world: ChaosWorld,
    rng: random.Random,
    round_no: int,
    *,
    new: int,
    updates: int,
    kills: int,
    deletes: int = 0,
    orders: int = 0,
) -> RoundReport:
    """One round: edit, break things, kill the worker, let the last worker converge."""
    world.clear_faults()
    hooks_before = Counter(world.relay.counts) if world.relay else Counter()
    updated = asyncio.run(_edit(world, rng, round_no, new, updates, deletes, orders))
    before = {name: dict(sim.admin("stats")["faults_injected"]) for name, sim in world.sims.items()}
    world.set_faults(FAULTS)
    world.expire_sessions()
    _kill_at_random_points(world, rng, kills)
    world.spawn()
    if world.relay is not None:
        # What the relay still holds goes now, late: after the deliveries that followed it.
        asyncio.run(world.relay.flush())
    converged, took_s = wait_until(lambda: judge(world).clean, CONVERGE_S, interval_s=0.5)
    tally = judge(world)
    world.stop_workers()
    hooks = dict(Counter(world.relay.counts) - hooks_before) if world.relay else {}
    return _report(
        world,
        round_no,
        tally,
        before,
        (new, updated, kills),
        (converged, took_s),
        deleted=deletes,
        webhooks=hooks,
        orders=tally.orders,
        lines=tally.lines,
    )


def _report(
    world: ChaosWorld,
    round_no: int,
    tally: Tally,
    faults_before: dict[str, dict[str, int]],
    made: tuple[int, int, int],
    ending: tuple[bool, float],
    **extra: Any,
) -> RoundReport:
    """The round's figures: what it made (new, updated, kills), how it ended, and the faults."""
    new, updated, kills = made
    converged, took_s = ending
    faults = {
        name: _delta(sim.admin("stats")["faults_injected"], faults_before[name])
        for name, sim in world.sims.items()
    }
    return RoundReport(
        round=round_no,
        created=new,
        updated=updated,
        kills=kills,
        faults=faults,
        accounts=tally.accounts,
        lost=tally.lost,
        duplicated=tally.duplicated,
        divergent=tally.divergent,
        converged=converged,
        converge_s=round(took_s, 1),
        examples=tally.examples,
        **extra,
    )


def _delta(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {kind: count - before.get(kind, 0) for kind, count in now.items()}


def _ready(world: ChaosWorld, executor_id: str) -> int:
    if not world.log_file.exists():
        return 0
    text = world.log_file.read_text(encoding="utf-8", errors="replace")
    return text.count(f"worker {executor_id} is ready")


def _start(world: ChaosWorld, executor_id: str) -> subprocess.Popen[bytes]:
    before = _ready(world, executor_id)
    process = world.start_worker(executor_id)
    came_up, _ = wait_until(lambda: _ready(world, executor_id) > before, 240)
    assert came_up, world.log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
    return process


def _kill_in_the_cluster(
    world: ChaosWorld,
    rng: random.Random,
    live: dict[str, subprocess.Popen[bytes]],
    kills: int,
    round_no: int,
) -> list[str]:
    """SIGKILL random workers at random moments; each is restarted or taken over."""
    events = []
    for kill_no in range(kills):
        victim = rng.choice(sorted(live))
        time.sleep(rng.uniform(0.2, 3.0))
        if rng.random() < 0.5:
            world.expire_sessions()
        world.kill(live.pop(victim))
        if rng.random() < 0.5:
            # The same executor id comes back and resumes its own pending runs.
            live[victim] = _start(world, victim)
            events.append(f"{victim} restarted")
        else:
            # It never comes back: the survivor gets its runs, a fresh worker joins.
            world.recover(victim)
            fresh = f"chaos-r{round_no}k{kill_no}"
            live[fresh] = _start(world, fresh)
            events.append(f"{victim} taken over, {fresh} joined")
    return events


def run_cluster_round(
    world: ChaosWorld,
    rng: random.Random,
    round_no: int,
    executors: list[str],
    *,
    new: int,
    updates: int,
    kills: int,
) -> RoundReport:
    """A round on PostgreSQL with ``len(executors)`` ``syncloom worker`` processes.

    ``executors`` holds the ids that run at the end of the round; the next round starts the
    same ids, so every run a worker left pending is resumed by its own id or was taken over.
    """
    world.clear_faults()
    updated = asyncio.run(_edit(world, rng, round_no, new, updates))
    before = {name: dict(sim.admin("stats")["faults_injected"]) for name, sim in world.sims.items()}
    world.set_faults(FAULTS)
    world.expire_sessions()
    faults_on = time.monotonic()
    live = {executor_id: _start(world, executor_id) for executor_id in executors}
    events = _kill_in_the_cluster(world, rng, live, kills, round_no)
    converged, took_s = wait_until(lambda: judge(world).clean, CONVERGE_S, interval_s=0.5)
    since_faults_s = time.monotonic() - faults_on
    tally = judge(world)
    if not converged:
        print(unfinished_runs(world))
    world.stop_workers()
    executors[:] = sorted(live)
    return _report(
        world,
        round_no,
        tally,
        before,
        (new, updated, kills),
        (converged, took_s),
        database="postgresql",
        workers=len(live),
        events=events,
        since_faults_s=round(since_faults_s, 1),
    )


def unfinished_runs(world: ChaosWorld) -> list[tuple[str, ...]]:
    """Runs not finished and records parked, for the log of a round that did not converge."""
    runs = sa.text(
        "SELECT workflow_uuid, name, status, executor_id, queue_name, inputs FROM "
        "dbos.workflow_status WHERE status NOT IN ('SUCCESS', 'ERROR') ORDER BY created_at"
    )
    parked = sa.text("SELECT flow, record_key, error_class, status, error_text FROM dead_letters")
    with make_engine(world.database_url).connect() as connection:
        rows = [*connection.execute(runs), *connection.execute(parked)]
        return [tuple(str(v)[:300] for v in row) for row in rows]
