"""Protocol details of the Creatio simulator: auth, OData reads and writes, bad input."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.creatio.auth import INTEGRATION_CONTACT, SUPERVISOR_CONTACT
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE, seed_id
from syncloom.testing import SimulatorHandle
from tests.simulators.creatio.conftest import LOGIN, SUPERVISOR, login

ZERO = "00000000-0000-0000-0000-000000000000"
SEVEN_DIGITS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def test_login_answers_compact_json_and_five_cookies(server):
    response = httpx.post(f"{server.base_url}{LOGIN}", json=SUPERVISOR)
    assert response.status_code == 200
    assert response.text == (
        '{"Code":0,"Message":"","Exception":null,"PasswordChangeUrl":null,"RedirectUrl":null}'
    )
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    assert set(cookies) == {"BPMLOADER", ".ASPXAUTH", "BPMCSRF", "UserName", "UserType"}
    assert "HttpOnly" in cookies[".ASPXAUTH"]
    assert "HttpOnly" not in cookies["BPMCSRF"]
    assert all("Path=/" in c for c in cookies.values())


def test_failed_login_is_200_with_exception_and_no_ticket(server):
    response = httpx.post(
        f"{server.base_url}{LOGIN}", json={**SUPERVISOR, "UserPassword": "x", "TimeZoneOffset": 0}
    )
    body = response.json()
    assert (response.status_code, body["Code"]) == (200, 1)
    assert body["Exception"]["Message"] == body["Message"] != ""
    assert ".ASPXAUTH" not in response.headers.get("set-cookie", "")
    assert httpx.post(f"{server.base_url}/0{LOGIN}", json=SUPERVISOR).status_code == 401


def test_odata_needs_login_and_writes_need_csrf(server, crm):
    assert httpx.get(f"{server.base_url}/0/odata/Account").status_code == 401
    assert crm.get("/0/odata/Account", headers={"BPMCSRF": ""}).status_code == 200
    refused = crm.post("/0/odata/City", json={"Name": "X"}, headers={"BPMCSRF": "forged"})
    assert refused.status_code == 403
    assert crm.post("/0/odata/City", json={"Name": "Y"}).status_code == 201


def test_idle_login_expires_and_redirect_mode_points_to_login_page():
    with SimulatorServer(CreatioSimulator(records=2, unauth_mode="redirect")) as running:
        crm = login(running.base_url)
        SimulatorHandle(running.base_url).advance_clock(3601)
        response = crm.get("/0/odata/Account")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/Login/NuiLogin.aspx?ReturnUrl=%2F0%2F")
        page = crm.get(response.headers["location"])
        assert page.status_code == 200
        assert "<title>Creatio</title>" in page.text


def test_oauth_token_is_bearer_without_csrf_and_expires(server):
    handle = SimulatorHandle(server.base_url)
    bad = httpx.post(
        f"{server.base_url}/connect/token",
        data={"grant_type": "client_credentials", "client_id": "sim-client", "client_secret": "no"},
    )
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_client"})
    token = httpx.post(
        f"{server.base_url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sim-client",
            "client_secret": "sim-secret",
        },
    ).json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    made = httpx.post(f"{server.base_url}/0/odata/City", json={"Name": "Tok"}, headers=bearer)
    assert made.status_code == 201
    assert made.json()["ModifiedById"] == INTEGRATION_CONTACT
    handle.advance_clock(3600)
    assert httpx.get(f"{server.base_url}/0/odata/City", headers=bearer).status_code == 401
    handle.freeze_clock(None)


def test_collection_envelope_headers_and_encoded_options(server, crm):
    response = crm.get(
        "/0/odata/Account?%24top=3&%24skip=1&%24count=true&%24orderby=Name+desc"
        "&%24select=Id%2CName&%24filter=Country%2FCode+eq+%27DE%27",
        headers={"Accept": "application/json; odata=verbose"},
    )
    assert response.headers["content-type"] == "application/json; odata.metadata=minimal"
    assert response.headers["odata-version"] == "4.0"
    body = response.json()
    assert body["@odata.context"].endswith("/0/odata/$metadata#Account")
    names = [row["Name"] for row in body["value"]]
    assert names == sorted(names, reverse=True)
    assert len(names) <= 3
    assert body["@odata.count"] >= len(names) + 1
    assert "@odata.nextLink" not in body
    assert set(body["value"][0]) == {"Id", "Name"}
    count = crm.get("/0/odata/Account/$count")
    assert count.headers["content-type"].startswith("text/plain")
    assert int(count.text) >= 12


def test_full_row_uses_creatio_empty_values(server, crm):
    row = crm.post("/0/odata/Account", json={"Name": "Empty values"}).json()
    assert row["ParentId"] == ZERO
    assert row["Notes"] == ""
    assert row["ProcessListeners"] == 0
    assert row["OwnerId"] == SUPERVISOR_CONTACT == row["CreatedById"]
    assert SEVEN_DIGITS.match(row["CreatedOn"])
    assert row["CreatedOn"] == row["ModifiedOn"]
    assert row["Logo@odata.mediaContentType"] == "application/octet-stream"
    contact = crm.post("/0/odata/Contact", json={"Name": "Ada King"}).json()
    assert (contact["GivenName"], contact["Surname"]) == ("Ada", "King")
    assert contact["BirthDate"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("expression", "status", "text"),
    [
        (f"Id eq '{ZERO}'", 400, "'Edm.Guid' and 'Edm.String' for operator kind 'Equal'"),
        ("ModifiedOn gt '2024-01-01T00:00:00Z'", 400, "for operator kind 'GreaterThan'"),
        (f"AccountId eq {ZERO}", 500, "Column by path AccountId not found in schema Contact."),
        ("Name in ('a')", 400, "'in' operator"),
        (
            "Foo eq 1",
            400,
            "Could not find a property named 'Foo' on type "
            "'Terrasoft.Configuration.OData.Contact'.",
        ),
        ("Name eq 'unterminated", 400, "Syntax error"),
        (
            " or ".join([f"Id eq {ZERO}"] * 20),
            400,
            "The node count limit of '100' has been exceeded.",
        ),
    ],
)
def test_filter_errors_match_creatio(crm, expression, status, text):
    response = crm.get("/0/odata/Contact", params={"$filter": expression})
    assert response.status_code == status
    error = response.json()["error"]
    inner = error["innererror"]
    assert text in " ".join(
        [error["message"], inner["message"], inner.get("internalexception", {}).get("message", "")]
    )


def test_filter_literals_navigation_and_functions(crm):
    account = seed_id("Account", 3)
    ok = [
        f"Account/Id eq {account}",
        "ModifiedOn ge 2025-01-01T00:00:00Z and ModifiedOn lt 2030-01-01T00:00:00.000+02:00",
        "startswith(Account/Code,'C0000') and not (Email eq null)",
        " or ".join([f"Id eq {ZERO}"] * 15) + f" or Account/Id eq {account}",
    ]
    for expression in ok:
        response = crm.get("/0/odata/Contact", params={"$filter": expression, "$select": "Id"})
        assert response.status_code == 200, (expression, response.text)
        assert response.json()["value"], expression


def test_expand_one_level_with_nested_select(crm):
    body = crm.get(
        "/0/odata/Contact",
        params={"$top": 1, "$select": "Name", "$expand": "Account($select=Name,Code)"},
    ).json()
    assert set(body["value"][0]["Account"]) == {"Name", "Code"}


def test_row_limit_is_a_500():
    with SimulatorServer(CreatioSimulator(records=10, max_rows=5)) as running:
        crm = login(running.base_url)
        response = crm.get("/0/odata/Account")
        assert response.status_code == 500
        assert "MaxEntityRowCount" in response.json()["error"]["innererror"]["message"]
        assert crm.get("/0/odata/Account", params={"$top": 5}).status_code == 200


def test_client_id_duplicate_fk_and_missing_rows(crm):
    chosen = str(uuid.uuid4())
    made = crm.post(
        "/0/odata/Account", json={"Id": chosen, "Name": "Chosen", "TypeId": CUSTOMER_TYPE}
    )
    assert made.status_code == 201
    assert made.headers["location"].endswith(f"/0/odata/Account({chosen})")
    again = crm.post("/0/odata/Account", json={"Id": chosen, "Name": "Chosen"})
    assert again.status_code == 500
    assert "duplicate key" in again.json()["error"]["innererror"]["message"]
    bad_fk = crm.post("/0/odata/Contact", json={"Name": "A B", "AccountId": str(uuid.uuid4())})
    assert bad_fk.status_code == 500
    assert "foreign key" in bad_fk.text
    assert crm.patch(f"/0/odata/Account({uuid.uuid4()})", json={"Name": "x"}).status_code == 404
    assert crm.get(f"/0/odata/Account({uuid.uuid4()})").content == b""
    referenced = crm.delete(f"/0/odata/Account({seed_id('Account', 1)})")
    assert referenced.status_code == 500
    assert "violates foreign key" in referenced.text
    patched = crm.patch(f"/0/odata/Account({chosen})", json={"Phone": "1", "Parent": {"x": 1}})
    assert patched.status_code == 204
    assert patched.content == b""
    assert crm.delete(f"/0/odata/Account({chosen})").status_code == 204


def test_bad_input_gets_documented_shapes_and_server_stays_up(server, crm):
    malformed = crm.post(
        "/0/odata/Account", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert "error" in malformed.json()
    unknown = crm.post("/0/odata/Account", json={"Name": "x", "Bogus": 1})
    assert unknown.status_code == 400
    assert "'Bogus' does not exist" in unknown.text
    routing = crm.get("/0/odata/UsrNothing")
    assert routing.status_code == 404
    assert (
        routing.json()["MessageDetail"]
        == "No type was found that matches the controller named 'UsrNothing'."
    )
    assert crm.get("/0/odata/account").status_code == 404  # set names are case-sensitive
    huge = crm.post("/0/odata/Account", content=b"x" * (CreatioSimulator.max_body_bytes + 1))
    assert huge.status_code == 413
    assert (
        crm.post(
            "/0/odata/$batch", content=b"[]", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert crm.get("/0/odata/Account", params={"$top": 1}).status_code == 200


def test_json_batch_stops_at_first_error_unless_continue(crm):
    requests = [
        {"id": "1", "method": "POST", "url": "City", "body": {"Name": "B1"}},
        {"id": "2", "method": "POST", "url": "City", "body": {"Bogus": 1}},
        {"id": "3", "method": "POST", "url": "City", "body": {"Name": "B3"}},
    ]
    stopped = crm.post("/0/odata/$batch", json={"requests": requests}).json()["responses"]
    assert [r["status"] for r in stopped] == [201, 400]
    requests[0]["headers"] = {"Prefer": "continue-on-error"}
    kept = crm.post("/0/odata/$batch", json={"requests": requests}).json()["responses"]
    assert [r["status"] for r in kept] == [201, 400, 201]
    too_many = [{"id": str(n), "method": "GET", "url": "City"} for n in range(101)]
    assert crm.post("/0/odata/$batch", json={"requests": too_many}).status_code == 400


def test_atomicity_group_rolls_back_as_one(crm):
    city = str(uuid.uuid4())
    requests = [
        {
            "id": "a",
            "atomicityGroup": "g",
            "method": "POST",
            "url": "City",
            "body": {"Id": city, "Name": "G"},
        },
        {
            "id": "b",
            "atomicityGroup": "g",
            "method": "PATCH",
            "url": f"City/{city}",
            "body": {"Nope": 1},
        },
    ]
    responses = crm.post("/0/odata/$batch", json={"requests": requests}).json()["responses"]
    assert {r["status"] for r in responses} == {400}
    assert crm.get(f"/0/odata/City({city})").status_code == 404


def test_multipart_batch_with_changeset(crm):
    city = str(uuid.uuid4())
    body = (
        "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n"
        "--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        "Content-ID: 1\r\n\r\nPOST City HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
        f'{{"Id":"{city}","Name":"Multi"}}\r\n--changeset_1--\r\n'
        "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"GET City({city}) HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--batch_1--\r\n"
    )
    headers = {"Content-Type": "multipart/mixed; boundary=batch_1", "Accept": "multipart/mixed"}
    response = crm.post("/0/odata/$batch", content=body.encode(), headers=headers)
    assert response.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert "changesetresponse_" in response.text
    assert "HTTP/1.1 201 Created" in response.text
    assert "HTTP/1.1 200 OK" in response.text
    as_json = crm.post(
        "/0/odata/$batch",
        content=body.replace(city, str(uuid.uuid4())).encode(),
        headers={**headers, "Accept": "application/json"},
    )
    assert [r["status"] for r in as_json.json()["responses"]] == [201, 200]


def test_metadata_and_service_document(crm):
    xml = crm.get("/0/odata/$metadata").text
    assert 'Namespace="Terrasoft.Configuration.OData"' in xml
    assert '<Property Name="AccountId" Type="Edm.Guid"' in xml
    assert '<ReferentialConstraint Property="AccountId" ReferencedProperty="Id"/>' in xml
    names = {s["name"] for s in crm.get("/0/odata/").json()["value"]}
    assert {
        "Account",
        "Contact",
        "Opportunity",
        "OpportunityProductInterest",
        "Order",
        "OrderProduct",
        "Product",
        "Invoice",
        "Activity",
        "Currency",
        "Country",
        "City",
        "AccountType",
        "OpportunityStage",
        "OrderStatus",
    } <= names


def test_netcore_layout_and_pings():
    with SimulatorServer(CreatioSimulator(records=2, netcore=True)) as running:
        crm = login(running.base_url)
        assert crm.get("/odata/Account", params={"$top": 1}).status_code == 200
        assert crm.get("/0/odata/Account").status_code == 404
        assert crm.get("/api/HealthCheck/Ping").status_code == 200
        assert crm.get("/0/api/HealthCheck/Ping").status_code == 404


def test_reset_restores_the_seeded_state(server, crm):
    made = crm.post("/0/odata/City", json={"Name": "Transient"}).json()["Id"]
    SimulatorHandle(server.base_url).reset()
    fresh = login(server.base_url)
    assert fresh.get(f"/0/odata/City({made})").status_code == 404
    assert fresh.get(f"/0/odata/Account({seed_id('Account', 1)})").status_code == 200


def test_file_services_refuse_bad_targets(crm):
    missing = str(uuid.uuid4())
    not_files = crm.post(
        f"/0/rest/FileApiService/UploadFile?fileId={missing}&entitySchemaName=Account", content=b"x"
    )
    assert not_files.status_code == 400
    assert not_files.json()["success"] is False
    no_record = crm.post(
        f"/0/rest/FileApiService/UploadFile?fileId={missing}&entitySchemaName=AccountFile",
        content=b"x",
    )
    assert no_record.status_code == 404
    assert crm.get(f"/0/rest/FileService/Download/AccountFile/{missing}").status_code == 404
    assert (
        httpx.get(f"{crm.base_url}/0/rest/FileService/Download/AccountFile/{missing}").status_code
        == 401
    )
