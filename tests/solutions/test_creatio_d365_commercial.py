"""creatio_d365 end to end: business units, city names, line pricing, overdue invoices, stock
summed over warehouses and warehouse rules, over the Creatio and F&O simulators (loopback)."""

from __future__ import annotations

import ssl
import uuid
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import httpx
import pytest
import yaml

from syncloom.connectors.base import RecordKey
from syncloom.engine.bulk import BulkLoad
from syncloom.engine.flows import dump_flows, load_flows
from syncloom.errors import ConfigError
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.solutions import load_solution
from tests.solutions.world import world

pytestmark = pytest.mark.e2e

CRM = "creatio"
ERP = "d365"
CONFIRMED = seed_id("OrderStatus", "2. Confirmation")
PROPOSAL = seed_id("OpportunityStage", "Proposal")
USD = seed_id("Currency", "USD")
DAY_S = 86_400


def _post(w, path, body):
    server = w.simulators[ERP]
    context = ssl.create_default_context(cafile=w.ca_file)
    with httpx.Client(base_url=server.base_url, verify=context) as client:
        response = client.post(path, json=body)
    response.raise_for_status()
    return response.json()


def _account(w, **values):
    ident = str(uuid.uuid4())
    fields = {
        "Name": f"Commercial Test {ident[:8]}",
        "TypeId": CUSTOMER_TYPE,
        "UsrEmail": f"ap.{ident[:6]}@commercial.example.com",
        "UsrTaxRegistrationNumber": "TX" + ident[:9],
        **values,
    }
    return w.run(w.crm.create("Account", fields, ident))


def _customer(w, outcome):
    return w.get(ERP, "CustomersV3", RecordKey.parse(outcome.target_key).id).values


# -- 1. legal entity from the business unit; group and terms per business unit ---------------
def test_business_unit_routes_the_account_and_gives_group_and_terms(tmp_path):
    retail = seed_id("UsrBusinessUnit", "Contoso USA Retail")
    germany = seed_id("UsrBusinessUnit", "Contoso Germany")
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = _account(w, UsrBusinessUnitId=retail)
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action == "created"
        customer = _customer(w, outcome)
        assert customer["dataAreaId"] == "usmf"
        assert customer["CustomerGroupId"] == "20"  # the retail unit's group
        assert customer["PaymentTerms"] == "Net10"  # and its terms
        assert customer["SalesTaxGroup"] == "TAXABLE"
        # The legal entity is still written back to the account's UsrLegalEntity.
        assert w.get(CRM, "Account", account.key.id).values["UsrLegalEntity"] == "usmf"

        # The business unit wins over a legal entity code that says otherwise.
        moved = _account(w, UsrBusinessUnitId=germany, UsrLegalEntity="usmf")
        customer = _customer(w, w.sync("accounts_customers", moved.key))
        assert customer["dataAreaId"] == "demf"
        assert (customer["CustomerGroupId"], customer["PaymentTerms"]) == ("20", "Net30")
        assert customer["SalesTaxGroup"] == "EU"
        assert w.get(CRM, "Account", moved.key.id).values["UsrLegalEntity"] == "demf"


