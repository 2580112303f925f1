"""F&O events end to end: each change reaches Creatio by a poll and by F&O's business event.

One world (Creatio and F&O simulators, the creatio_d365 Solution) serves the module; every
test makes its own documents. ``how`` is ``poll`` (the flow's Poller from its Watermark) or
``push`` (the business event F&O raises, signed, at the intake). Released products raise no
business event in F&O, so their updates arrive by poll only.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.simulators.creatio.seeding import seed_id
from syncloom.solutions import load_solution
from tests.solutions.events import Events, events, new_order, ran, sim_action
from tests.solutions.world import World, world

pytestmark = pytest.mark.e2e

HOW = ["poll", "push"]
ERP = "d365"
USD = seed_id("Currency", "USD")
CONFIRMATION = seed_id("OrderStatus", "2. Confirmation")
IN_PROGRESS = seed_id("OrderStatus", "3. In progress")
COMPLETED = seed_id("OrderStatus", "4. Completed")
PLANNED = seed_id("InvoicePaymentStatus", "Planned")
PAID = seed_id("InvoicePaymentStatus", "Paid")
CANCELED = seed_id("InvoicePaymentStatus", "Canceled")
OVERDUE = seed_id("InvoicePaymentStatus", "Overdue")


@pytest.fixture(scope="module")
def fo(tmp_path_factory):
    document = load_solution("creatio_d365")
    with world(tmp_path_factory.mktemp("fo"), document, ERP) as w, events(w) as ev:
        yield w, ev


def _change(ev: Events, how: str, key: RecordKey, flows: tuple[str, ...], change) -> list:
    """Settle earlier pushes, move the Watermarks past them, make the change, deliver it."""
    ev.settle()
    ev.quiet(*flows)
    mark = ev.mark()
    change()
    return ev.deliver(how, key, mark, *flows)


def _sales_order(w: World) -> tuple[RecordKey, str]:
    """A confirmed Creatio Order of account 5 with one line, sent to F&O: (order, SO number)."""
    ident = new_order(w, CONFIRMATION, 4, prefix="EVD")
    order = RecordKey("creatio", "Order", ident)
    outcome = w.sync("orders_sales_orders", order)
    assert outcome.action == "created", outcome
    number = w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id)
    return order, str(number.values["SalesOrderNumber"])


def _invoice(w: World) -> tuple[RecordKey, str]:
    """A posted F&O invoice of a new sales order: (its open transaction key, invoice number)."""
    _, number = _sales_order(w)
    event = sim_action(w, "post-invoice", {"dataAreaId": "usmf", "SalesOrderNumber": number})
    invoice = str(event["event"]["InvoiceNumber"])
    return RecordKey(ERP, "CustomerOpenTransactions", f"usmf/{invoice}"), invoice


def _creatio_invoice(w: World, invoice: str) -> dict:
    (found,) = w.search("creatio", "Invoice", UsrErpInvoiceNumber=invoice)
    return found.values


# -- customers ------------------------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_customer_created_in_fo_becomes_a_creatio_account(fo, how):
    w, ev = fo
    number = f"EV{uuid.uuid4().hex[:6].upper()}"
    key = RecordKey(ERP, "CustomersV3", f"usmf/{number}")
    values = {"OrganizationName": f"Made in F&O {number}", "CustomerGroupId": "10"}
    runs = _change(
        ev,
        how,
        key,
        ("customers_accounts",),
        lambda: w.run(w.erp(ERP).create("CustomersV3", values, key.id)),
    )
    assert ran(runs, "customers_accounts", key).action == "created"
    (account,) = w.search("creatio", "Account", UsrErpCustomerId=number)
    assert account.values["Name"] == values["OrganizationName"]
    assert account.values["UsrLegalEntity"] == "usmf"


@pytest.mark.parametrize("how", HOW)
def test_customer_updated_in_fo_updates_its_account(fo, how):
    w, ev = fo
    account = RecordKey("creatio", "Account", seed_id("Account", 4 if how == "poll" else 6))
    linked = w.sync("accounts_customers", account)
    customer = RecordKey.parse(linked.target_key)
    phone = f"+1 555 {uuid.uuid4().int % 10000:04d}"
    runs = _change(
        ev,
        how,
        customer,
        ("accounts_customers",),
        lambda: w.run(
            w.erp(ERP).update("CustomersV3", customer.id, {"PrimaryContactPhone": phone})
        ),
    )
    assert ran(runs, "accounts_customers", customer).action == "updated"
    assert w.get("creatio", "Account", account.id).values["Phone"] == phone


@pytest.mark.parametrize("how", HOW)
def test_credit_limit_and_hold_reach_the_creatio_account(fo, how):
    w, ev = fo
    account = w.get("creatio", "Account", seed_id("Account", 3 if how == "poll" else 8)).values
    key = RecordKey(
        ERP, "CustomersV3", f"{account['UsrLegalEntity']}/{account['UsrErpCustomerId']}"
    )
    change = {"CreditLimit": Decimal(54321), "OnHoldStatus": "Invoice"}
    runs = _change(
        ev,
        how,
        key,
        ("credit_accounts",),
        lambda: w.run(w.erp(ERP).update("CustomersV3", key.id, change)),
    )
    assert ran(runs, "credit_accounts", key).action in {"matched_updated", "updated"}
    reread = w.get("creatio", "Account", account["Id"]).values
    assert reread["UsrCreditLimit"] == Decimal(54321)
    assert reread["UsrOnHold"] is True


# -- sales orders ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_sales_order_confirmed_then_shipped_sets_the_creatio_order_status(fo, how):
    w, ev = fo
    order, number = _sales_order(w)
    key = RecordKey(ERP, "SalesOrderHeadersV2", f"usmf/{number}")
    body = {"dataAreaId": "usmf", "SalesOrderNumber": number}
    flows = ("sales_orders_status",)
    runs = _change(ev, how, key, flows, lambda: sim_action(w, "confirm-order", body))
    assert ran(runs, "sales_orders_status", key).action in {"matched_updated", "updated"}
    assert w.get("creatio", "Order", order.id).values["StatusId"] == IN_PROGRESS
    runs = _change(ev, how, key, flows, lambda: sim_action(w, "ship-order", body))
    assert ran(runs, "sales_orders_status", key).action == "updated"
    assert w.get("creatio", "Order", order.id).values["StatusId"] == COMPLETED
    lines = w.search(ERP, "SalesOrderLines", SalesOrderNumber=number)
    assert {line.values["SalesOrderLineStatus"] for line in lines} == {"Delivered"}


# -- invoices and payments ---------------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_invoice_posted_then_cancelled_by_a_credit_note(fo, how):
    w, ev = fo
    ev.settle()
    ev.quiet("invoices_status")
    mark = ev.mark()
    key, invoice = _invoice(w)
    runs = ev.deliver(how, key, mark, "invoices_status")
    assert ran(runs, "invoices_status", key).action == "created"
    assert _creatio_invoice(w, invoice)["PaymentStatusId"] == PLANNED
    body = {"dataAreaId": "usmf", "InvoiceNumber": invoice}
    runs = _change(
        ev, how, key, ("invoices_status",), lambda: sim_action(w, "cancel-invoice", body)
    )
    assert ran(runs, "invoices_status", key).action == "updated"
    cancelled = _creatio_invoice(w, invoice)
    assert cancelled["PaymentStatusId"] == CANCELED
    assert cancelled["Notes"].startswith("Amount due: 0")


@pytest.mark.parametrize("how", HOW)
def test_payment_posted_settles_the_invoice_and_is_applied_to_it(fo, how):
    w, ev = fo
    key, invoice = _invoice(w)
    assert w.sync("invoices_status", key).action == "created"
    flows = ("invoices_status", "payments_activities")
    body = {"dataAreaId": "usmf", "InvoiceNumber": invoice}
    runs = _change(ev, how, key, flows, lambda: sim_action(w, "post-payment", body))
    assert ran(runs, "invoices_status", key).action == "updated"
    settled = _creatio_invoice(w, invoice)
    assert settled["PaymentStatusId"] == PAID
    assert settled["PaymentAmount"] == settled["Amount"]
    if how == "poll":
        # The journal line is read by poll (the business event names the journal, not its
        # lines): it becomes an Activity on the account, naming the invoice it settled.
        (activity,) = [r for r in runs if r.flow == "payments_activities"]
        assert activity.action == "created"
        made = w.get("creatio", "Activity", RecordKey.parse(activity.outcome.target_key).id)
        assert invoice in made.values["DetailedResult"]
        assert made.values["AccountId"] == seed_id("Account", 5)


def test_invoice_past_its_due_date_shows_overdue(tmp_path):
    # Overdue is F&O's aging of an open invoice, not an edit, so no business event says it:
    # the next poll of the flow reads it.
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w, events(w) as ev:
        key, invoice = _invoice(w)
        assert w.sync("invoices_status", key).action == "created"
        ev.settle()
        ev.quiet("invoices_status")
        w.simulators[ERP].app.clock.advance(90 * 86400)
        runs = ev.poll("invoices_status")
        assert ran(runs, "invoices_status", key).action == "updated"
        assert _creatio_invoice(w, invoice)["PaymentStatusId"] == OVERDUE


# -- stock and products ----------------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_on_hand_change_updates_product_availability(fo, how):
    w, ev = fo
    item = "P00004" if how == "poll" else "P00006"
    key = RecordKey(ERP, "WarehousesOnHandV2", f"usmf/{item}/11")
    body = {"dataAreaId": "usmf", "ItemNumber": item, "InventoryWarehouseId": "11"}
    quantity = 40 + (uuid.uuid4().int % 50)
    runs = _change(
        ev,
        how,
        key,
        ("on_hand_products",),
        lambda: sim_action(w, "change-onhand", {**body, "OnHandQuantity": quantity}),
    )
    assert ran(runs, "on_hand_products").action in {"matched_updated", "updated"}
    stock = w.search(ERP, "WarehousesOnHandV2", dataAreaId="usmf", ItemNumber=item)
    total = sum((Decimal(str(s.values["TotalAvailableQuantity"])) for s in stock), Decimal(0))
    product = w.get("creatio", "Product", seed_id("Product", item)).values
    assert product["UsrAvailableQty"] == total


def test_released_product_price_unit_and_tax_group_reach_the_creatio_product(fo):
    w, ev = fo
    product = RecordKey("creatio", "Product", seed_id("Product", "P00005"))
    linked = w.sync("products", product)
    item = RecordKey.parse(linked.target_key)
    change = {"SalesPrice": Decimal("99.50"), "SalesUnitSymbol": "box"}
    change["SalesSalesTaxItemGroupCode"] = "REDUCED"
    runs = _change(
        ev,
        "poll",
        item,
        ("products", "product_tax_groups"),
        lambda: w.run(w.erp(ERP).update("ReleasedProductsV2", item.id, change)),
    )
    assert ran(runs, "products", item).action == "updated"
    assert ran(runs, "product_tax_groups", item).action in {"matched_updated", "updated"}
    values = w.get("creatio", "Product", product.id).values
    assert values["Price"] == Decimal("99.50")
    assert values["UsrUnit"] == "box"
    assert values["UsrTaxGroup"] == "REDUCED"
