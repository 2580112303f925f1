"""Creatio events end to end: each change reaches the ERP by a poll and by Creatio's push.

One world per ERP Solution (Creatio with F&O, Creatio with Intacct) serves the module; every
test makes its own records. ``how`` says how the change arrives: ``poll`` runs the flow's
Poller from its Watermark, ``push`` waits for the simulator's signed notice at the intake.
"""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.flows import Side
from syncloom.errors import AlreadyExistsError
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.solutions import load_solution
from syncloom.store.models import LinkState
from tests.solutions.events import Events, events, new_order, ran
from tests.solutions.world import World, world

pytestmark = pytest.mark.e2e

HOW = ["poll", "push"]
ACCOUNTS = "accounts_customers"
USD = seed_id("Currency", "USD")
WON = seed_id("OpportunityStage", "Closed won")
PROPOSAL = seed_id("OpportunityStage", "Proposal")
QUALIFICATION = seed_id("OpportunityStage", "Qualification")
DRAFT = seed_id("OrderStatus", "1. Draft")
CONFIRMATION = seed_id("OrderStatus", "2. Confirmation")
SALES_REP = "5a1e5000-0000-4000-8000-00000000a001"  # listed in both Solutions' sales_reps


class Erp:
    """What differs between the two ERPs for the same Creatio event."""

    def __init__(self, name: str, customer: str, fields: dict[str, str], active: tuple) -> None:
        self.name = name
        self.customer = customer
        self.fields = fields  # Creatio-side meaning -> the ERP customer's field
        self.active = active  # (field, value when active, value when inactive)


ERPS = {
    "d365": Erp(
        "d365",
        "CustomersV3",
        {
            "name": "OrganizationName",
            "terms": "PaymentTerms",
            "tax_group": "SalesTaxGroup",
            "territory": "SalesDistrict",
            "owner": "EmployeeResponsibleNumber",
            "id": "CustomerAccount",
        },
        ("OnHoldStatus", "No", "All"),
    ),
    "intacct": Erp(
        "intacct",
        "CUSTOMER",
        {
            "name": "NAME",
            "terms": "TERMNAME",
            "tax_group": "DISPLAYCONTACT.TAXGROUP",
            "territory": "TERRITORYID",
            "owner": "CUSTREPID",
            "id": "CUSTOMERID",
        },
        ("STATUS", "active", "inactive"),
    ),
}
TERMS = {"d365": "Net60", "intacct": "N60"}
OWNER = {"d365": "000101", "intacct": "SR-101"}


@pytest.fixture(scope="module", params=["d365", "intacct"])
def rig(request, tmp_path_factory):
    erp = ERPS[request.param]
    document = load_solution(f"creatio_{erp.name}")
    with world(tmp_path_factory.mktemp(erp.name), document, erp.name) as w, events(w) as ev:
        yield erp, w, ev


@pytest.fixture(scope="module")
def fo(tmp_path_factory):
    document = load_solution("creatio_d365")
    with world(tmp_path_factory.mktemp("fo"), document, "d365") as w, events(w) as ev:
        yield w, ev


# -- helpers ------------------------------------------------------------------------------
def _new_account(w: World, ident: str | None = None, **values):
    ident = ident or str(uuid.uuid4())
    fields = {
        "Name": f"Event Test {ident[:8]}",
        "TypeId": CUSTOMER_TYPE,
        "UsrEmail": f"ev.{ident[:6]}@events.example.com",
        "UsrLegalEntity": "usmf",
        "UsrCurrencyId": USD,
        "CountryId": seed_id("Country", "US"),
        "UsrTaxRegistrationNumber": f"US{ident[:9]}",
        **values,
    }
    return w.run(w.crm.create("Account", fields, ident))


def _change(ev: Events, how: str, key: RecordKey, flow: str, change) -> list:
    """Settle earlier pushes, move the Watermark past them, make the change, deliver it."""
    ev.settle()
    ev.quiet(flow)
    mark = ev.mark()
    change()
    return ev.deliver(how, key, mark, flow)


def _synced_account(erp: Erp, w: World, ev: Events, **values):
    """A new account already synced to an ERP customer; returns (account key, customer id)."""
    account = _new_account(w, **values)
    outcome = w.sync(ACCOUNTS, account.key)
    assert outcome.action == "created", outcome
    return account.key, RecordKey.parse(outcome.target_key).id


def _customer(erp: Erp, w: World, ident: str) -> dict:
    return w.get(erp.name, erp.customer, ident).values


def _twin(w: World, flow: str, key: RecordKey) -> str | None:
    return w.inst.unit(flow).job.binder.to_other(str(key), Side.CRM)


