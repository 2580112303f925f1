"""The creatio_intacct Solution end to end: Creatio and Intacct simulators over loopback HTTP."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.solutions import load_solution
from tests.solutions.world import world

pytestmark = pytest.mark.e2e

CRM = "creatio"
ERP = "intacct"
WON = seed_id("OpportunityStage", "Closed won")


def _new_account(w, **values):
    ident = str(uuid.uuid4())
    fields = {
        "Name": f"Solution Test {ident[:8]}",
        "TypeId": CUSTOMER_TYPE,
        "Phone": "+49 30 555 0100",
        "UsrEmail": "billing@solution.example.com",
        "CountryId": seed_id("Country", "DE"),
        "UsrCurrencyId": seed_id("Currency", "EUR"),
        "UsrPaymentTerms": "Net60",
        "UsrLegalEntity": "demf",
        "UsrTaxRegistrationNumber": "DE-" + ident[:9],
        **values,
    }
    return w.run(w.crm.create("Account", fields, ident))


def test_new_account_becomes_customer_with_value_maps_and_id_written_back(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        account = _new_account(w)
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action == "created"
        customer = w.get(ERP, "CUSTOMER", RecordKey.parse(outcome.target_key).id)
        assert customer.values["NAME"] == account.values["Name"]
        assert customer.values["CURRENCY"] == "EUR"
        assert customer.values["TERMNAME"] == "N60"
        assert customer.values["DISPLAYCONTACT.MAILADDRESS.COUNTRYCODE"] == "DE"
        assert customer.values["DISPLAYCONTACT.EMAIL1"] == "billing@solution.example.com"
        assert customer.values["TAXID"] == account.values["UsrTaxRegistrationNumber"]
        reread = w.get(CRM, "Account", account.key.id)
        assert reread.values["UsrErpCustomerId"] == customer.key.id


def test_seeded_account_matches_its_customer_and_an_intacct_edit_travels_back(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        account = w.get(CRM, "Account", seed_id("Account", 3))
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action in {"matched", "matched_updated"}
        assert outcome.target_key == "intacct:CUSTOMER:C00003"
        assert len(w.search(ERP, "CUSTOMER", NAME=account.values["Name"])) == 1
        w.run(w.erp(ERP).update("CUSTOMER", "C00003", {"TERMNAME": "N10", "CURRENCY": "GBP"}))
        back = w.sync("accounts_customers", RecordKey("intacct", "CUSTOMER", "C00003"))
        assert back.action == "updated"
        reread = w.get(CRM, "Account", account.key.id)
        assert reread.values["UsrPaymentTerms"] == "Net10"
        assert reread.values["UsrCurrencyId"] == seed_id("Currency", "GBP")


def test_supplier_account_becomes_vendor_and_customer_flow_skips_it(tmp_path):
    supplier = seed_id("AccountType", "Supplier")
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        account = _new_account(w, TypeId=supplier)
        assert w.sync("accounts_customers", account.key).action == "skipped"
        outcome = w.sync("accounts_vendors", account.key)
        assert outcome.action == "created"
        vendor = w.get(ERP, "VENDOR", RecordKey.parse(outcome.target_key).id)
        assert vendor.values["NAME"] == account.values["Name"]
        assert vendor.values["CURRENCY"] == "EUR"
        assert vendor.values["TERMNAME"] == "N60"


def test_contact_syncs_its_account_first_and_names_the_customer(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        account = _new_account(w)
        ident = str(uuid.uuid4())
        contact = w.run(
            w.crm.create(
                "Contact",
                {
                    "Name": "Greta Solution",
                    "GivenName": "Greta",
                    "Surname": "Solution",
                    "Email": f"greta.{ident[:6]}@solution.example.com",
                    "AccountId": account.key.id,
                },
                ident,
            )
        )
        outcome = w.sync("contacts", contact.key)
        assert outcome.action == "created"
        erp_contact = w.get(ERP, "CONTACT", RecordKey.parse(outcome.target_key).id)
        assert erp_contact.values["COMPANYNAME"] == account.values["Name"]
        assert erp_contact.values["EMAIL1"] == contact.values["Email"]
        assert w.get(CRM, "Account", account.key.id).values["UsrErpCustomerId"]


def test_seeded_contact_matches_by_email_on_first_load(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        contact = w.get(CRM, "Contact", seed_id("Contact", 1))
        outcome = w.sync("contacts", contact.key)
        assert outcome.action in {"matched", "matched_updated"}
        matched = w.get(ERP, "CONTACT", RecordKey.parse(outcome.target_key).id)
        assert matched.values["EMAIL1"] == contact.values["Email"]


def test_contact_as_employee_option(tmp_path):
    document = load_solution("creatio_intacct", contact_target="employee")
    with world(tmp_path, document, ERP) as w:
        contact = w.get(CRM, "Contact", seed_id("Contact", 2))
        outcome = w.sync("contacts_employees", contact.key)
        assert outcome.action == "created"
        employee = w.get(ERP, "EMPLOYEE", RecordKey.parse(outcome.target_key).id)
        assert employee.values["CONTACT.LASTNAME"] == contact.values["Surname"]
        assert employee.values["TITLE"] == contact.values["JobTitle"]


def _new_product(w, code):
    return w.run(
        w.crm.create(
            "Product",
            {
                "Name": f"Consulting day {code}",
                "Code": code,
                "CurrencyId": seed_id("Currency", "USD"),
                "Price": Decimal("950.00"),
                "UsrUnit": "day",
            },
            str(uuid.uuid4()),
        )
    )


def test_product_becomes_item_keyed_by_code(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        product = _new_product(w, "SVC-100")
        outcome = w.sync("products_items", product.key)
        assert outcome.action == "created"
        assert outcome.target_key == "intacct:ITEM:SVC-100"
        item = w.get(ERP, "ITEM", "SVC-100")
        assert item.values["BASEPRICE"] == Decimal("950.00")
        assert item.values["ITEMTYPE"] == "Non-Inventory"
        assert w.get(CRM, "Product", product.key.id).values["UsrErpItemId"] == "SVC-100"


def test_product_as_gl_account_option(tmp_path):
    document = load_solution("creatio_intacct", product_target="gl_account")
    with world(tmp_path, document, ERP) as w:
        product = _new_product(w, "4100")
        outcome = w.sync("products_gl_accounts", product.key)
        assert outcome.action == "created"
        account = w.get(ERP, "GLACCOUNT", "4100")
        assert account.values["TITLE"] == product.values["Name"]


def _win_seeded_opportunity(w, company=5, **values):
    opportunity = w.get(CRM, "Opportunity", seed_id("Opportunity", company))
    return w.run(w.crm.update("Opportunity", opportunity.key.id, {"StageId": WON, **values}))


def _rows(w, name, **where):
    from syncloom.simulators.intacct.entities import OBJECTS

    store = w.simulators[ERP].app.store
    return [r for r in store.all(OBJECTS[name]) if all(r.get(k) == v for k, v in where.items())]


def test_won_opportunity_becomes_invoice_with_product_lines_and_dimensions(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        proposal = w.get(CRM, "Opportunity", seed_id("Opportunity", 5))
        assert w.sync("opportunities_invoices", proposal.key).action == "skipped"
        # A US customer billed in euros: the document carries its own currency.
        opportunity = _win_seeded_opportunity(w, UsrCurrencyId=seed_id("Currency", "EUR"))
        outcome = w.sync("opportunities_invoices", opportunity.key)
        assert outcome.action == "created"
        invoice = w.get(ERP, "ARINVOICE", RecordKey.parse(outcome.target_key).id)
        assert invoice.values["CUSTOMERID"] == "C00005"
        assert invoice.values["CURRENCY"] == "EUR"
        assert invoice.values["BASECURR"] == "USD"
        assert invoice.values["EXTERNALID"] == opportunity.key.id
        lines = _rows(w, "ARINVOICEITEM", RECORDKEY=invoice.key.id)
        assert len(lines) == 1
        (interest,) = w.search(CRM, "OpportunityProductInterest", OpportunityId=opportunity.key.id)
        product = w.get(CRM, "Product", interest.values["ProductId"])
        assert lines[0]["ITEMID"] == product.values["Code"]
        assert lines[0]["ACCOUNTNO"] == "4000"
        assert lines[0]["DEPARTMENTID"] == "SALES"
        assert Decimal(lines[0]["TRX_AMOUNT"]) == interest.values["Amount"]
        assert w.get(CRM, "Opportunity", opportunity.key.id).values["UsrErpQuotationId"]


def test_won_opportunity_as_sales_order_option(tmp_path):
    document = load_solution("creatio_intacct", opportunity_target="sales_order")
    with world(tmp_path, document, ERP) as w:
        opportunity = _win_seeded_opportunity(w, company=10)
        outcome = w.sync("opportunities_sales_orders", opportunity.key)
        assert outcome.action == "created"
        docid = RecordKey.parse(outcome.target_key).id
        assert docid.startswith("Sales Order-SL")
        order = w.get(ERP, "SODOCUMENT", docid)
        assert order.values["CUSTVENDID"] == "C00010"
        (line,) = _rows(w, "SODOCUMENTENTRY", DOCHDRID=docid)
        (interest,) = w.search(CRM, "OpportunityProductInterest", OpportunityId=opportunity.key.id)
        assert Decimal(line["QUANTITY"]) == interest.values["Quantity"]
        assert Decimal(line["PRICE"]) == interest.values["Price"]


def test_intacct_payment_becomes_activity_on_the_account(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        payment = w.run(
            w.erp(ERP).create(
                "ARPYMT",
                {
                    "CUSTOMERID": "C00003",
                    "PAYMENTMETHOD": "Check",
                    "TRX_TOTALENTERED": Decimal("1250.00"),
                    "RECEIPTDATE": date(2026, 3, 2),
                    "DOCNUMBER": "CHK-1001",
                },
            )
        )
        outcome = w.sync("payments_activities", payment.key)
        assert outcome.action == "created"
        activity = w.get(CRM, "Activity", RecordKey.parse(outcome.target_key).id)
        assert activity.values["AccountId"] == seed_id("Account", 3)
        assert "1250" in activity.values["Title"]
        assert "Check" in activity.values["DetailedResult"]
        assert activity.values["StartDate"].date() == date(2026, 3, 2)


def test_invoice_create_retried_after_a_crash_writes_one_invoice(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        opportunity = _win_seeded_opportunity(w)
        job = w.inst.unit("opportunities_invoices").job
        real_settle = job.settle

        class Killed(Exception):
            """Stands for the process dying after the invoice was written."""

        def crash(*args, **kwargs):
            raise Killed

        job.settle = crash
        with pytest.raises(Killed):
            w.sync("opportunities_invoices", opportunity.key)
        job.settle = real_settle
        outcome = w.sync("opportunities_invoices", opportunity.key)
        assert outcome.target_key is not None
        invoices = w.search(ERP, "ARINVOICE", EXTERNALID=opportunity.key.id)
        assert [r.key for r in invoices] == [RecordKey.parse(outcome.target_key)]


def test_intacct_project_becomes_lookup_renamed_and_deactivated(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        project = w.get(ERP, "PROJECT", "PRJ-100")
        outcome = w.sync("projects_lookup", project.key)
        assert outcome.action == "created"
        lookup = w.get(CRM, "UsrIntacctProject", RecordKey.parse(outcome.target_key).id)
        assert (lookup.values["Code"], lookup.values["Name"]) == ("PRJ-100", "ERP rollout")
        assert lookup.values["UsrActive"] is True
        w.run(w.erp(ERP).update("PROJECT", "PRJ-100", {"NAME": "ERP rollout, phase 2"}))
        assert w.sync("projects_lookup", project.key).action == "updated"
        assert w.get(CRM, "UsrIntacctProject", lookup.key.id).values["Name"] == (
            "ERP rollout, phase 2"
        )
        w.run(w.erp(ERP).update("PROJECT", "PRJ-100", {"STATUS": "inactive"}))
        assert w.sync("projects_lookup", project.key).action == "updated"
        assert w.get(CRM, "UsrIntacctProject", lookup.key.id).values["UsrActive"] is False
        assert len(w.search(CRM, "UsrIntacctProject", Code="PRJ-100")) == 1


def test_new_intacct_department_is_created_and_seeded_ones_match_by_code(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        seeded = w.sync("departments_lookup", RecordKey(ERP, "DEPARTMENT", "SVC"))
        assert seeded.action in {"matched", "matched_updated"}
        assert seeded.target_key == f"creatio:UsrIntacctDepartment:{_dim('Department', 'SVC')}"
        made = w.run(w.erp(ERP).create("DEPARTMENT", {"DEPARTMENTID": "MKT", "TITLE": "Marketing"}))
        outcome = w.sync("departments_lookup", made.key)
        assert outcome.action == "created"
        (row,) = w.search(CRM, "UsrIntacctDepartment", Code="MKT")
        assert row.values["Name"] == "Marketing"
        w.run(w.erp(ERP).delete("DEPARTMENT", "MKT"))
        assert w.sync("departments_lookup", made.key).action == "inactivated"
        assert w.get(CRM, "UsrIntacctDepartment", row.key.id).values["UsrActive"] is False


def _dim(kind, code):
    return seed_id(f"UsrIntacct{kind}", code)


def _lookups(w, project="PRJ-200"):
    """A project created in Creatio by its flow, a department and location matched by code."""
    outcome = w.sync("projects_lookup", RecordKey(ERP, "PROJECT", project))
    w.sync("departments_lookup", RecordKey(ERP, "DEPARTMENT", "SVC"))
    w.sync("locations_lookup", RecordKey(ERP, "LOCATION", "E200"))
    return {
        "UsrIntacctProjectId": RecordKey.parse(outcome.target_key).id,
        "UsrIntacctDepartmentId": _dim("Department", "SVC"),
        "UsrIntacctLocationId": _dim("Location", "E200"),
    }


def test_deal_dimensions_land_on_every_invoice_line(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        opportunity = _win_seeded_opportunity(w, **_lookups(w))
        outcome = w.sync("opportunities_invoices", opportunity.key)
        assert outcome.action == "created"
        invoice = RecordKey.parse(outcome.target_key).id
        (line,) = _rows(w, "ARINVOICEITEM", RECORDKEY=invoice)
        assert (line["PROJECTID"], line["DEPARTMENTID"], line["LOCATIONID"]) == (
            "PRJ-200",
            "SVC",
            "E200",
        )
        # Nothing left to write: the header holds no dimension the lines took.
        assert w.sync("opportunities_invoices", opportunity.key).action in {"skipped", "unchanged"}


def test_deal_dimensions_land_on_sales_order_lines(tmp_path):
    document = load_solution("creatio_intacct", opportunity_target="sales_order")
    with world(tmp_path, document, ERP) as w:
        opportunity = _win_seeded_opportunity(w, company=10, **_lookups(w, "PRJ-300"))
        outcome = w.sync("opportunities_sales_orders", opportunity.key)
        (line,) = _rows(w, "SODOCUMENTENTRY", DOCHDRID=RecordKey.parse(outcome.target_key).id)
        assert (line["PROJECTID"], line["DEPARTMENTID"], line["LOCATIONID"]) == (
            "PRJ-300",
            "SVC",
            "E200",
        )


def test_deal_pointing_at_a_lookup_row_without_intacct_twin_waits(tmp_path):
    from syncloom.errors import TransientError

    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        stray = w.run(
            w.crm.create("UsrIntacctProject", {"Name": "Typed in Creatio", "Code": "X-1"}, None)
        )
        opportunity = _win_seeded_opportunity(w, UsrIntacctProjectId=stray.key.id)
        with pytest.raises(TransientError, match="projects_lookup"):
            w.sync("opportunities_invoices", opportunity.key)
        assert w.search(ERP, "ARINVOICE", EXTERNALID=opportunity.key.id) == []


ENTITY_CONNECTIONS = {"intacct_e100": "E100", "intacct_e200": "E200"}


def _link(w, flow, key):
    from syncloom.engine.flows import Side

    return w.inst.unit(flow).job.binder.find(str(key), Side.CRM)


def test_routing_within_one_connection_records_the_entity_on_the_link(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        account = _new_account(w)  # UsrLegalEntity demf
        outcome = w.sync("accounts_customers", account.key)
        (row,) = _rows(w, "CUSTOMER", CUSTOMERID=RecordKey.parse(outcome.target_key).id)
        assert row["MEGAENTITYID"] == ""  # written at top level, shared by every entity
        assert _link(w, "accounts_customers", account.key).legal_entity == "E200"


def test_one_connection_per_entity_writes_and_reads_each_customer_in_its_entity(tmp_path):
    by_entity = {entity: name for name, entity in ENTITY_CONNECTIONS.items()}
    document = load_solution("creatio_intacct", entity_connections=by_entity)
    with world(tmp_path, document, ERP, entity_connections=ENTITY_CONNECTIONS) as w:
        german = _new_account(w)
        american = _new_account(w, UsrLegalEntity="usmf", UsrCurrencyId=seed_id("Currency", "USD"))
        keys = {}
        for account, entity in ((german, "E200"), (american, "E100")):
            outcome = w.sync("accounts_customers", account.key)
            assert outcome.action == "created"
            keys[entity] = RecordKey.parse(outcome.target_key).id
            (row,) = _rows(w, "CUSTOMER", CUSTOMERID=keys[entity])
            assert row["MEGAENTITYID"] == entity
            assert _link(w, "accounts_customers", account.key).legal_entity == entity
        # An entity's session sees its own records, not another entity's.
        assert w.run(w.erp("intacct_e100").get("CUSTOMER", keys["E200"])) is None
        # An edit made in the German entity travels back through the German Connection.
        w.run(w.erp("intacct_e200").update("CUSTOMER", keys["E200"], {"TERMNAME": "N10"}))
        back = w.sync("accounts_customers", RecordKey(ERP, "CUSTOMER", keys["E200"]))
        assert back.action == "updated"
        assert w.get(CRM, "Account", german.key.id).values["UsrPaymentTerms"] == "Net10"
        # A Creatio edit goes back to the same entity, never to a second customer.
        w.run(w.crm.update("Account", german.key.id, {"Phone": "+49 30 555 0199"}))
        assert w.sync("accounts_customers", german.key).action == "updated"
        (row,) = _rows(w, "CUSTOMER", CUSTOMERID=keys["E200"])
        assert row["DISPLAYCONTACT.PHONE1"] == "+49 30 555 0199"
        assert len(_rows(w, "CUSTOMER", NAME=german.values["Name"])) == 1


def test_entity_connections_must_name_a_routed_entity():
    from syncloom.errors import ConfigError

    with pytest.raises(ConfigError, match="E900"):
        load_solution("creatio_intacct", entity_connections={"E900": "intacct_e900"})


# -- Intacct events: an edit in Intacct, a poll, and Creatio is up to date ------------------


def test_customer_created_in_intacct_arrives_then_keeps_in_step(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        w.prime("customers_accounts")
        w.prime("accounts_customers")
        values = {"NAME": "Intacct Born GmbH", "CURRENCY": "EUR", "TERMNAME": "N30"}
        w.run(w.erp(ERP).create("CUSTOMER", values, "C90001"))
        (created,) = w.poll("customers_accounts")
        assert created.action == "created"
        account = w.get(CRM, "Account", RecordKey.parse(created.target_key).id)
        assert account.values["UsrErpCustomerId"] == "C90001"
        assert account.values["TypeId"] == CUSTOMER_TYPE
        assert account.values["UsrCurrencyId"] == seed_id("Currency", "EUR")
        actions = {o.action for o in w.poll("accounts_customers")}
        assert actions & {"matched", "matched_updated"}
        update = {"NAME": "Intacct Born AG", "TERMNAME": "N10"}
        w.run(w.erp(ERP).update("CUSTOMER", "C90001", update))
        assert "updated" in {o.action for o in w.poll("accounts_customers")}
        account = w.get(CRM, "Account", account.key.id)
        assert (account.values["Name"], account.values["UsrPaymentTerms"]) == (
            "Intacct Born AG",
            "Net10",
        )


def test_vendor_created_in_intacct_arrives_then_keeps_in_step(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        w.prime("vendors_accounts")
        w.prime("accounts_vendors")
        values = {"NAME": "Parts Supplier Ltd", "CURRENCY": "GBP"}
        w.run(w.erp(ERP).create("VENDOR", values, "V90001"))
        (created,) = w.poll("vendors_accounts")
        account = w.get(CRM, "Account", RecordKey.parse(created.target_key).id)
        assert account.values["TypeId"] == seed_id("AccountType", "Supplier")
        assert account.values["UsrErpCustomerId"] == "V90001"
        assert {o.action for o in w.poll("accounts_vendors")} & {"matched", "matched_updated"}
        w.run(w.erp(ERP).update("VENDOR", "V90001", {"DISPLAYCONTACT.PHONE1": "+44 20 5550 1"}))
        assert "updated" in {o.action for o in w.poll("accounts_vendors")}
        assert w.get(CRM, "Account", account.key.id).values["Phone"] == "+44 20 5550 1"


def _pay(w, invoice_recordno, amount):
    return w.run(
        w.erp(ERP).create(
            "ARPYMT",
            {
                "CUSTOMERID": "C00005",
                "PAYMENTMETHOD": "EFT",
                "TRX_TOTALENTERED": amount,
                "RECEIPTDATE": date(2026, 3, 2),
                "lines": [{"RECORDKEY": invoice_recordno, "AMOUNT": amount}],
            },
        )
    )


def test_invoice_posted_then_paid_in_intacct_updates_the_creatio_invoice(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        opportunity = _win_seeded_opportunity(w)
        made = w.sync("opportunities_invoices", opportunity.key)
        recordno = RecordKey.parse(made.target_key).id
        total = w.get(ERP, "ARINVOICE", recordno).values["TRX_TOTALENTERED"]
        (posted,) = w.poll("invoices_status")
        assert posted.action == "created"
        invoice = w.get(CRM, "Invoice", RecordKey.parse(posted.target_key).id)
        assert invoice.values["AccountId"] == seed_id("Account", 5)
        assert invoice.values["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Planned")
        assert invoice.values["Amount"] == total
        assert invoice.values["UsrErpInvoiceNumber"] == recordno
        w.prime("payments_activities")
        _pay(w, recordno, Decimal("100.00"))
        (partly,) = w.poll("invoices_status")
        assert partly.action == "updated"
        invoice = w.get(CRM, "Invoice", invoice.key.id)
        assert invoice.values["PaymentStatusId"] == seed_id(
            "InvoicePaymentStatus", "Partially paid"
        )
        assert invoice.values["PaymentAmount"] == Decimal("100.00")
        _pay(w, recordno, total - Decimal("100.00"))
        assert [o.action for o in w.poll("invoices_status")] == ["updated"]
        invoice = w.get(CRM, "Invoice", invoice.key.id)
        assert invoice.values["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Paid")
        assert invoice.values["PaymentAmount"] == total
        # Each applied payment is an Activity on the account.
        payments = w.poll("payments_activities")
        assert [o.action for o in payments] == ["created", "created"]


def test_sales_order_state_change_in_intacct_moves_the_creatio_order_status(tmp_path):
    from syncloom.simulators.intacct.entities import OBJECTS

    document = load_solution("creatio_intacct", opportunity_target="sales_order")
    with world(tmp_path, document, ERP) as w:
        opportunity = _win_seeded_opportunity(w, company=10)
        docid = RecordKey.parse(w.sync("opportunities_sales_orders", opportunity.key).target_key).id
        (created,) = w.poll("sales_orders_orders")
        order = w.get(CRM, "Order", RecordKey.parse(created.target_key).id)
        assert order.values["StatusId"] == seed_id("OrderStatus", "2. Confirmation")
        assert order.values["AccountId"] == seed_id("Account", 10)
        assert order.values["UsrErpOrderNumber"] == docid
        # A person converts the order in Intacct (the gateway has no function for it).
        store = w.simulators[ERP].app.store
        row = store.by_id(OBJECTS["SODOCUMENT"], docid)
        store.change(OBJECTS["SODOCUMENT"], row, {"STATE": "Converted"}, "7")
        assert [o.action for o in w.poll("sales_orders_orders")] == ["updated"]
        order = w.get(CRM, "Order", order.key.id)
        assert order.values["StatusId"] == seed_id("OrderStatus", "4. Completed")


def test_item_price_changed_in_intacct_updates_the_product(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        product = w.get(CRM, "Product", seed_id("Product", "P00002"))
        assert w.sync("products_items", product.key).action in {"matched", "matched_updated"}
        w.prime("products_items")
        w.run(w.erp(ERP).update("ITEM", "P00002", {"BASEPRICE": Decimal("1234.50")}))
        assert "updated" in {o.action for o in w.poll("products_items")}
        assert w.get(CRM, "Product", product.key.id).values["Price"] == Decimal("1234.50")


# -- multi-currency: transaction currency vs the entity's base currency ---------------------


def test_invoice_in_a_foreign_currency_is_converted_at_the_daily_rate(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        opportunity = _win_seeded_opportunity(w, UsrCurrencyId=seed_id("Currency", "EUR"))
        outcome = w.sync("opportunities_invoices", opportunity.key)
        (row,) = _rows(w, "ARINVOICE", RECORDNO=RecordKey.parse(outcome.target_key).id)
        assert (row["CURRENCY"], row["BASECURR"]) == ("EUR", "USD")
        assert row["EXCH_RATE_TYPE_ID"] == "Intacct Daily Rate"
        assert Decimal(row["EXCHANGE_RATE"]) == Decimal("1.08")
        trx = Decimal(row["TRX_TOTALENTERED"])
        assert Decimal(row["TOTALENTERED"]) == (trx * Decimal("1.08")).quantize(Decimal("0.01"))


def test_invoice_written_in_an_entity_takes_that_entitys_base_currency(tmp_path):
    by_entity = {entity: name for name, entity in ENTITY_CONNECTIONS.items()}
    document = load_solution("creatio_intacct", entity_connections=by_entity)
    with world(tmp_path, document, ERP, entity_connections=ENTITY_CONNECTIONS) as w:
        w.sync("locations_lookup", RecordKey(ERP, "LOCATION", "E200"))
        opportunity = _win_seeded_opportunity(
            w,
            UsrCurrencyId=seed_id("Currency", "USD"),
            UsrIntacctLocationId=_dim("Location", "E200"),
        )
        outcome = w.sync("opportunities_invoices", opportunity.key)
        assert outcome.action == "created"
        recordno = RecordKey.parse(outcome.target_key).id
        (row,) = _rows(w, "ARINVOICE", RECORDNO=recordno)
        assert row["MEGAENTITYID"] == "E200"
        assert (row["CURRENCY"], row["BASECURR"]) == ("USD", "EUR")
        assert Decimal(row["EXCHANGE_RATE"]) == Decimal("0.925926")
        (line,) = _rows(w, "ARINVOICEITEM", RECORDKEY=recordno)
        assert line["LOCATIONID"] == "E200"
        # The German entity's Connection reads it; the US entity's does not see it.
        assert w.run(w.erp("intacct_e200").get("ARINVOICE", recordno)) is not None
        assert w.run(w.erp("intacct_e100").get("ARINVOICE", recordno)) is None
        # A customer created in an entity keeps its own default currency there.
        german = _new_account(w)
        created = w.sync("accounts_customers", german.key)
        customer = w.get("intacct_e200", "CUSTOMER", RecordKey.parse(created.target_key).id)
        assert customer.values["CURRENCY"] == "EUR"


def test_an_entity_connection_polls_and_receives_hints_for_its_own_records(tmp_path):
    from syncloom.engine.intake import flows_reading

    by_entity = {entity: name for name, entity in ENTITY_CONNECTIONS.items()}
    document = load_solution("creatio_intacct", entity_connections=by_entity)
    with world(tmp_path, document, ERP, entity_connections=ENTITY_CONNECTIONS) as w:
        german = _new_account(w)
        ident = RecordKey.parse(w.sync("accounts_customers", german.key).target_key).id
        key = RecordKey(ERP, "CUSTOMER", ident)
        # A Smart Event from the German entity's Connection reaches the flow.
        assert "accounts_customers" in flows_reading(w.inst, "intacct_e200", key)
        w.prime("accounts_customers")
        w.run(w.erp("intacct_e200").update("CUSTOMER", ident, {"TERMNAME": "N10"}))
        # The German entity's poller (its own watermark) sees the change; the top-level
        # Connection reads private records too, and its hint finds nothing left to do.
        pollers = {p.side.connection for p in w.inst.unit("accounts_customers").pollers}
        assert pollers == {"creatio", ERP, "intacct_e100", "intacct_e200"}
        actions = [o.action for o in w.poll("accounts_customers")]
        assert actions.count("updated") == 1
        assert set(actions) <= {"updated", "skipped"}
        assert w.get(CRM, "Account", german.key.id).values["UsrPaymentTerms"] == "Net10"


# -- a user-defined dimension (UDD): a platform object with lower-case fields --------------


def _team(w, name):
    from syncloom.simulators.intacct.entities import OBJECTS

    (row,) = [r for r in w.simulators[ERP].app.store.all(OBJECTS["TEAM"]) if r["name"] == name]
    return row


def test_user_defined_dimension_values_become_lookups_kept_in_step(tmp_path):
    from syncloom.simulators.intacct.entities import OBJECTS

    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        w.prime("teams_lookup")
        store = w.simulators[ERP].app.store
        # Someone adds a value to the dimension in Intacct, and renames another.
        added = store.insert(OBJECTS["TEAM"], {"name": "Public sector"}, "7", "")
        store.change(OBJECTS["TEAM"], _team(w, "Partners"), {"name": "Channel partners"}, "7")
        outcomes = {o.source_key: o for o in w.poll("teams_lookup")}
        created = outcomes[f"intacct:TEAM:{added['id']}"]
        assert created.action == "created"
        lookup = w.get(CRM, "UsrIntacctTeam", RecordKey.parse(created.target_key).id)
        assert (lookup.values["Code"], lookup.values["Name"]) == (added["id"], "Public sector")
        assert lookup.values["UsrActive"] is True
        renamed = outcomes[f"intacct:TEAM:{_team(w, 'Channel partners')['id']}"]
        assert (
            w.get(CRM, "UsrIntacctTeam", RecordKey.parse(renamed.target_key).id).values["Name"]
            == "Channel partners"
        )
        # A deleted value is deactivated in Creatio.
        store.remove(OBJECTS["TEAM"], store.by_id(OBJECTS["TEAM"], added["id"]))
        assert w.sync("teams_lookup", RecordKey(ERP, "TEAM", added["id"])).action == "inactivated"
        assert w.get(CRM, "UsrIntacctTeam", lookup.key.id).values["UsrActive"] is False


def test_deal_team_lands_on_invoice_lines_as_the_udd_relationship(tmp_path):
    with world(tmp_path, load_solution("creatio_intacct"), ERP) as w:
        team = _team(w, "Mid-market")
        outcome = w.sync("teams_lookup", RecordKey(ERP, "TEAM", team["id"]))
        deal = _win_seeded_opportunity(w, UsrIntacctTeamId=RecordKey.parse(outcome.target_key).id)
        made = w.sync("opportunities_invoices", deal.key)
        (line,) = _rows(w, "ARINVOICEITEM", RECORDKEY=RecordKey.parse(made.target_key).id)
        assert line["GLDIMTEAM"] == team["id"]


def test_udd_is_read_only_through_the_connector(tmp_path):
    from syncloom.errors import ValidationError

    with (
        world(tmp_path, load_solution("creatio_intacct"), ERP) as w,
        pytest.raises(ValidationError, match="TEAM is read through syncloom"),
    ):
        w.run(w.erp(ERP).create("TEAM", {"name": "Nope"}, "1"))
