"""The unmodified creatio-api-py 1.3.3 client against the Creatio simulator."""

from __future__ import annotations

import httpx
import pytest
import requests
from creatio_api_py.api import CreatioODataAPI
from cryptography.fernet import Fernet

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.testing import SimulatorHandle


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(CreatioSimulator(records=10)) as running:
        yield running


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Keep the client's cookie file, cache and .env lookup out of the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSIONS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CREATIO_USERNAME", raising=False)
    monkeypatch.delenv("CREATIO_PASSWORD", raising=False)
    return tmp_path


def make_client(url: str, sandbox) -> CreatioODataAPI:
    return CreatioODataAPI(base_url=url, cookies_file=sandbox / "sessions.bin")


def logins(url: str) -> int:
    return SimulatorHandle(url).stats()["auth"]["logins"]


def test_login_sets_the_cookies_the_client_keeps(server, sandbox):
    api = make_client(server.base_url, sandbox)
    response = api.authenticate("Supervisor", "Supervisor")
    assert response.json()["Code"] == 0
    cookies = api.session_cookies
    assert {".ASPXAUTH", "BPMCSRF", "BPMLOADER", "UserName"} <= set(cookies)
    assert cookies["UserName"] == "83|117|112|101|114|118|105|115|111|114"


def test_wrong_password_raises_the_clients_value_error(server, sandbox):
    api = make_client(server.base_url, sandbox)
    with pytest.raises(ValueError, match="Invalid username or password"):
        api.authenticate("Supervisor", "wrong")


def test_create_read_filter_update_delete(server, sandbox):
    api = make_client(server.base_url, sandbox)
    api.authenticate("Supervisor", "Supervisor")
    created = api.add_collection_data("Account", {"Name": "Fidelity O'Brien", "Code": "FID1"})
    assert created.status_code == 201
    account_id = created.json()["Id"]

    found = api.get_collection_data(
        "Account",
        filter=f"Id eq {account_id} and Name eq 'Fidelity O''Brien'",
        select=["Id", "Name", "ModifiedOn"],
        order_by="ModifiedOn asc",
        top=5,
        skip=0,
        count=True,
    ).json()
    assert found["@odata.count"] == 1
    assert [row["Name"] for row in found["value"]] == ["Fidelity O'Brien"]

    # 1.3.3 sends the PATCH body form-encoded; the simulator tolerates it by default.
    updated = api.modify_collection_data("Account", account_id, {"Phone": "+1 555 0199"})
    assert updated.status_code == 204
    phone = api.get_collection_data("Account", record_id=account_id, value="Phone")
    assert phone.text == "+1 555 0199"

    count = api.get_collection_data("Account", only_count=True)
    assert int(count.text) >= 11

    assert api.delete_collection_data("Account", account_id).status_code == 204
    with pytest.raises(requests.HTTPError) as caught:
        api.get_collection_data("Account", record_id=account_id)
    assert caught.value.response.status_code == 404


def test_bad_filter_surfaces_as_http_error_with_odata_envelope(server, sandbox):
    api = make_client(server.base_url, sandbox)
    api.authenticate("Supervisor", "Supervisor")
    with pytest.raises(requests.HTTPError) as caught:
        api.get_collection_data("Account", filter="Nope eq 1")
    assert caught.value.response.status_code == 400
    assert (
        "Could not find a property named 'Nope'"
        in (caught.value.response.json()["error"]["message"])
    )


def test_cached_session_is_reused_without_a_new_login(server, sandbox):
    make_client(server.base_url, sandbox).authenticate("Supervisor", "Supervisor")
    before = logins(server.base_url)
    again = make_client(server.base_url, sandbox)
    response = again.authenticate("Supervisor", "Supervisor")
    assert response.status_code is None  # the client's "used the cached cookie" answer
    assert logins(server.base_url) == before
    assert again.get_collection_data("Account", top=1).status_code == 200


def test_stale_cached_session_is_detected_by_the_login_redirect(sandbox):
    with SimulatorServer(CreatioSimulator(records=3, unauth_mode="redirect")) as running:
        make_client(running.base_url, sandbox).authenticate("Supervisor", "Supervisor")
        httpx.post(f"{running.base_url}/_sim/sessions", json={"expire": True})
        before = logins(running.base_url)
        again = make_client(running.base_url, sandbox)
        response = again.authenticate("Supervisor", "Supervisor")
        assert response.status_code == 200
        assert logins(running.base_url) == before + 1
        assert again.get_collection_data("Account", top=1).status_code == 200


def test_file_upload_and_download_round_trip(server, sandbox):
    api = make_client(server.base_url, sandbox)
    api.authenticate("Supervisor", "Supervisor")
    account_id = api.add_collection_data("Account", {"Name": "Files Inc"}).json()["Id"]
    source = sandbox / "up.txt"
    source.write_bytes(b"abc")
    assert api.upload_file("AccountFile", account_id, source).json()["success"] is True
    rows = api.get_collection_data(
        "AccountFile", filter=f"Account/Id eq {account_id}", select=["Id", "Name", "Size"]
    ).json()["value"]
    assert [(r["Name"], r["Size"]) for r in rows] == [("up.txt", 3)]
    out = sandbox / "out"
    out.mkdir()
    api.download_file("AccountFile", rows[0]["Id"], out)
    assert (out / "up.txt").read_bytes() == b"abc"
