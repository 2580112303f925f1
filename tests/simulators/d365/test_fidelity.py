"""The unmodified msal and python-odata clients against the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import msal
import pytest
import requests
from odata import ODataService

from tests.simulators.d365.conftest import RunningD365


@pytest.fixture
def trusted(d365: RunningD365, monkeypatch: pytest.MonkeyPatch) -> RunningD365:
    # requests lets REQUESTS_CA_BUNDLE override a session's own verify, so point it at our CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", d365.ca_file)
    return d365


def _msal_token(d365: RunningD365, secret: str = "sim-secret") -> dict:
    with requests.Session() as session:
        session.verify = d365.ca_file
        app = msal.ConfidentialClientApplication(
            "sim-client",
            client_credential=secret,
            authority=f"{d365.base_url}/simtenant",
            instance_discovery=False,
            http_client=session,
        )
        return app.acquire_token_for_client(scopes=[f"{d365.base_url}/.default"])


def test_msal_gets_a_token_the_data_endpoint_accepts(trusted):
    result = _msal_token(trusted)
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] > 300
    with trusted.client(result["access_token"]) as client:
        assert client.get("/data/CustomerGroups").status_code == 200


def test_msal_reports_a_wrong_secret_as_invalid_client(trusted):
    result = _msal_token(trusted, secret="wrong")
    assert "access_token" not in result
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]


@pytest.fixture
def service(trusted: RunningD365) -> Iterator[ODataService]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {_msal_token(trusted)['access_token']}"
        yield ODataService(f"{trusted.base_url}/data/", reflect_entities=True, session=session)


def test_python_odata_reflects_metadata_and_reads(service):
    customers = service.entities["CustomersV3"]
    rows = service.query(customers).all()
    assert rows
    assert all(row.dataAreaId == "usmf" for row in rows)
    first = service.query(customers).filter(customers.CustomerAccount == rows[0].CustomerAccount)
    assert first.first().OrganizationName == rows[0].OrganizationName
    assert service.query(customers).count() == len(rows)


def test_python_odata_gets_by_composite_key_and_follows_next_links(trusted, service):
    customers = service.entities["CustomersV3"]
    sample = service.query(customers).first()
    found = service.query(customers).get(dataAreaId="usmf", CustomerAccount=sample.CustomerAccount)
    assert found.OrganizationName == sample.OrganizationName
    trusted.simulator.reader.page_size = 3
    try:
        rows = service.query(customers).all()
    finally:
        trusted.simulator.reader.page_size = 10_000
    assert len(rows) == len({r.CustomerAccount for r in rows}) > 3


def test_python_odata_creates_updates_and_deletes(service):
    customers = service.entities["CustomersV3"]
    new = customers()
    new.dataAreaId = "usmf"
    new.CustomerAccount = "PYODATA-1"
    new.OrganizationName = "Made by python-odata"
    new.CustomerGroupId = "10"
    service.save(new)
    assert new.__odata__.id  # the 201 body was read back
    new.OrganizationName = "Renamed by python-odata"
    service.save(new)
    again = service.query(customers).get(dataAreaId="usmf", CustomerAccount="PYODATA-1")
    assert again.OrganizationName == "Renamed by python-odata"
    service.delete(again)
    assert service.query(customers).filter(customers.CustomerAccount == "PYODATA-1").first() is None
