"""The creatio_d365 Solution end to end: Creatio and F&O simulators over loopback HTTP (TLS)."""

from __future__ import annotations

import ssl
import uuid
from decimal import Decimal

import httpx
import pytest

from syncloom.connectors.base import RecordKey
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.solutions import load_solution
from tests.solutions.world import world

pytestmark = pytest.mark.e2e

CRM = "creatio"
ERP = "d365"
WON = seed_id("OpportunityStage", "Closed won")


def _new_account(w, **values):
    ident = str(uuid.uuid4())
    fields = {
        "Name": f"Solution Test {ident[:8]}",
        "TypeId": CUSTOMER_TYPE,
        "Phone": "+49 30 555 0100",
        "UsrEmail": f"billing.{ident[:6]}@solution.example.com",
        "Address": "Unter den Linden 1",
        "Zip": "10117",
        "CountryId": seed_id("Country", "DE"),
        "UsrCurrencyId": seed_id("Currency", "EUR"),
        "UsrLegalEntity": "demf",
        "UsrTaxRegistrationNumber": "DE" + ident[:9],
        **values,
    }
    return w.run(w.crm.create("Account", fields, ident))


def _action(w, name, body):
    server = w.simulators[ERP]
    context = ssl.create_default_context(cafile=w.ca_file)
    with httpx.Client(base_url=server.base_url, verify=context) as client:
        response = client.post(f"/_sim/actions/{name}", json=body)
    response.raise_for_status()
    return response.json()