# -- new and changed accounts -------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_new_account_becomes_an_erp_customer(rig, how):
    erp, w, ev = rig
    ident = str(uuid.uuid4())
    key = RecordKey("creatio", "Account", ident)
    runs = _change(ev, how, key, ACCOUNTS, lambda: _new_account(w, ident))
    job = ran(runs, ACCOUNTS, key)
    assert job.action == "created"
    account = w.get("creatio", "Account", ident).values
    customer = _customer(erp, w, RecordKey.parse(job.outcome.target_key).id)
    assert customer[erp.fields["name"]] == account["Name"]
    assert account["UsrErpCustomerId"] == customer[erp.fields["id"]]


@pytest.mark.parametrize("how", HOW)
def test_account_name_and_payment_terms_edit_updates_the_customer(rig, how):
    erp, w, ev = rig
    account, customer_id = _synced_account(erp, w, ev)
    values = {"Name": f"Renamed {customer_id[-6:]}", "UsrPaymentTerms": "Net60"}
    runs = _change(
        ev, how, account, ACCOUNTS, lambda: w.run(w.crm.update("Account", account.id, values))
    )
    assert ran(runs, ACCOUNTS, account).action == "updated"
    customer = _customer(erp, w, customer_id)
    assert customer[erp.fields["name"]] == values["Name"]
    assert customer[erp.fields["terms"]] == TERMS[erp.name]


@pytest.mark.parametrize("how", HOW)
def test_account_tax_group_edit_moves_the_customer_and_clearing_it_keeps_it(rig, how):
    erp, w, ev = rig
    account, customer_id = _synced_account(erp, w, ev)
    field = erp.fields["tax_group"]
    before = _customer(erp, w, customer_id).get(field)
    # An edit that leaves the tax group empty never clears the customer's own group.
    rename = {"Name": f"Taxed {customer_id[-6:]}"}
    runs = _change(
        ev, how, account, ACCOUNTS, lambda: w.run(w.crm.update("Account", account.id, rename))
    )
    assert ran(runs, ACCOUNTS, account).action == "updated"
    assert _customer(erp, w, customer_id).get(field) == before
    # Setting it moves the customer to the group.
    group = {"UsrSalesTaxGroup": "EXEMPT"}
    runs = _change(
        ev, how, account, ACCOUNTS, lambda: w.run(w.crm.update("Account", account.id, group))
    )
    assert ran(runs, ACCOUNTS, account).action == "updated"
    assert _customer(erp, w, customer_id)[field] == "EXEMPT"
    # Clearing it in Creatio does not clear it in the ERP, which needs one.
    clear = {"UsrSalesTaxGroup": "", "Name": f"Untaxed {customer_id[-6:]}"}
    runs = _change(
        ev, how, account, ACCOUNTS, lambda: w.run(w.crm.update("Account", account.id, clear))
    )
    assert ran(runs, ACCOUNTS, account).action == "updated"
    assert _customer(erp, w, customer_id)[field] == "EXEMPT"


@pytest.mark.parametrize("how", HOW)
def test_new_contact_of_an_account_becomes_its_customers_contact(rig, how):
    erp, w, ev = rig
    account = _new_account(w)
    ident = str(uuid.uuid4())
    values = {
        "Name": "Ada Event",
        "GivenName": "Ada",
        "Surname": "Event",
        "Email": f"ada.{ident[:6]}@events.example.com",
        "AccountId": account.key.id,
    }
    key = RecordKey("creatio", "Contact", ident)
    runs = _change(ev, how, key, "contacts", lambda: w.run(w.crm.create("Contact", values, ident)))
    job = ran(runs, "contacts", key)
    assert job.action == "created"
    # The account was synced first, as the contact's parent.
    assert _twin(w, ACCOUNTS, account.key) is not None
    contact = w.get(erp.name, RecordKey.parse(job.outcome.target_key).entity, _id(job))
    email = "PrimaryEmailAddress" if erp.name == "d365" else "EMAIL1"
    assert contact.values[email] == values["Email"]


def _id(job) -> str:
    return RecordKey.parse(job.outcome.target_key).id


# -- opportunities, orders, products --------------------------------------------------------
def _opportunity(w: World, stage: str):
    ident = str(uuid.uuid4())
    product = w.get("creatio", "Product", seed_id("Product", "P00002"))
    opportunity = w.run(
        w.crm.create(
            "Opportunity",
            {
                "Title": f"Event deal {ident[:6]}",
                "StageId": stage,
                "AccountId": seed_id("Account", 5),
                "UsrCurrencyId": USD,
            },
            ident,
        )
    )
    price = product.values["Price"]
    w.run(
        w.crm.create(
            "OpportunityProductInterest",
            {
                "OpportunityId": ident,
                "ProductId": product.key.id,
                "Quantity": Decimal(3),
                "Price": price,
                "Amount": price * 3,
            },
            str(uuid.uuid4()),
        )
    )
    return opportunity


