"""The judge: compare what the three simulators hold with what the chaos flows should produce.

Every chaos Account (its name starts with ``Chaos``) should have exactly one Intacct CUSTOMER
and exactly one D365 customer of the same name, each carrying the Account's phone, and the
Account should carry its Intacct customer id (the write-back). Every Order the rounds created
should have exactly one D365 sales order holding exactly its lines, with the same quantities
and prices. A missing twin or line is *lost*, a second twin or line (or a line no Order has)
is *duplicated*, a single twin with other values is *divergent*.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.world import ChaosWorld

PREFIX = "Chaos "
REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "chaos"


@dataclass
class Tally:
    """Lost, duplicated and divergent records, with a few examples of each."""

    accounts: int = 0
    orders: int = 0
    lines: int = 0
    lost: int = 0
    duplicated: int = 0
    divergent: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.divergent == 0

    def note(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)


def _by_name(rows: list[dict[str, Any]], name_field: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        name = str(row.get(name_field) or "")
        if name.startswith(PREFIX):
            found.setdefault(name, []).append(row)
    return found


def _check_twins(
    tally: Tally, account: dict[str, Any], twins: list[dict[str, Any]], system: str, phone: str
) -> dict[str, Any] | None:
    if not twins:
        tally.lost += 1
        tally.note(f"{account['Name']}: no {system} twin")
        return None
    if len(twins) > 1:
        tally.duplicated += len(twins) - 1
        tally.note(f"{account['Name']}: {len(twins)} {system} twins")
        return None
    twin = twins[0]
    if str(twin.get(phone) or "") != str(account.get("Phone") or ""):
        tally.divergent += 1
        tally.note(f"{account['Name']}: {system} phone {twin.get(phone)!r}")
    return twin


def judge(world: ChaosWorld) -> Tally:
    """Count lost, duplicated and divergent records across the three systems now."""
    accounts = [a for a in world.sims["crm"].rows("Account") if a["Name"].startswith(PREFIX)]
    customers = _by_name(world.sims["erp"].rows("CUSTOMER"), "NAME")
    fo_customers = _by_name(world.sims["fo"].rows("CustomersV3"), "OrganizationName")
    tally = Tally(accounts=len(accounts))
    names = Counter(a["Name"] for a in accounts)
    tally.duplicated += sum(n - 1 for n in names.values())
    for account in accounts:
        name = account["Name"]
        twin = _check_twins(
            tally, account, customers.get(name, []), "intacct", "DISPLAYCONTACT.PHONE1"
        )
        if twin is not None and account.get("UsrErpCustomerId") != twin["CUSTOMERID"]:
            tally.divergent += 1
            tally.note(f"{name}: write-back {account.get('UsrErpCustomerId')!r}")
        _check_twins(tally, account, fo_customers.get(name, []), "d365", "PrimaryContactPhone")
    for name in sorted(world.deleted):
        _check_deleted(tally, name, customers.get(name, []), fo_customers.get(name, []))
    if world.orders:
        _check_orders(tally, world)
    return tally


def _check_orders(tally: Tally, world: ChaosWorld) -> None:
    """Each Order has one sales order, and it holds exactly the Order's lines, equal."""
    dump = world.sims["fo"].admin("dump")
    headers: dict[str, list[dict[str, Any]]] = {}
    for row in dump.get("SalesOrderHeadersV2", []):
        headers.setdefault(str(row.get("CustomersOrderReference") or ""), []).append(row)
    lines: dict[str, list[dict[str, Any]]] = {}
    for row in dump.get("SalesOrderLines", []):
        lines.setdefault(str(row.get("SalesOrderNumber") or ""), []).append(row)
    for number, expected in sorted(world.orders.items()):
        tally.orders += 1
        tally.lines += len(expected)
        found = headers.get(number, [])
        if len(found) != 1:
            if found:
                tally.duplicated += len(found) - 1
            else:
                tally.lost += 1 + len(expected)
            tally.note(f"order {number}: {len(found)} sales orders")
            continue
        _check_lines(tally, number, expected, lines.get(str(found[0]["SalesOrderNumber"]), []))


def _check_lines(
    tally: Tally,
    number: str,
    expected: list[tuple[str, Decimal, Decimal]],
    written: list[dict[str, Any]],
) -> None:
    by_item: dict[str, list[dict[str, Any]]] = {}
    for row in written:
        by_item.setdefault(str(row.get("ItemNumber") or ""), []).append(row)
    for item, quantity, price in expected:
        rows = by_item.pop(item, [])
        if not rows:
            tally.lost += 1
            tally.note(f"order {number}: line {item} missing")
            continue
        if len(rows) > 1:
            tally.duplicated += len(rows) - 1
            tally.note(f"order {number}: line {item} written {len(rows)} times")
        line = rows[0]
        got = (_decimal(line.get("OrderedSalesQuantity")), _decimal(line.get("SalesPrice")))
        if got != (quantity, price):
            tally.divergent += 1
            tally.note(f"order {number}: line {item} is {got}, not {(quantity, price)}")
    for item, rows in by_item.items():
        tally.duplicated += len(rows)
        tally.note(f"order {number}: line {item!r} not in the Order")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _check_deleted(
    tally: Tally, name: str, customers: list[dict[str, Any]], fo_customers: list[dict[str, Any]]
) -> None:
    """A deleted Account's Intacct customer is inactive (or never made); its D365 one is gone."""
    if len(customers) > 1:
        tally.duplicated += len(customers) - 1
        tally.note(f"{name} (deleted): {len(customers)} intacct twins")
    elif customers and str(customers[0].get("STATUS", "")).lower() != "inactive":
        tally.divergent += 1
        tally.note(f"{name} (deleted): intacct twin still {customers[0].get('STATUS')!r}")
    if fo_customers:
        tally.divergent += 1
        tally.note(f"{name} (deleted): d365 twin still there")


@dataclass
class RoundReport:
    """One round's figures: what it changed, what it broke, how it ended and how fast."""

    round: int
    created: int
    updated: int
    kills: int
    faults: dict[str, dict[str, int]]
    accounts: int
    lost: int
    duplicated: int
    divergent: int
    converged: bool
    converge_s: float
    examples: list[str]
    database: str = "sqlite"
    workers: int = 1
    # What happened to each killed worker: restarted under its id, or taken over.
    events: list[str] = field(default_factory=list)
    # From the moment the faults went on (kills and restarts included) to convergence.
    since_faults_s: float | None = None
    deleted: int = 0
    # What the webhook relay did this round: received, duplicated, held back, accepted...
    webhooks: dict[str, int] = field(default_factory=dict)
    # Orders with lines the rounds created so far, and their lines, all judged.
    orders: int = 0
    lines: int = 0


def write_reports(name: str, reports: list[RoundReport]) -> Path:
    """Keep the figures of a run next to the other test artifacts, as JSON."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps([asdict(r) for r in reports], indent=2), encoding="utf-8")
    return path