def test_account_becomes_customer_in_its_legal_entity_with_defaults_and_write_back(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = _new_account(w)
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action == "created"
        customer_id = RecordKey.parse(outcome.target_key).id
        assert customer_id.startswith("demf/CR")
        customer = w.get(ERP, "CustomersV3", customer_id)
        values = customer.values
        assert values["OrganizationName"] == account.values["Name"]
        assert values["PrimaryContactPhone"] == "+49 30 555 0100"
        assert values["PrimaryContactEmail"] == account.values["UsrEmail"]
        assert values["AddressStreet"] == "Unter den Linden 1"
        assert values["AddressCountryRegionId"] == "DEU"
        assert values["SalesCurrencyCode"] == "EUR"
        # No group or terms on the account: the legal entity's defaults apply.
        assert values["CustomerGroupId"] == "20"
        assert values["PaymentTerms"] == "Net30"
        assert values["SalesTaxGroup"] == "EU"
        reread = w.get(CRM, "Account", account.key.id).values
        assert reread["UsrErpCustomerId"] == values["CustomerAccount"]
        assert reread["UsrLegalEntity"] == "demf"


def test_account_routes_to_usmf_and_keeps_its_own_terms_and_group(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = _new_account(
            w,
            UsrLegalEntity="usmf",
            CountryId=seed_id("Country", "US"),
            UsrCurrencyId=seed_id("Currency", "USD"),
            UsrPaymentTerms="Net60",
            UsrCustomerGroup="30",
        )
        outcome = w.sync("accounts_customers", account.key)
        customer = w.get(ERP, "CustomersV3", RecordKey.parse(outcome.target_key).id)
        assert customer.values["dataAreaId"] == "usmf"
        assert customer.values["PaymentTerms"] == "Net60"
        assert customer.values["CustomerGroupId"] == "30"
        assert customer.values["SalesTaxGroup"] == "TAXABLE"


def test_first_load_matches_seeded_customer_and_d365_edit_travels_back(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        account = w.get(CRM, "Account", seed_id("Account", 1))  # company 1: Germany, demf
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action in {"matched", "matched_updated"}
        assert outcome.target_key == "d365:CustomersV3:demf/C00001"
        w.run(w.erp(ERP).update("CustomersV3", "demf/C00001", {"PrimaryContactPhone": "+49 1"}))
        back = w.sync("accounts_customers", RecordKey("d365", "CustomersV3", "demf/C00001"))
        assert back.action == "updated"
        assert w.get(CRM, "Account", account.key.id).values["Phone"] == "+49 1"


def test_first_load_matches_by_tax_registration_number_within_the_legal_entity(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        seeded = w.get(ERP, "CustomersV3", "usmf/C00005")
        account = _new_account(
            w,
            Name="Renamed In CRM",
            UsrLegalEntity="usmf",
            UsrTaxRegistrationNumber=seeded.values["TaxExemptNumber"],
        )
        outcome = w.sync("accounts_customers", account.key)
        assert outcome.action in {"matched", "matched_updated"}
        assert outcome.target_key == "d365:CustomersV3:usmf/C00005"


def test_contact_becomes_contact_person_of_the_customer(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
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
                    "JobTitle": "Buyer",
                    "AccountId": account.key.id,
                },
                ident,
            )
        )
        outcome = w.sync("contacts", contact.key)
        assert outcome.action == "created"
        person = w.get(ERP, "ContactPersonsV2", RecordKey.parse(outcome.target_key).id)
        customer_account = w.get(CRM, "Account", account.key.id).values["UsrErpCustomerId"]
        assert person.values["ContactForParty"] == customer_account
        assert person.values["dataAreaId"] == "demf"
        assert person.values["EmploymentJobTitle"] == "Buyer"
        written = w.get(CRM, "Contact", contact.key.id).values["UsrErpContactId"]
        assert written == person.values["ContactPersonId"]


def test_product_matches_released_product_and_new_product_is_released(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        seeded = w.get(CRM, "Product", seed_id("Product", "P00002"))
        matched = w.sync("products", seeded.key)
        assert matched.target_key == "d365:ReleasedProductsV2:usmf/P00002"
        product = w.run(
            w.crm.create(
                "Product",
                {
                    "Name": "Installation service",
                    "Code": "SVC-200",
                    "CurrencyId": seed_id("Currency", "USD"),
                    "Price": Decimal("120.00"),
                    "UsrUnit": "hr",
                },
                str(uuid.uuid4()),
            )
        )
        outcome = w.sync("products", product.key)
        assert outcome.target_key == "d365:ReleasedProductsV2:usmf/SVC-200"
        released = w.get(ERP, "ReleasedProductsV2", "usmf/SVC-200").values
        assert released["SalesPrice"] == Decimal("120.00")
        assert released["SalesUnitSymbol"] == "hr"
        assert released["SalesSalesTaxItemGroupCode"] == "TAXABLE"


def _rows(w, entity, **criteria):
    return w.search(ERP, entity, **criteria)


def test_proposal_opportunity_becomes_quotation_with_lines(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        opportunity = w.get(CRM, "Opportunity", seed_id("Opportunity", 5))
        outcome = w.sync("opportunities_quotations", opportunity.key)
        assert outcome.action == "created"
        quotation = w.get(ERP, "SalesQuotationHeadersV2", RecordKey.parse(outcome.target_key).id)
        number = quotation.values["SalesQuotationNumber"]
        assert quotation.values["RequestingCustomerAccountNumber"] == "C00005"
        assert quotation.values["CurrencyCode"] == "USD"
        assert quotation.values["SalesQuotationName"] == opportunity.values["Title"]
        (interest,) = w.search(CRM, "OpportunityProductInterest", OpportunityId=opportunity.key.id)
        (line,) = _rows(w, "SalesQuotationLines", SalesQuotationNumber=number)
        product = w.get(CRM, "Product", interest.values["ProductId"])
        assert line.values["ItemNumber"] == product.values["Code"]
        assert line.values["RequestedSalesQuantity"] == interest.values["Quantity"]
        assert line.values["SalesPrice"] == interest.values["Price"]
        assert line.values["LineAmount"] == interest.values["Amount"]
        assert w.get(CRM, "Opportunity", opportunity.key.id).values["UsrErpQuotationId"] == number


def test_opportunity_in_qualification_is_not_quoted(tmp_path):
    early = seed_id("OpportunityStage", "Qualification")
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        opportunity = w.run(
            w.crm.update("Opportunity", seed_id("Opportunity", 10), {"StageId": early})
        )
        assert w.sync("opportunities_quotations", opportunity.key).action == "skipped"
        w.run(w.crm.update("Opportunity", opportunity.key.id, {"StageId": WON}))
        assert w.sync("opportunities_quotations", opportunity.key).action == "created"


def test_confirmed_order_becomes_sales_order_with_lines_warehouse_and_dimensions(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = w.get(CRM, "Order", seed_id("Order", 5))
        outcome = w.sync("orders_sales_orders", order.key)
        assert outcome.action == "created"
        header = w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id).values
        assert header["dataAreaId"] == "usmf"
        assert header["OrderingCustomerAccountNumber"] == "C00005"
        assert header["CustomersOrderReference"] == order.values["Number"]
        assert header["DefaultShippingWarehouseId"] == "11"
        assert header["DeliveryModeCode"] == "10"
        assert header["DefaultLedgerDimensionDisplayValue"] == "BU-US-SALES-CC100"
        (source_line,) = w.search(CRM, "OrderProduct", OrderId=order.key.id)
        (line,) = _rows(w, "SalesOrderLines", SalesOrderNumber=header["SalesOrderNumber"])
        assert line.values["OrderedSalesQuantity"] == source_line.values["Quantity"]
        assert line.values["LineAmount"] == source_line.values["Amount"]
        written = w.get(CRM, "Order", order.key.id).values["UsrErpOrderNumber"]
        assert written == header["SalesOrderNumber"]


def test_posted_then_partly_paid_invoice_status_reaches_creatio(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = w.get(CRM, "Order", seed_id("Order", 10))
        outcome = w.sync("orders_sales_orders", order.key)
        header = w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id).values
        number = header["SalesOrderNumber"]
        _action(w, "post-invoice", {"dataAreaId": "usmf", "SalesOrderNumber": number})
        (open_tx,) = w.search(ERP, "CustomerOpenTransactions", CustomerAccount="C00010")
        posted = w.sync("invoices_status", open_tx.key)
        assert posted.action == "created"
        invoice = w.get(CRM, "Invoice", RecordKey.parse(posted.target_key).id).values
        assert invoice["AccountId"] == seed_id("Account", 10)
        assert invoice["UsrErpInvoiceNumber"] == open_tx.values["InvoiceNumber"]
        assert invoice["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Planned")
        assert invoice["Amount"] == open_tx.values["AmountCurrency"]
        body = {"dataAreaId": "usmf", "InvoiceNumber": open_tx.values["InvoiceNumber"]}
        _action(w, "post-payment", {**body, "Amount": 10})
        paid = w.sync("invoices_status", open_tx.key)
        assert paid.action == "updated"
        invoice = w.get(CRM, "Invoice", RecordKey.parse(posted.target_key).id).values
        assert invoice["PaymentStatusId"] == seed_id("InvoicePaymentStatus", "Partially paid")
        assert invoice["PaymentAmount"] == Decimal(10)
        assert "Amount due" in invoice["Notes"]


def test_on_hand_change_updates_product_availability(tmp_path):
    main = RecordKey("d365", "WarehousesOnHandV2", "usmf/P00003/11")
    east = RecordKey("d365", "WarehousesOnHandV2", "usmf/P00003/12")
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        body = {"dataAreaId": "usmf", "ItemNumber": "P00003", "InventoryWarehouseId": "11"}
        _action(w, "change-onhand", {**body, "OnHandQuantity": 77})
        outcome = w.sync("on_hand_products", main)
        assert outcome.action == "matched_updated"
        product = w.get(CRM, "Product", seed_id("Product", "P00003")).values
        # Availability is the legal entity's stock over all its warehouses.
        east_quantity = w.get(ERP, "WarehousesOnHandV2", east.id).values["OnHandQuantity"]
        assert product["UsrAvailableQty"] == Decimal(77) + east_quantity
        assert product["UsrAvailabilityUpdatedOn"] is not None
        assert w.sync("on_hand_products", east).action in {"unchanged", "skipped"}


def test_customer_payment_becomes_activity_on_the_account(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        order = w.get(CRM, "Order", seed_id("Order", 5))
        outcome = w.sync("orders_sales_orders", order.key)
        header = w.get(ERP, "SalesOrderHeadersV2", RecordKey.parse(outcome.target_key).id).values
        _action(
            w,
            "post-invoice",
            {"dataAreaId": "usmf", "SalesOrderNumber": header["SalesOrderNumber"]},
        )
        (open_tx,) = w.search(ERP, "CustomerOpenTransactions", CustomerAccount="C00005")
        event = _action(
            w,
            "post-payment",
            {"dataAreaId": "usmf", "InvoiceNumber": open_tx.values["InvoiceNumber"]},
        )
        (journal_line,) = w.search(ERP, "CustomerPaymentJournalLines", AccountDisplayValue="C00005")
        created = w.sync("payments_activities", journal_line.key)
        assert created.action == "created", event
        activity = w.get(CRM, "Activity", RecordKey.parse(created.target_key).id).values
        assert activity["AccountId"] == seed_id("Account", 5)
        assert "Payment" in activity["Title"]
        assert open_tx.values["InvoiceNumber"] in activity["DetailedResult"]


def test_quotation_retried_after_a_crash_keeps_one_header_and_one_line(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        job = w.inst.unit("opportunities_quotations").job
        opportunity = w.get(CRM, "Opportunity", seed_id("Opportunity", 10))
        real_settle = job.settle

        class Killed(Exception):
            """Stands for the process dying after the writes, before the link commit."""

        def crash(*args, **kwargs):
            raise Killed

        job.settle = crash  # type: ignore[method-assign]
        with pytest.raises(Killed):
            w.sync("opportunities_quotations", opportunity.key)
        job.settle = real_settle  # type: ignore[method-assign]
        outcome = w.sync("opportunities_quotations", opportunity.key)
        assert outcome.action in {"created", "updated", "unchanged"}
        quotations = w.search(ERP, "SalesQuotationHeadersV2", OpportunityId=opportunity.key.id)
        assert len(quotations) == 1
        number = quotations[0].values["SalesQuotationNumber"]
        assert len(_rows(w, "SalesQuotationLines", SalesQuotationNumber=number)) == 1


def test_quotation_whose_lines_were_never_written_gets_them_on_the_next_run(tmp_path):
    with world(tmp_path, load_solution("creatio_d365"), ERP) as w:
        job = w.inst.unit("opportunities_quotations").job
        opportunity = w.get(CRM, "Opportunity", seed_id("Opportunity", 10))
        real_lines = job.create_lines

        class Killed(Exception):
            """Stands for the process dying after the header, before its lines."""

        async def crash(*args, **kwargs):
            raise Killed

        job.create_lines = crash  # type: ignore[method-assign]
        with pytest.raises(Killed):
            w.sync("opportunities_quotations", opportunity.key)
        job.create_lines = real_lines  # type: ignore[method-assign]
        outcome = w.sync("opportunities_quotations", opportunity.key)
        assert outcome.action == "created"
        quotations = w.search(ERP, "SalesQuotationHeadersV2", OpportunityId=opportunity.key.id)
        assert len(quotations) == 1
        number = quotations[0].values["SalesQuotationNumber"]
        assert len(_rows(w, "SalesQuotationLines", SalesQuotationNumber=number)) == 1