OPPORTUNITY_FLOWS = {"d365": "opportunities_quotations", "intacct": "opportunities_invoices"}
DOCUMENTS = {"d365": "SalesQuotationHeadersV2", "intacct": "ARINVOICE"}


@pytest.mark.parametrize("stage", ["won", "proposal"])
@pytest.mark.parametrize("how", HOW)
def test_opportunity_reaching_won_or_proposal_becomes_an_erp_document(rig, how, stage):
    erp, w, ev = rig
    flow = OPPORTUNITY_FLOWS[erp.name]
    opportunity = _opportunity(w, QUALIFICATION)
    assert w.sync(flow, opportunity.key).action == "skipped"
    target_stage = WON if stage == "won" else PROPOSAL
    runs = _change(
        ev,
        how,
        opportunity.key,
        flow,
        lambda: w.run(w.crm.update("Opportunity", opportunity.key.id, {"StageId": target_stage})),
    )
    job = ran(runs, flow, opportunity.key)
    if erp.name == "intacct" and stage == "proposal":
        # The Intacct Solution invoices won deals only; a proposal is not an invoice yet.
        assert (job.action, job.outcome.reason) == ("skipped", "filtered out")
        return
    assert job.action == "created"
    assert RecordKey.parse(job.outcome.target_key).entity == DOCUMENTS[erp.name]
    reread = w.get("creatio", "Opportunity", opportunity.key.id).values
    assert reread["UsrErpQuotationId"]


@pytest.mark.parametrize("how", HOW)
def test_order_confirmed_becomes_a_sales_order(fo, how):
    w, ev = fo
    ident = new_order(w, DRAFT, 2)
    key = RecordKey("creatio", "Order", ident)
    flow = "orders_sales_orders"
    assert w.sync(flow, key).action == "skipped"  # a draft is not sent
    runs = _change(
        ev, how, key, flow, lambda: w.run(w.crm.update("Order", ident, {"StatusId": CONFIRMATION}))
    )
    job = ran(runs, flow, key)
    assert job.action == "created"
    header = w.get("d365", "SalesOrderHeadersV2", _id(job)).values
    lines = w.search("d365", "SalesOrderLines", SalesOrderNumber=header["SalesOrderNumber"])
    assert [line.values["ItemNumber"] for line in lines] == ["P00003"]
    assert (
        w.get("creatio", "Order", ident).values["UsrErpOrderNumber"] == header["SalesOrderNumber"]
    )


PRODUCT_FLOWS = {"d365": "products", "intacct": "products_items"}
PRICES = {"d365": ("ReleasedProductsV2", "SalesPrice"), "intacct": ("ITEM", "BASEPRICE")}


@pytest.mark.parametrize("how", HOW)
def test_product_price_and_availability_update_the_erp_item(rig, how):
    erp, w, ev = rig
    flow = PRODUCT_FLOWS[erp.name]
    code = f"EVP-{uuid.uuid4().hex[:6]}"
    product = w.run(
        w.crm.create(
            "Product",
            {"Name": f"Event part {code}", "Code": code, "CurrencyId": USD, "Price": Decimal(10)},
            str(uuid.uuid4()),
        )
    )
    created = w.sync(flow, product.key)
    assert created.action == "created"
    item = RecordKey.parse(created.target_key)
    changes = {"Price": Decimal("12.50"), "IsArchive": True}
    runs = _change(
        ev, how, product.key, flow, lambda: w.run(w.crm.update("Product", product.key.id, changes))
    )
    assert ran(runs, flow, product.key).action == "updated"
    entity, price = PRICES[erp.name]
    values = w.get(erp.name, entity, item.id).values
    assert values[price] == Decimal("12.50")
    if erp.name == "intacct":
        # An archived product is no longer sold: its Intacct item is inactive.
        assert values["STATUS"] == "inactive"


# -- ownership, merge, deactivation ------------------------------------------------------------
def _sales_rep(w: World) -> str:
    with contextlib.suppress(AlreadyExistsError):  # made by an earlier test of this world
        w.run(w.crm.create("Contact", {"Name": "Sam Rep", "Surname": "Rep"}, SALES_REP))
    return SALES_REP


@pytest.mark.parametrize("how", HOW)
def test_account_transferred_to_another_owner_and_territory(rig, how):
    erp, w, ev = rig
    account, customer_id = _synced_account(erp, w, ev)
    values = {"OwnerId": _sales_rep(w), "UsrTerritory": "WEST"}
    runs = _change(
        ev, how, account, ACCOUNTS, lambda: w.run(w.crm.update("Account", account.id, values))
    )
    assert ran(runs, ACCOUNTS, account).action == "updated"
    customer = _customer(erp, w, customer_id)
    assert customer[erp.fields["territory"]] == "WEST"
    assert customer[erp.fields["owner"]] == OWNER[erp.name]


