"""One Order with its Account, products and lines: parents first, then the rest together.

The F&O simulator's request journal is the witness: how many requests it served at once, and
whether each parent's create had finished before a child's began. The Governor's
``max_in_flight`` bounds the fan-out; a lost reply on one line fails the job and its retry
writes no second line.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.budget import Limits
from syncloom.errors import TransientError
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.solutions import load_solution
from tests.solutions.world import world

pytestmark = pytest.mark.e2e

CRM, ERP = "creatio", "d365"
CONFIRMED = seed_id("OrderStatus", "2. Confirmation")
LINES = 4
MAX_IN_FLIGHT = 3


def _order_with_new_parents(w, lines: int) -> RecordKey:
    """A confirmed Order of a new Account, with ``lines`` lines of new Products."""
    tag = uuid.uuid4().hex[:6]
    usd = seed_id("Currency", "USD")
    account = w.run(
        w.crm.create(
            "Account",
            {
                "Name": f"Fan-out {tag}",
                "TypeId": CUSTOMER_TYPE,
                "UsrLegalEntity": "usmf",
                "UsrCurrencyId": usd,
                "UsrEmail": f"fanout.{tag}@example.com",
            },
            str(uuid.uuid4()),
        )
    )
    order = w.run(
        w.crm.create(
            "Order",
            {
                "Number": f"FAN-{tag}",
                "Date": "2026-11-22T00:00:00Z",
                "AccountId": account.key.id,
                "StatusId": CONFIRMED,
                "CurrencyId": usd,
                "CurrencyRate": Decimal(1),
                "UsrLegalEntity": "usmf",
            },
            str(uuid.uuid4()),
        )
    )
    for n in range(lines):
        product = w.run(
            w.crm.create(
                "Product",
                {
                    "Name": f"Fan-out part {n}",
                    "Code": f"FAN-{tag}-{n}",
                    "CurrencyId": usd,
                    "Price": Decimal(10 + n),
                    "UsrUnit": "ea",
                },
                str(uuid.uuid4()),
            )
        )
        w.run(
            w.crm.create(
                "OrderProduct",
                {
                    "OrderId": order.key.id,
                    "ProductId": product.key.id,
                    "Name": f"line {n}",
                    "Quantity": Decimal(n + 1),
                    "Price": Decimal(10 + n),
                    "Amount": Decimal((10 + n) * (n + 1)),
                },
                str(uuid.uuid4()),
            )
        )
    return order.key


def _posts(journal: list[dict], entity: str) -> list[dict]:
    return [r for r in journal if r["method"] == "POST" and r["path"] == f"/data/{entity}"]


def _overlap(requests: list[dict]) -> bool:
    """Whether any two of ``requests`` were in flight at the same time."""
    return any(
        a is not b and a["started"] < b["finished"] and b["started"] < a["finished"]
        for a in requests
        for b in requests
    )


def test_parents_then_header_then_lines_together_within_the_governor_budget(tmp_path):
    limits = Limits(rate_per_s=500, burst=100, max_in_flight=MAX_IN_FLIGHT)
    with world(tmp_path, load_solution("creatio_d365"), ERP, limits=limits) as w:
        order = _order_with_new_parents(w, LINES)
        simulator = w.simulators[ERP].app
        simulator.faults.latency_ms = 100  # requests last long enough to overlap when they can
        simulator.journal.clear()
        outcome = w.sync("orders_sales_orders", order)
        assert outcome.action == "created"
        journal = simulator.journal.entries()
        peak = simulator.journal.peak_in_flight

        customers = _posts(journal, "CustomersV3")
        products = _posts(journal, "ReleasedProductsV2")
        (header,) = _posts(journal, "SalesOrderHeadersV2")
        lines = _posts(journal, "SalesOrderLines")
        assert len(customers) == 1
        assert len(products) == LINES
        assert len(lines) == LINES
        # Parents first: every parent's create answered before the header was sent...
        assert all(p["finished"] < header["started"] for p in customers + products)
        # ...and the header answered before any line was sent.
        assert all(header["finished"] < line["started"] for line in lines)
        # Independent work overlapped: the products together, the lines together.
        assert _overlap(products)
        assert _overlap(lines)
        # Never more at once than the Connection's Governor allows.
        assert 1 < peak <= MAX_IN_FLIGHT
        number = w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id)
        written = w.search(
            ERP, "SalesOrderLines", SalesOrderNumber=number.values["SalesOrderNumber"]
        )
        assert sorted(line.values["LineDescription"] for line in written) == [
            f"line {n}" for n in range(LINES)
        ]


def test_a_lost_reply_on_one_line_fails_the_job_and_the_retry_writes_no_duplicate(
    tmp_path, monkeypatch
):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = _order_with_new_parents(w, LINES)
        connector = w.erp(ERP)
        real_create = connector.create
        lost: list[str | None] = []

        async def create_losing_one_reply(entity, values, key=None):
            created = await real_create(entity, values, key)
            if entity == "SalesOrderLines" and not lost:
                lost.append(key)
                raise TransientError("connection reset while reading the reply")
            return created

        monkeypatch.setattr(connector, "create", create_losing_one_reply)
        with pytest.raises(TransientError, match="reading the reply"):
            w.sync("orders_sales_orders", order)
        (header,) = w.search(ERP, "SalesOrderHeadersV2", CustomersOrderReference=_number(w, order))
        number = header.values["SalesOrderNumber"]
        # No branch was lost: the other lines finished although one failed.
        assert len(w.search(ERP, "SalesOrderLines", SalesOrderNumber=number)) == LINES
        monkeypatch.setattr(connector, "create", real_create)
        retried = w.sync("orders_sales_orders", order)
        assert retried.action == "created"
        assert (
            len(w.search(ERP, "SalesOrderHeadersV2", CustomersOrderReference=_number(w, order)))
            == 1
        )
        assert len(w.search(ERP, "SalesOrderLines", SalesOrderNumber=number)) == LINES


def _number(w, order: RecordKey) -> str:
    return str(w.get(CRM, "Order", order.id).values["Number"])


def test_a_parent_whose_create_never_finished_is_finished_before_its_child_points_at_it(
    tmp_path, monkeypatch
):
    # A product's twin key is reserved, then its create fails (as after a kill between the
    # two): the reserved key names no F&O record yet, so the retried Order must finish the
    # product's create rather than read the twin's item number from nothing.
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = _order_with_new_parents(w, LINES)
        connector = w.erp(ERP)
        real_create = connector.create
        failed: list[str | None] = []

        async def create_failing_one_product(entity, values, key=None):
            if entity == "ReleasedProductsV2" and not failed:
                failed.append(key)
                raise TransientError("connection reset before the request was sent")
            return await real_create(entity, values, key)

        monkeypatch.setattr(connector, "create", create_failing_one_product)
        with pytest.raises(TransientError, match="before the request was sent"):
            w.sync("orders_sales_orders", order)
        assert failed
        monkeypatch.setattr(connector, "create", real_create)
        retried = w.sync("orders_sales_orders", order)
        assert retried.action == "created"
        (header,) = w.search(ERP, "SalesOrderHeadersV2", CustomersOrderReference=_number(w, order))
        lines = w.search(ERP, "SalesOrderLines", SalesOrderNumber=header.values["SalesOrderNumber"])
        assert len(lines) == LINES
        items = {str(line.values["ItemNumber"]) for line in lines}
        assert len(items) == LINES
        for item in items:
            assert len(w.search(ERP, "ReleasedProductsV2", ItemNumber=item)) == 1
