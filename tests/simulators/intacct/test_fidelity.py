"""The unmodified sageintacctsdk client against the simulator.

The SDK hard-codes its gateway URL as an instance attribute of every API object
(``ApiBase.__api_url``), with no setting to change it; only that attribute is redirected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sageintacctsdk import SageIntacctSDK
from sageintacctsdk.apis import ApiBase
from sageintacctsdk.exceptions import InvalidTokenError, WrongParamsError

from syncloom.simulators.common.server import SimulatorServer


def _connect(server: SimulatorServer, password: str = "admin") -> SageIntacctSDK:
    url = server.base_url + "/ia/xml/xmlgw.phtml"
    login = ApiBase()
    login._ApiBase__api_url = url  # the URL constant, nothing else
    login.set_sender_id("simsender")
    login.set_sender_password("simsenderpw")
    session_id = login.get_session_id("admin", "SIMCO", password)
    sdk = SageIntacctSDK(
        "simsender", "simsenderpw", "admin", "SIMCO", password, session_id=session_id
    )
    for api in vars(sdk).values():
        if isinstance(api, ApiBase):
            api._ApiBase__api_url = url
    return sdk


@pytest.fixture(scope="module")
def sdk(server: SimulatorServer) -> Iterator[SageIntacctSDK]:
    return _connect(server)


def test_customer_lifecycle_through_the_sdk(sdk: SageIntacctSDK) -> None:
    created = sdk.customers.post(
        {
            "CUSTOMERID": "FID-1",
            "NAME": "Fidelity Corp",
            "DISPLAYCONTACT": {"PRINTAS": "Fidelity Corp", "EMAIL1": "ap@fidelity.example"},
        }
    )
    recordno = created["data"]["customer"]["RECORDNO"]
    assert created["data"]["customer"]["CUSTOMERID"] == "FID-1"

    read = sdk.customers.get("CUSTOMERID", "FID-1")
    assert read["customer"]["NAME"] == "Fidelity Corp"
    assert read["customer"]["DISPLAYCONTACT.EMAIL1"] == "ap@fidelity.example"

    listed = [c for page in sdk.customers.get_all_generator() for c in page]
    assert "FID-1" in [c["CUSTOMERID"] for c in listed]
    assert len(listed) == sdk.customers.count(None)

    sdk.customers.update({"CUSTOMERID": "FID-1", "NAME": "Fidelity Renamed"})
    assert sdk.customers.get("CUSTOMERID", "FID-1")["customer"]["NAME"] == "Fidelity Renamed"

    sdk.customers.delete(recordno)
    assert int(sdk.customers.get("CUSTOMERID", "FID-1")["@count"]) == 0


def test_duplicate_id_is_refused_with_intacct_error(sdk: SageIntacctSDK) -> None:
    sdk.customers.post({"CUSTOMERID": "FID-2", "NAME": "Twice"})
    with pytest.raises(WrongParamsError) as caught:
        sdk.customers.post({"CUSTOMERID": "FID-2", "NAME": "Twice"})
    first = caught.value.response["error"][0]
    assert first["errorno"] == "BL34000061"
    assert "already exists" in first["description2"]


def test_changes_since_a_timestamp_and_default_lists(sdk: SageIntacctSDK) -> None:
    pages = list(sdk.customers.get_all_generator(updated_at="01/01/2000 00:00:00"))
    assert sum(len(p) for p in pages) > 0
    assert sdk.items.get_all()
    assert sdk.contacts.get_all()
    assert sdk.customers.get_lookup()["Type"]["@Name"] == "CUSTOMER"


def test_invoice_through_the_legacy_function(sdk: SageIntacctSDK) -> None:
    result = sdk.ar_invoices.post(
        {
            "customerid": "C00001",
            "datecreated": {"year": "2026", "month": "01", "day": "15"},
            "termname": "N30",
            "invoiceitems": {"lineitem": [{"glaccountno": "4000", "amount": "100.50"}]},
        }
    )
    assert result["key"]
    rows = sdk.ar_invoices.get_by_query(
        fields=["RECORDNO", "TOTALDUE", "STATE"],
        and_filter=[("equalto", "RECORDNO", result["key"])],
    )
    assert rows[0]["TOTALDUE"] == "100.50"
    assert rows[0]["STATE"] == "Posted"


def test_wrong_password_is_an_invalid_token(server: SimulatorServer) -> None:
    with pytest.raises(InvalidTokenError):
        _connect(server, password="wrong")
