"""Protocol details and bad input against the D365 simulator over real TLS."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from syncloom.simulators.common.server import SimulatorServer
from tests.simulators.d365.conftest import RunningD365

KEY = "CustomersV3(dataAreaId='usmf',CustomerAccount='{}')"


@pytest.fixture(scope="module")
def token(d365: RunningD365) -> str:
    return d365.token()


@pytest.fixture
def api(d365: RunningD365, token: str):
    with d365.client(token) as client:
        yield client


def _customer(account: str, **extra: object) -> dict[str, object]:
    return {
        "dataAreaId": "usmf",
        "CustomerAccount": account,
        "OrganizationName": account,
        "CustomerGroupId": "10",
        **extra,
    }


# -- Entra ID ------------------------------------------------------------------------------
def test_discovery_names_https_endpoints_with_the_tenant(d365):
    with d365.client() as client:
        doc = client.get("/simtenant/v2.0/.well-known/openid-configuration").json()
        assert doc["token_endpoint"] == f"{d365.base_url}/simtenant/oauth2/v2.0/token"
        assert doc["issuer"].startswith("https://")
        assert client.get("/othertenant/v2.0/.well-known/openid-configuration").status_code == 400


def test_v1_token_has_string_numbers_and_the_resource(d365):
    form = {
        "client_id": "sim-client",
        "client_secret": "sim-secret",
        "grant_type": "client_credentials",
        "resource": d365.base_url,
    }
    with d365.client() as client:
        body = client.post("/simtenant/oauth2/token", data=form).json()
    assert body["expires_in"] == "3599"
    assert body["resource"] == d365.base_url
    assert int(body["expires_on"]) - int(body["not_before"]) == 3599


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "nope"}, 401, "invalid_client"),
        ({"client_id": "stranger"}, 400, "unauthorized_client"),
        ({"scope": "https://elsewhere.example.com/.default"}, 400, "invalid_scope"),
    ],
)
def test_token_errors_follow_the_entra_shape(d365, form, status, error):
    body = {
        "client_id": "sim-client",
        "client_secret": "sim-secret",
        "grant_type": "client_credentials",
        "scope": f"{d365.base_url}/.default",
        **form,
    }
    with d365.client() as client:
        response = client.post("/simtenant/oauth2/v2.0/token", data=body)
    assert response.status_code == status
    doc = response.json()
    assert doc["error"] == error
    assert {"error_codes", "timestamp", "trace_id", "correlation_id"} <= set(doc)
    assert "sim-secret" not in response.text


def test_missing_token_is_401_with_a_bearer_challenge(d365):
    with d365.client() as client:
        response = client.get("/data/CustomersV3")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["Message"] == "Authentication failed."


def test_token_for_another_audience_is_refused(d365, token):
    other = d365.base_url.replace("127.0.0.1", "localhost")
    with d365.client(token) as client:
        response = client.get(f"{other}/data/CustomersV3")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_is_refused(d365, token):
    with d365.client(token) as client:
        assert client.get("/data/CustomerGroups").status_code == 200
        d365.simulator.clock.advance(3600)
        try:
            assert client.get("/data/CustomerGroups").status_code == 401
        finally:
            d365.simulator.clock.advance(-3600)


# -- reads -----------------------------------------------------------------------------------
def test_collections_are_company_scoped_unless_cross_company(api):
    own = api.get("/data/CustomersV3").json()["value"]
    every = api.get("/data/CustomersV3", params={"cross-company": "true"}).json()["value"]
    assert {r["dataAreaId"] for r in own} == {"usmf"}
    assert {r["dataAreaId"] for r in every} == {"usmf", "demf"}
    demf = next(r for r in every if r["dataAreaId"] == "demf")
    path = f"/data/CustomersV3(dataAreaId='demf',CustomerAccount='{demf['CustomerAccount']}')"
    assert api.get(path).status_code == 404
    assert api.get(path, params={"cross-company": "true"}).status_code == 200


def test_set_names_are_case_sensitive_and_unknown_sets_404(api):
    for path in ("/data/customersv3", "/data/NoSuchEntities"):
        response = api.get(path)
        assert response.status_code == 404
        assert "No HTTP resource was found" in response.json()["error"]["message"]


def test_filters_wildcards_enums_and_refused_operators(api):
    rows = api.get("/data/CustomersV3", params={"$filter": "OrganizationName eq '*group*'"}).json()
    assert rows["value"]
    assert all("group" in r["OrganizationName"].lower() for r in rows["value"])
    enum = "OnHoldStatus eq Microsoft.Dynamics.DataEntities.CustVendorBlocked'No'"
    assert api.get("/data/CustomersV3", params={"$filter": enum}).json()["value"]
    dated = "ModifiedDateTime1 ge 2000-01-01T00:00:00Z and not (CreditLimit lt 0)"
    assert api.get("/data/CustomersV3", params={"$filter": dated}).status_code == 200
    for bad in ("CustomerAccount in ('C1')", "Nope eq 1", "CustomerAccount eq", "(("):
        response = api.get("/data/CustomersV3", params={"$filter": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["message"]


def test_select_count_top_skip_orderby_and_count_segment(api):
    params = {
        "$select": "CustomerAccount",
        "$count": "true",
        "$top": "2",
        "$skip": "1",
        "$orderby": "CustomerAccount desc",
    }
    doc = api.get("/data/CustomersV3", params=params).json()
    assert doc["@odata.context"].endswith("#CustomersV3(CustomerAccount)")
    assert doc["@odata.count"] > 2
    assert len(doc["value"]) == 2
    assert set(doc["value"][0]) == {"@odata.etag", "CustomerAccount"}
    accounts = [r["CustomerAccount"] for r in doc["value"]]
    assert accounts == sorted(accounts, reverse=True)
    assert api.get("/data/CustomersV3/$count").text == str(doc["@odata.count"])


def test_paging_with_next_links_preserves_options(d365, api):
    response = api.get(
        "/data/CustomersV3",
        params={"cross-company": "true", "$select": "CustomerAccount"},
        headers={"Prefer": "odata.maxpagesize=4"},
    )
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=4"
    doc, seen = response.json(), []
    while True:
        seen += [r["CustomerAccount"] for r in doc["value"]]
        link = doc.get("@odata.nextLink")
        if not link:
            break
        assert link.startswith(d365.base_url)
        assert "cross-company=true" in link
        doc = api.get(link, headers={"Prefer": "odata.maxpagesize=4"}).json()
    assert len(seen) == len(set(seen)) == 20


def test_expand_one_level_only(api):
    api.post(
        "/data/SalesOrderHeadersV2",
        json={
            "dataAreaId": "usmf",
            "SalesOrderNumber": "EXP-1",
            "OrderingCustomerAccountNumber": "C00002",
            "CurrencyCode": "USD",
        },
    )
    line = {
        "dataAreaId": "usmf",
        "SalesOrderNumber": "EXP-1",
        "ItemNumber": "P00001",
        "OrderedSalesQuantity": 2,
        "LineAmount": 10,
    }
    assert api.post("/data/SalesOrderLines", json=line).status_code == 201
    params = {
        "$filter": "SalesOrderNumber eq 'EXP-1'",
        "$expand": "SalesOrderLines($select=ItemNumber,SalesOrderNumber)",
    }
    order = api.get("/data/SalesOrderHeadersV2", params=params).json()["value"][0]
    assert [li["ItemNumber"] for li in order["SalesOrderLines"]] == ["P00001"]
    nested = {"$expand": "SalesOrderLines($expand=Nothing)"}
    assert api.get("/data/SalesOrderHeadersV2", params=nested).status_code == 400


def test_a_new_sales_order_is_an_open_order(api):
    made = api.post(
        "/data/SalesOrderHeadersV2",
        json={"dataAreaId": "usmf", "OrderingCustomerAccountNumber": "C00002"},
    )
    assert made.status_code == 201
    # F&O's "Open order", not the enum's first member ("None").
    assert made.json()["SalesOrderStatus"] == "Backorder"


# -- writes ----------------------------------------------------------------------------------
def test_create_update_delete_with_etags(api):
    created = api.post(
        "/data/CustomersV3",
        json={
            **_customer("W-1"),
            "dataAreaId": "USMF",
            "@odata.type": "Microsoft.Dynamics.DataEntities.CustomerV3",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["dataAreaId"] == "usmf"
    assert body["@odata.etag"].startswith('W/"')
    path = "/data/CustomersV3(CustomerAccount='W-1',dataAreaId='usmf')"  # any key order
    stale = {"If-Match": 'W/"JzEsMSc="'}
    assert api.patch(path, json={"OrganizationName": "X"}, headers=stale).status_code == 412
    fresh = {"If-Match": body["@odata.etag"]}
    assert api.patch(path, json={"OrganizationName": "Y"}, headers=fresh).status_code == 204
    again = api.get(path).json()
    assert again["OrganizationName"] == "Y"
    assert again["@odata.etag"] != body["@odata.etag"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_duplicate_and_missing_reference_are_write_exceptions(api):
    assert api.post("/data/CustomersV3", json=_customer("DUP-1")).status_code == 201
    duplicate = api.post("/data/CustomersV3", json=_customer("DUP-1"))
    assert duplicate.status_code == 500
    inner = duplicate.json()["error"]["innererror"]
    assert inner["type"].endswith("AxODataWriteException")
    assert "The record already exists." in inner["message"]
    orphan = api.post("/data/CustomersV3", json=_customer("ORPHAN", CustomerGroupId="ZZ"))
    assert "is not found in the related table" in orphan.json()["error"]["innererror"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/data/CustomersV3", b"{not json"),
        ("POST", "/data/CustomersV3", b'{"NoSuchField": 1}'),
        ("POST", "/data/CustomersV3", b'{"CreditLimit": "lots"}'),
        ("POST", "/data/CustomersV3", b"[1, 2]"),
        ("GET", "/data/CustomersV3(dataAreaId='usmf',CustomerAccount=)", b""),
        ("GET", "/data/CustomersV3(CustomerAccount='x')", b""),
        ("GET", "/data/CustomersV3?$top=-1", b""),
    ],
)
def test_bad_input_gets_a_4xx_envelope_and_the_simulator_stays_up(api, method, path, content):
    response = api.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert api.get("/data/CustomerGroups").status_code == 200


# -- $batch -----------------------------------------------------------------------------------
def _batch(parts: list[tuple[str, str, dict | None]], changeset: bool) -> tuple[bytes, str]:
    lines = []
    for n, (method, url, body) in enumerate(parts, 1):
        payload = json.dumps(body) if body is not None else ""
        lines.append(
            f"--cs\r\nContent-Type: application/http\r\nContent-ID: {n}\r\n\r\n"
            f"{method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{payload}\r\n"
        )
    if changeset:
        inner = "".join(lines) + "--cs--\r\n"
        body = f"--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n{inner}--b--\r\n"
    else:
        body = "".join(line.replace("--cs", "--b", 1) for line in lines) + "--b--\r\n"
    return body.encode(), "multipart/mixed; boundary=b"


def test_failed_changeset_rolls_back_and_independent_parts_stand_alone(api, d365):
    ops = [
        ("POST", "CustomersV3", _customer("B-1")),
        ("POST", "/data/CustomersV3", _customer("B-2", CustomerGroupId="ZZ")),
    ]
    body, kind = _batch(ops, changeset=True)
    response = api.post("/data/$batch", content=body, headers={"Content-Type": kind})
    assert response.status_code == 200
    assert response.text.count("HTTP/1.1 500") == 1
    assert "HTTP/1.1 201" not in response.text
    assert api.get("/data/" + KEY.format("B-1")).status_code == 404  # rolled back
    ops[1] = ("POST", f"{d365.base_url}/data/CustomersV3", _customer("B-2", CustomerGroupId="ZZ"))
    body, kind = _batch(ops, changeset=False)
    response = api.post("/data/$batch", content=body, headers={"Content-Type": kind})
    assert "HTTP/1.1 201" in response.text
    assert "HTTP/1.1 500" in response.text
    assert api.get("/data/" + KEY.format("B-1")).status_code == 200


def test_oversize_and_malformed_batches_are_400(api):
    ops = [("GET", "CustomerGroups", None)] * 5001
    body, kind = _batch(ops, changeset=False)
    response = api.post("/data/$batch", content=body, headers={"Content-Type": kind})
    assert response.status_code == 400
    assert "5000" in response.json()["error"]["message"]
    bad = api.post("/data/$batch", content=b"junk", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400


# -- throttling and business events -----------------------------------------------------
def test_priority_throttling_refuses_low_priority_apps_with_retry_after(d365, api):
    with d365.client() as admin:
        admin.post(
            "/_sim/throttling", json={"pressure": True, "pressure_level": "Low", "retry_after_s": 9}
        )
        try:
            assert api.get("/data/CustomerGroups").status_code == 200  # Medium passes
            admin.post("/_sim/throttling", json={"priorities": {"sim-client": "Low"}})
            response = api.get("/data/CustomerGroups")
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "9"
            assert "high resource utilization" in response.json()["error"]["message"]
        finally:
            admin.post(
                "/_sim/throttling", json={"pressure": False, "priorities": {"sim-client": "Medium"}}
            )


def _run_erp_processes(api, admin) -> str:
    order = {"dataAreaId": "usmf", "SalesOrderNumber": "EV-1"}
    api.post(
        "/data/SalesOrderHeadersV2",
        json={
            **order,
            "OrderingCustomerAccountNumber": "C00002",
            "CurrencyCode": "USD",
            "OrderTotalAmount": 125,
        },
    )
    admin.post("/_sim/actions/confirm-order", json=order)
    number = admin.post("/_sim/actions/post-invoice", json=order).json()["event"]["InvoiceNumber"]
    payment = {"dataAreaId": "usmf", "InvoiceNumber": number, "Amount": 125}
    admin.post("/_sim/actions/post-payment", json=payment)
    stock = {"dataAreaId": "usmf", "ItemNumber": "P00001", "InventoryWarehouseId": "11"}
    admin.post("/_sim/actions/change-onhand", json={**stock, "Delta": -5})
    return str(number)


def test_business_events_are_signed_and_delivered(d365, api):
    received: list[tuple[bytes, dict[str, str]]] = []

    async def intake(request: Request) -> JSONResponse:
        received.append((await request.body(), dict(request.headers)))
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/hook", intake, methods=["POST"])])
    with SimulatorServer(receiver) as hook, d365.client() as admin:
        admin.post("/_sim/business-events", json={"url": f"{hook.base_url}/hook", "secret": "s3"})
        try:
            number = _run_erp_processes(api, admin)
            deadline = time.monotonic() + 10
            while len(received) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            admin.delete("/_sim/business-events")
    # Deliveries are asynchronous: order them by ControlNumber, as a receiver must.
    received.sort(key=lambda item: json.loads(item[0])["ControlNumber"])
    kinds = [json.loads(body)["BusinessEventId"] for body, _ in received]
    assert kinds == [
        "SalesOrderConfirmedBusinessEvent",
        "SalesOrderInvoicedBusinessEvent",
        "CustomerPaymentPostedBusinessEvent",
        "InventoryOnHandChangedBusinessEvent",
    ]
    for body, headers in received:
        digest = hmac.new(b"s3", body, hashlib.sha256).hexdigest()
        assert headers["x-syncloom-signature"] == f"sha256={digest}"
        assert headers["x-syncloom-timestamp"].isdigit()
    assert len({json.loads(body)["EventId"] for body, _ in received}) == 4
    settled = api.get(f"/data/CustomerOpenTransactions(dataAreaId='usmf',InvoiceNumber='{number}')")
    assert settled.json()["IsSettled"] == "Yes"


def test_user_based_request_limit_counts_per_app_in_a_window(d365, api):
    with d365.client() as admin:
        admin.post("/_sim/throttling", json={"request_limit": 3, "window_s": 300})
        try:
            statuses = [api.get("/data/CustomerGroups").status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            refused = api.get("/data/CustomerGroups")
            assert "exceeded the limit of 3" in refused.json()["error"]["message"]
            d365.simulator.clock.advance(301)
            assert api.get("/data/CustomerGroups").status_code == 200
        finally:
            d365.simulator.clock.advance(-301)
            admin.post("/_sim/throttling", json={"request_limit": None})


def test_state_survives_a_restart_with_a_store_file(tmp_path):
    from syncloom.simulators.d365.app import D365Simulator

    path = str(tmp_path / "d365.sqlite")
    first = D365Simulator(records=3, store_path=path)
    rows = first.store.dump()["CustomersV3"]
    second = D365Simulator(records=99, store_path=path)  # loads the file instead of reseeding
    assert len(second.store.dump()["CustomersV3"]) == len(rows) == 3