def _merge(w: World, survivor: str, duplicate: str) -> None:
    base = w.simulators["creatio"].base_url
    body = {"entity": "Account", "survivor": survivor, "duplicates": [duplicate]}
    httpx.post(f"{base}/_sim/merge", json=body).raise_for_status()


def _link_state(w: World, key: RecordKey) -> LinkState | None:
    link = w.inst.unit(ACCOUNTS).job.binder.find(str(key), Side.CRM)
    return link.state if link else None


@pytest.mark.parametrize(
    ("how", "order"), [("poll", "as_sent"), ("push", "as_sent"), ("push", "duplicate_first")]
)
def test_merged_account_keeps_one_customer_linked_to_the_survivor(rig, how, order):
    erp, w, ev = rig
    duplicate, customer_id = _synced_account(erp, w, ev)
    contact = str(uuid.uuid4())
    w.run(w.crm.create("Contact", {"Name": "Moved Person", "AccountId": duplicate.id}, contact))
    survivor = _new_account(w, UsrTaxRegistrationNumber="", UsrEmail="").key
    before = len(w.search(erp.name, erp.customer))
    ev.settle()
    ev.quiet(ACCOUNTS)
    mark = ev.mark()
    _merge(w, survivor.id, duplicate.id)
    if how == "poll":
        runs = ev.poll(ACCOUNTS)  # a poll never sees a delete; the survivor's update suffices
    else:
        jobs = ev.pushed_jobs(duplicate, mark)
        if order == "duplicate_first":  # hints may be handled in any order; the end is the same
            jobs.sort(key=lambda j: ev.queue.jobs[j][1] != str(duplicate))
        runs = ev.queue.run(w, jobs)
    survivor_values = w.get("creatio", "Account", survivor.id).values
    # The merge gave the survivor the duplicate's ERP id and its contact.
    assert survivor_values["UsrErpCustomerId"] == _customer(erp, w, customer_id)[erp.fields["id"]]
    assert w.get("creatio", "Contact", contact).values["AccountId"] == survivor.id
    if order == "duplicate_first":
        job = ran(runs, ACCOUNTS, duplicate)
        assert job.action == "merged", job.outcome
    # One customer, linked to the survivor; the duplicate's link retired; nothing deleted.
    assert _twin(w, ACCOUNTS, survivor) == str(RecordKey(erp.name, erp.customer, customer_id))
    assert _link_state(w, duplicate) in {None, LinkState.UNLINKED}
    assert len(w.search(erp.name, erp.customer)) == before
    field, active, _ = erp.active
    assert _customer(erp, w, customer_id)[field] == active
    # Whatever arrives later for either record writes nothing new.
    again = ev.poll(ACCOUNTS)
    assert all(r.action in {"skipped", "unchanged"} for r in again), [r.action for r in again]


def test_merging_two_synced_accounts_keeps_the_survivors_customer_and_retires_the_other(rig):
    erp, w, ev = rig
    survivor, kept = _synced_account(erp, w, ev)
    duplicate, retired = _synced_account(erp, w, ev)
    ev.settle()
    ev.quiet(ACCOUNTS)
    mark = ev.mark()
    _merge(w, survivor.id, duplicate.id)
    runs = ev.pushed(duplicate, mark)  # only Creatio's delete notice says the duplicate is gone
    assert ran(runs, ACCOUNTS, duplicate).action == "inactivated"
    field, active, inactive = erp.active
    assert _customer(erp, w, kept)[field] == active
    assert _customer(erp, w, retired)[field] == inactive  # blocked, never deleted
    assert _twin(w, ACCOUNTS, survivor) == str(RecordKey(erp.name, erp.customer, kept))
    assert _link_state(w, duplicate) is LinkState.UNLINKED


@pytest.mark.parametrize("how", HOW)
def test_deactivated_account_blocks_its_customer_and_never_deletes_it(rig, how):
    erp, w, ev = rig
    account, customer_id = _synced_account(erp, w, ev)
    runs = _change(
        ev,
        how,
        account,
        ACCOUNTS,
        lambda: w.run(w.crm.update("Account", account.id, {"UsrInactive": True})),
    )
    job = ran(runs, ACCOUNTS, account)
    assert job.action == "inactivated"
    field, _, inactive = erp.active
    assert _customer(erp, w, customer_id)[field] == inactive
    # Hints that follow (the ERP's own event of our write, a second poll) change nothing.
    again = ev.poll(ACCOUNTS)
    assert all(r.action == "skipped" for r in again if r.key == str(account))
