"""The creatio_intacct Solution end to end: Creatio and Intacct simulators over loopback HTTP."""

from __future__ import annotations

import uuid

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