def test_seeded_accounts_carry_the_business_unit_of_their_legal_entity(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = w.get(CRM, "Account", seed_id("Account", 1)).values
        assert account["UsrBusinessUnitId"] == seed_id("UsrBusinessUnit", "Contoso Germany")
        units = w.search(CRM, "UsrBusinessUnit", UsrCode="usmf")
        assert {u.values["Name"] for u in units} == {"Contoso USA", "Contoso USA Retail"}


# -- 5. the City lookup written as the city's name -------------------------------------------
def test_city_lookup_is_written_as_the_city_name_and_follows_a_change(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        country = seed_id("Country", "US")
        cities = [
            w.run(w.crm.create("City", {"Name": name, "CountryId": country}, str(uuid.uuid4())))
            for name in ("Springfield", "Shelbyville")
        ]
        account = _account(w, UsrLegalEntity="usmf", CityId=cities[0].key.id)
        outcome = w.sync("accounts_customers", account.key)
        assert _customer(w, outcome)["AddressCity"] == "Springfield"
        # Another edit: the city's name is no change (the base holds the name, not the id).
        w.run(w.crm.update("Account", account.key.id, {"Phone": "+1 555 0199"}))
        edited = w.sync("accounts_customers", account.key)
        assert edited.action == "updated"
        assert "AddressCity" not in str(edited.diff), edited.diff
        w.run(w.crm.update("Account", account.key.id, {"CityId": cities[1].key.id}))
        assert w.sync("accounts_customers", account.key).action == "updated"
        assert _customer(w, outcome)["AddressCity"] == "Shelbyville"


def test_seeded_account_matches_its_customer_with_the_same_city_name(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = w.get(CRM, "Account", seed_id("Account", 3))
        outcome = w.sync("accounts_customers", account.key)
        legal_entity = account.values["UsrLegalEntity"]
        assert outcome.target_key == f"d365:CustomersV3:{legal_entity}/C00003"
        city = w.get(CRM, "City", account.values["CityId"]).values["Name"]
        assert _customer(w, outcome)["AddressCity"] == city


# -- 2. quotation lines carry discounts and delivery dates -----------------------------------
def _opportunity(w, account_id, lines):
    ident = str(uuid.uuid4())
    opportunity = w.run(
        w.crm.create(
            "Opportunity",
            {
                "Title": f"Deal {ident[:8]}",
                "StageId": PROPOSAL,
                "AccountId": account_id,
                "UsrCurrencyId": USD,
            },
            ident,
        )
    )
    for values in lines:
        w.run(
            w.crm.create(
                "OpportunityProductInterest",
                {"OpportunityId": ident, **values},
                str(uuid.uuid4()),
            )
        )
    return opportunity


def _quotation_lines(w, outcome):
    header = w.get(ERP, "SalesQuotationHeadersV2", RecordKey.parse(outcome.target_key).id)
    number = header.values["SalesQuotationNumber"]
    lines = w.search(ERP, "SalesQuotationLines", SalesQuotationNumber=number)
    return {line.values["ItemNumber"]: line.values for line in lines}


def test_quotation_lines_carry_discount_and_requested_delivery_date(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        product = w.get(CRM, "Product", seed_id("Product", "P00004")).values
        price = product["Price"]
        opportunity = _opportunity(
            w,
            seed_id("Account", 5),  # usmf, retail price group: no trade agreement applies
            [
                {
                    "ProductId": seed_id("Product", "P00004"),
                    "Quantity": Decimal(4),
                    "Price": price,
                    "Amount": price * 4,
                    "UsrDiscountPercent": Decimal("7.5"),
                    "UsrDeliveryDate": date(2026, 12, 15),
                }
            ],
        )
        outcome = w.sync("opportunities_quotations", opportunity.key)
        assert outcome.action == "created"
        line = _quotation_lines(w, outcome)["P00004"]
        assert line["SalesPrice"] == price
        assert line["LineDiscountPercentage"] == Decimal("7.5")
        assert line["RequestedReceiptDate"] == date(2026, 12, 15)
        # F&O priced the line: quantity x price less the discount.
        expected = (price * 4 * (1 - Decimal("0.075"))).quantize(Decimal("0.01"))
        assert line["LineAmount"] == expected


# -- 6. trade agreements price quotation and order lines -------------------------------------
def _agreement(w, entity, number, **values):
    key = f"usmf/{number}/1"
    body = {"dataAreaId": "usmf", "TradeAgreementJournalNumber": number, "LineNumber": 1}
    return w.run(w.erp(ERP).create(entity, {**body, **values}, key))


def test_quotation_lines_take_price_and_discount_from_trade_agreements(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        wholesale = seed_id("Account", 10)  # usmf, customer group 10: price group WHOLESALE
        agreed = w.search(ERP, "SalesPriceAgreements", ItemNumber="P00002")[0].values["Price"]
        crm_price = w.get(CRM, "Product", seed_id("Product", "P00002")).values["Price"]
        assert agreed != crm_price
        # The customer's own agreements on another item: an expired price, and a price with
        # quantity breaks; the customer's own agreement wins over its group's.
        for number, values in {
            "TAJ-EXP": {"Price": Decimal(1), "PriceApplicableToDate": date(2025, 6, 30)},
            "TAJ-Q1": {"Price": Decimal(50), "FromQuantity": 0, "ToQuantity": 10},
            "TAJ-Q10": {"Price": Decimal(40), "FromQuantity": 10},
        }.items():
            _agreement(
                w,
                "SalesPriceAgreements",
                number,
                ItemNumber="P00005",
                CustomerAccountNumber="C00010",
                PriceApplicableFromDate=date(2025, 1, 1),
                PriceCurrencyCode="USD",
                **values,
            )
        # An agreement in another currency than the document's does not apply.
        _agreement(w, "SalesPriceAgreements", "TAJ-EUR", ItemNumber="P00006",
                   CustomerAccountNumber="C00010", Price=Decimal(1), PriceCurrencyCode="EUR",
                   PriceApplicableFromDate=date(2025, 1, 1))  # fmt: skip
        lines = [
            {"ProductId": seed_id("Product", "P00002"), "Quantity": Decimal(12),
             "Price": crm_price, "Amount": crm_price * 12, "UsrDiscountPercent": Decimal(1)},
            {"ProductId": seed_id("Product", "P00005"), "Quantity": Decimal(12),
             "Price": Decimal(99), "Amount": Decimal(99 * 12)},
            {"ProductId": seed_id("Product", "P00006"), "Quantity": Decimal(3),
             "Price": Decimal(77), "Amount": Decimal(77 * 3), "UsrDiscountPercent": Decimal(2)},
        ]  # fmt: skip
        outcome = w.sync("opportunities_quotations", _opportunity(w, wholesale, lines).key)
        by_item = _quotation_lines(w, outcome)
        # The group's price, and from 10 units the group's 5 % line discount.
        assert by_item["P00002"]["SalesPrice"] == agreed
        assert by_item["P00002"]["LineDiscountPercentage"] == Decimal(5)
        # The customer's own agreement, at the break for 12 units; the expired one is ignored.
        assert by_item["P00005"]["SalesPrice"] == Decimal(40)
        # No agreement (in USD): the Creatio price and discount stay.
        assert by_item["P00006"]["SalesPrice"] == Decimal(77)
        assert by_item["P00006"]["LineDiscountPercentage"] == Decimal(2)


def _without_trade_agreements():
    raw = yaml.safe_load(dump_flows(load_solution("creatio_d365")))
    for flow in raw["flows"]:
        for entry in (flow.get("lines") or {}).get("fields", []):
            if "lookup" in entry:
                entry["lookup"]["enabled"] = False
    return load_flows(yaml.safe_dump(raw, sort_keys=False))


def test_trade_agreements_switched_off_keep_the_creatio_price(tmp_path):
    with world(tmp_path, _without_trade_agreements(), ERP) as w:
        crm_price = w.get(CRM, "Product", seed_id("Product", "P00002")).values["Price"]
        lines = [{"ProductId": seed_id("Product", "P00002"), "Quantity": Decimal(12),
                  "Price": crm_price, "Amount": crm_price * 12}]  # fmt: skip
        opportunity = _opportunity(w, seed_id("Account", 10), lines)
        line = _quotation_lines(w, w.sync("opportunities_quotations", opportunity.key))["P00002"]
        assert line["SalesPrice"] == crm_price
        assert line["LineDiscountPercentage"] == Decimal(0)


# -- 7. warehouse rules by order type, legal entity and country; delivery mode map -----------
def _order(w, account_id, legal_entity, lines, **values):
    ident = str(uuid.uuid4())
    order = w.run(
        w.crm.create(
            "Order",
            {
                "Number": f"ORD-T{ident[:6]}",
                "Date": "2026-01-05T00:00:00Z",
                "AccountId": account_id,
                "StatusId": CONFIRMED,
                "CurrencyId": USD,
                "CurrencyRate": Decimal(1),
                "UsrLegalEntity": legal_entity,
                **values,
            },
            ident,
        )
    )
    for n, line in enumerate(lines, 1):
        w.run(w.crm.create("OrderProduct", {"OrderId": ident, "Name": f"Line {n}", **line},
                           str(uuid.uuid4())))  # fmt: skip
    return order


def _sales_order(w, outcome):
    return w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id).values


def test_orders_get_warehouse_by_rules_and_delivery_mode_by_option(tmp_path):
    express = seed_id("UsrDeliveryOption", "Express air")
    product = {"ProductId": seed_id("Product", "P00004"), "Quantity": Decimal(1),
               "Price": Decimal(10), "Amount": Decimal(10)}  # fmt: skip
    cases = [
        # (account, legal entity, order values, warehouse, delivery mode)
        (10, "usmf", {"UsrOrderType": "Standard", "UsrDeliveryOptionId": express}, "11", "20"),
        (10, "usmf", {"UsrOrderType": "Service"}, "12", "10"),
        (4, "usmf", {"UsrOrderType": "Standard"}, "12", "10"),  # a Canadian account
        (1, "demf", {"UsrOrderType": "Service"}, "21", "30"),
    ]
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        assert w.get(CRM, "Account", seed_id("Account", 4)).values["CountryId"] == seed_id(
            "Country", "CA"
        )
        for account, entity, values, warehouse, mode in cases:
            order = _order(w, seed_id("Account", account), entity, [product], **values)
            outcome = w.sync("orders_sales_orders", order.key)
            assert outcome.action == "created", outcome
            header = _sales_order(w, outcome)
            assert header["dataAreaId"] == entity
            assert (header["DefaultShippingWarehouseId"], header["DeliveryModeCode"]) == (
                warehouse,
                mode,
            ), values


def test_order_lines_take_trade_agreement_price_and_delivery_date(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        agreed = w.search(ERP, "SalesPriceAgreements", ItemNumber="P00002")[0].values["Price"]
        line = {"ProductId": seed_id("Product", "P00002"), "Quantity": Decimal(2),
                "Price": Decimal(500), "Amount": Decimal(1000),
                "DeliveryDate": date(2026, 3, 1)}  # fmt: skip
        order = _order(w, seed_id("Account", 10), "usmf", [line], UsrOrderType="Standard")
        header = _sales_order(w, w.sync("orders_sales_orders", order.key))
        (written,) = w.search(ERP, "SalesOrderLines", SalesOrderNumber=header["SalesOrderNumber"])
        assert written.values["SalesPrice"] == agreed
        assert written.values["LineAmount"] == agreed * 2
        assert written.values["RequestedReceiptDate"] == date(2026, 3, 1)


# -- 3. invoice status with Overdue, to the Invoice, the Order and the Account ---------------
def test_invoice_falls_overdue_by_the_erp_clock_and_reaches_invoice_order_and_account(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = w.get(CRM, "Order", seed_id("Order", 10))
        number = _sales_order(w, w.sync("orders_sales_orders", order.key))["SalesOrderNumber"]
        _post(w, "/_sim/actions/post-invoice", {"dataAreaId": "usmf", "SalesOrderNumber": number})
        (open_tx,) = w.search(ERP, "CustomerOpenTransactions", CustomerAccount="C00010")
        tx = open_tx.values
        assert tx["SalesOrderNumber"] == number
        assert (tx["DueDate"] - tx["TransactionDate"]).days == 10  # the customer's Net10
        amount = tx["AmountCurrency"]

        def sync_all():
            invoice = w.sync("invoices_status", open_tx.key)
            w.sync("invoices_orders", open_tx.key)
            w.sync("balances_accounts", open_tx.key)
            return (
                w.get(CRM, "Invoice", RecordKey.parse(invoice.target_key).id).values,
                w.get(CRM, "Order", order.key.id).values,
                w.get(CRM, "Account", seed_id("Account", 10)).values,
            )

        invoice, crm_order, account = sync_all()
        assert invoice["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Planned")
        assert crm_order["UsrInvoiceStatus"] == "Posted"
        assert crm_order["UsrAmountDue"] == amount
        assert crm_order["UsrInvoiceDueDate"] == tx["DueDate"]
        assert (account["UsrOpenBalance"], account["UsrOverdue"]) == (amount, False)

        _post(w, "/_sim/clock", {"advance_s": 11 * DAY_S})  # F&O's today passes the due date
        invoice, crm_order, account = sync_all()
        assert invoice["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Overdue")
        assert "days overdue: 1" in invoice["Notes"]
        assert crm_order["UsrInvoiceStatus"] == "Overdue"
        assert account["UsrOverdue"] is True
        assert account["UsrOverdueBalance"] == amount

        _post(
            w,
            "/_sim/actions/post-payment",
            {"dataAreaId": "usmf", "InvoiceNumber": tx["InvoiceNumber"]},
        )
        invoice, crm_order, account = sync_all()
        assert invoice["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Paid")
        assert (crm_order["UsrInvoiceStatus"], crm_order["UsrAmountDue"]) == ("Settled", 0)
        assert crm_order["PaymentAmount"] == amount
        assert (account["UsrOpenBalance"], account["UsrOverdue"]) == (0, False)


def test_invoice_of_an_order_creatio_does_not_know_is_skipped_not_created(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = w.get(CRM, "Order", seed_id("Order", 5))
        number = _sales_order(w, w.sync("orders_sales_orders", order.key))["SalesOrderNumber"]
        w.run(w.crm.update("Order", order.key.id, {"UsrErpOrderNumber": "SO-ELSEWHERE"}))
        _post(w, "/_sim/actions/post-invoice", {"dataAreaId": "usmf", "SalesOrderNumber": number})
        (open_tx,) = w.search(ERP, "CustomerOpenTransactions", CustomerAccount="C00005")
        outcome = w.sync("invoices_orders", open_tx.key)
        assert outcome.action == "skipped"
        assert w.search(CRM, "Order", UsrErpOrderNumber=number) == []


# -- 4. availability summed over the legal entity's warehouses -------------------------------
def test_availability_is_summed_over_every_warehouse_of_the_legal_entity(tmp_path):
    main = RecordKey("d365", "WarehousesOnHandV2", "usmf/P00003/11")
    east = RecordKey("d365", "WarehousesOnHandV2", "usmf/P00003/12")
    berlin = RecordKey("d365", "WarehousesOnHandV2", "demf/P00003/11")
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        for warehouse, quantity in (("11", 77), ("12", 23)):
            body = {"dataAreaId": "usmf", "ItemNumber": "P00003", "InventoryWarehouseId": warehouse}
            _post(w, "/_sim/actions/change-onhand", {**body, "OnHandQuantity": quantity})
        body = {"dataAreaId": "demf", "ItemNumber": "P00003", "InventoryWarehouseId": "11"}
        _post(w, "/_sim/actions/change-onhand", {**body, "OnHandQuantity": 1000})
        outcome = w.sync("on_hand_products", east)
        assert outcome.action == "matched_updated"
        assert outcome.source_key == "d365:WarehousesOnHandV2:group:usmf/P00003"
        product = w.get(CRM, "Product", seed_id("Product", "P00003")).values
        assert product["UsrAvailableQty"] == Decimal(100)
        assert product["UsrAvailableToPromiseQty"] == Decimal(100)
        # Any warehouse's row names the same group: nothing more to write.
        assert w.sync("on_hand_products", main).action in {"unchanged", "skipped"}
        # Another legal entity's stock is not this product's availability.
        assert w.sync("on_hand_products", berlin).action == "skipped"
        _post(w, "/_sim/actions/change-onhand", {**body, "InventoryWarehouseId": "12",
                                                 "dataAreaId": "usmf", "Delta": 5})  # fmt: skip
        assert w.sync("on_hand_products", main).action == "updated"
        product = w.get(CRM, "Product", seed_id("Product", "P00003")).values
        assert product["UsrAvailableQty"] == Decimal(105)


# -- bulk loads run the same lookups; grouped flows are polled, not bulk-loaded ---------------
def test_bulk_load_writes_city_names_and_refuses_a_grouped_flow(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        city = w.run(w.crm.create("City", {"Name": "Ogdenville"}, str(uuid.uuid4())))
        account = _account(w, UsrLegalEntity="usmf", CityId=city.key.id)
        w.run(BulkLoad.for_flow(w.inst, "accounts_customers").run())
        (customer,) = w.search(ERP, "CustomersV3", OrganizationName=account.values["Name"])
        assert customer.values["AddressCity"] == "Ogdenville"
        with pytest.raises(ConfigError, match="groups"):
            w.run(BulkLoad.for_flow(w.inst, "on_hand_products").run())


# -- polls of swept flows read every open transaction, so an invoice falling due is seen ------
class _Tx:
    def __init__(self, connection):
        self.connection = connection


def test_a_swept_poll_sees_an_invoice_fall_due_though_nothing_was_edited(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        engine = w.sessions().get_bind()
        polled: list[tuple[str, RecordKey]] = []

        @contextmanager
        def transaction():
            with engine.begin() as connection:
                yield _Tx(connection)

        def enqueue(tx, flow, record):
            polled.append((flow, record.key))
            return f"{flow}:{record.key}"

        w.inst.attach(transaction, enqueue)

        def poll(flow):
            polled.clear()
            (report,) = w.run(w.inst.unit(flow).poll())
            outcomes = [w.sync(name, key) for name, key in polled]
            return report, outcomes

        order = w.get(CRM, "Order", seed_id("Order", 10))
        number = _sales_order(w, w.sync("orders_sales_orders", order.key))["SalesOrderNumber"]
        _post(w, "/_sim/actions/post-invoice", {"dataAreaId": "usmf", "SalesOrderNumber": number})
        _, outcomes = poll("invoices_orders")
        # The poll hands over the member's group (its own partition), not the member.
        assert [str(key) for _, key in polled] == [
            f"d365:CustomerOpenTransactions:group:usmf/{number}"
        ]
        assert [o.action for o in outcomes] == ["matched_updated"]
        _, outcomes = poll("invoices_orders")  # read again, and nothing to write
        assert [o.action for o in outcomes] == ["skipped"]
        _post(w, "/_sim/clock", {"advance_s": 11 * DAY_S})
        _, outcomes = poll("invoices_orders")
        assert [o.action for o in outcomes] == ["updated"]
        assert w.get(CRM, "Order", order.key.id).values["UsrInvoiceStatus"] == "Overdue"
        # A flow that is not swept reads only what changed since its watermark.
        assert w.inst.unit("on_hand_products").pollers[0].sweep is False


def test_an_account_made_for_an_erp_customer_gets_its_legal_entitys_business_unit(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        customer = w.run(
            w.erp(ERP).create(
                "CustomersV3",
                {
                    "dataAreaId": "demf",
                    "CustomerAccount": "C90001",
                    "OrganizationName": "Neu GmbH",
                    "CustomerGroupId": "20",
                },  # fmt: skip
                "demf/C90001",
            )
        )
        outcome = w.sync("customers_accounts", customer.key)
        assert outcome.action == "created"
        account = w.get(CRM, "Account", RecordKey.parse(outcome.target_key).id).values
        assert account["UsrLegalEntity"] == "demf"
        assert account["UsrBusinessUnitId"] == seed_id("UsrBusinessUnit", "Contoso Germany")


def test_renamed_connections_rename_the_lookups_too():
    doc = load_solution("creatio_d365", connections={"d365": "fo_prod", "creatio": "crm"})
    named = {
        lookup.connection
        for flow in doc.flows
        for lookup in [
            *(entry.lookup for entry in flow.fields),
            *(value.lookup for value in flow.context),
            *(entry.lookup for entry in (flow.lines.fields if flow.lines else ())),
        ]
        if lookup is not None
    }
    assert named == {"fo_prod", "crm"}


def test_an_installation_refuses_lookups_in_a_connection_it_does_not_have(tmp_path):
    document = load_solution("creatio_d365", connections={"creatio": "crm_eu"})
    with pytest.raises(ConfigError, match="lookups name unknown connections"):  # noqa: SIM117
        with world(tmp_path, document, ERP):
            pass
