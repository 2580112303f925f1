"""Protocol details of the simulated gateway: envelope, errors, limits and hostile input."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from lxml import etree

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.intacct.app import IntacctSimulator

LOGIN = (
    "<login><userid>admin</userid><companyid>SIMCO</companyid><password>admin</password>"
    "<locationid>{entity}</locationid></login>"
)


def envelope(auth: str, *functions: str, sender: str = "simsenderpw") -> bytes:
    content = "".join(f'<function controlid="f{i}">{f}</function>' for i, f in enumerate(functions))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><request><control><senderid>simsender</senderid>'
        f"<password>{sender}</password><controlid>c1</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication>"
        f"{auth}</authentication><content>{content}</content></operation></request>"
    ).encode()


def post(server: SimulatorServer, body: bytes) -> etree._Element:
    response = httpx.post(server.base_url + "/ia/xml/xmlgw.phtml", content=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content)


def session(server: SimulatorServer, entity: str = "") -> str:
    root = post(server, envelope(LOGIN.format(entity=entity), "<getAPISession/>"))
    return root.findtext("operation/result/data/api/sessionid")


def test_login_answers_session_endpoint_and_timeouts(server: SimulatorServer) -> None:
    root = post(server, envelope(LOGIN.format(entity="E100"), "<getAPISession/>"))
    assert root.findtext("control/status") == "success"
    assert root.find("control/password") is None
    assert root.findtext("operation/authentication/locationid") == "E100"
    assert root.findtext("operation/authentication/sessiontimeout").endswith("+00:00")
    assert root.findtext("operation/result/data/api/endpoint").endswith("/ia/xml/xmlgw.phtml")


def test_bad_sender_is_a_control_failure_without_operation(server: SimulatorServer) -> None:
    root = post(server, envelope(LOGIN.format(entity=""), "<getAPISession/>", sender="nope"))
    assert root.findtext("control/status") == "failure"
    assert root.find("operation") is None
    assert root.findtext("errormessage/error/errorno") == "XL03000006"


def test_bad_login_and_bad_session_fail_authentication(server: SimulatorServer) -> None:
    bad = LOGIN.format(entity="").replace("<password>admin<", "<password>x<")
    root = post(server, envelope(bad, "<getAPISession/>"))
    assert root.findtext("operation/authentication/status") == "failure"
    assert root.find("operation/result") is None
    assert "Sign-in information is incorrect" in root.findtext(
        "operation/errormessage/error/description2"
    )
    root = post(server, envelope("<sessionid>expired</sessionid>", "<getDimensions/>"))
    assert "Invalid session" in root.findtext("operation/errormessage/error/description2")


def test_query_pages_with_counts_and_rejects_unknown_field(server: SimulatorServer) -> None:
    auth = f"<sessionid>{session(server)}</sessionid>"
    query = (
        "<query><object>CUSTOMER</object><select><field>CUSTOMERID</field><field>NAME</field>"
        "</select><pagesize>7</pagesize><offset>7</offset></query>"
    )
    bad = "<query><object>CUSTOMER</object><select><field>NOPE</field></select></query>"
    root = post(server, envelope(auth, query, bad, "<lookup><object>WIDGET</object></lookup>"))
    ok, wrong, unknown = root.findall("operation/result")
    data = ok.find("data")
    assert (data.get("offset"), data.get("count")) == ("7", "7")
    assert int(data.get("numremaining")) == int(data.get("totalcount")) - 14
    assert [c.tag for c in data[0]] == ["CUSTOMERID", "NAME"]
    assert wrong.findtext("errormessage/error/errorno") == "XL03000010"
    assert "customer.NOPE" in wrong.findtext("errormessage/error/description2")
    assert "Object definition WIDGET not found" in unknown.findtext(
        "errormessage/error/description2"
    )


def test_read_by_query_and_read_more_walk_a_cursor(server: SimulatorServer) -> None:
    auth = f"<sessionid>{session(server)}</sessionid>"
    first = post(
        server,
        envelope(
            auth,
            "<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields>"
            "<query>STATUS = 'T'</query><pagesize>15</pagesize></readByQuery>",
        ),
    ).find("operation/result/data")
    assert first.get("listtype") == "customer"
    assert first[0].tag == "customer"
    more = post(
        server, envelope(auth, f"<readMore><resultId>{first.get('resultId')}</resultId></readMore>")
    ).find("operation/result/data")
    assert int(first.get("count")) + int(more.get("count")) == int(first.get("totalcount"))
    assert more.get("numremaining") == "0"


def test_create_batch_stops_at_first_failure_and_lists_the_written(
    server: SimulatorServer,
) -> None:
    auth = f"<sessionid>{session(server)}</sessionid>"
    records = (
        "<CLASS><CLASSID>K1</CLASSID><NAME>One</NAME></CLASS>"
        "<CLASS><CLASSID>K1</CLASSID><NAME>Dup</NAME></CLASS>"
        "<CLASS><CLASSID>K3</CLASSID><NAME>Three</NAME></CLASS>"
    )
    result = post(server, envelope(auth, f"<create>{records}</create>")).find("operation/result")
    assert result.findtext("status") == "failure"
    assert result.find("data").get("count") == "1"
    errors = result.findall("errormessage/error")
    assert errors[0].findtext("errorno") == "BL34000061"
    assert errors[1].findtext("description2").startswith("Could not create class record!")


def test_generic_create_of_invoice_points_to_legacy(server: SimulatorServer) -> None:
    auth = f"<sessionid>{session(server)}</sessionid>"
    root = post(
        server,
        envelope(auth, "<create><ARINVOICE><CUSTOMERID>C00001</CUSTOMERID></ARINVOICE></create>"),
    )
    assert "create_invoice" in root.findtext("operation/result/errormessage/error/description2")


@pytest.mark.parametrize(
    "body",
    [
        b"<request><control>",
        b'{"json": "not accepted"}',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<request>&b;</request>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<request>&x;</request>",
    ],
    ids=["malformed", "json", "billion-laughs", "external-entity"],
)
def test_bad_xml_is_a_parse_error_and_the_gateway_stays_up(
    server: SimulatorServer, body: bytes
) -> None:
    response = httpx.post(
        server.base_url + "/ia/xml/xmlgw.phtml",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert b"root:" not in response.content
    assert b"aaaaaaaaaaaaaaaaaaaa" not in response.content
    root = etree.fromstring(response.content)
    assert root.findtext("control/status") == "failure"
    assert root.findtext("errormessage/error/errorno") == "XL03000003"
    assert session(server)  # still serving


def test_oversized_body_is_refused(server: SimulatorServer) -> None:
    response = httpx.post(server.base_url + "/ia/xml/xmlgw.phtml", content=b"<" * (5 * 2**20))
    assert response.status_code == 413
    assert session(server)


def test_concurrency_limit_answers_429_gw_0010() -> None:
    sim = IntacctSimulator(records=3, max_concurrent=1)
    with SimulatorServer(sim) as server:
        sim.faults.configure(None, 300)  # hold each request so two overlap

        def hit(out: list[int]) -> None:
            out.append(
                httpx.post(server.base_url + "/ia/xml/xmlgw.phtml", content=b"<x/>").status_code
            )

        codes: list[int] = []
        threads = [threading.Thread(target=hit, args=(codes,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes)[-1] == 429
        assert 200 in codes
        stats = httpx.get(server.base_url + "/_sim/stats").json()
        assert stats["throttled"] >= 1


def test_transactions_are_counted_per_month(server: SimulatorServer) -> None:
    before = httpx.get(server.base_url + "/_sim/transactions").json()["monthly"]
    auth = f"<sessionid>{session(server)}</sessionid>"
    post(
        server,
        envelope(
            auth,
            "<create><CLASS><CLASSID>T1</CLASSID><NAME>T</NAME></CLASS><CLASS><CLASSID>T2</CLASSID><NAME>T</NAME></CLASS></create>",
        ),
    )
    after = httpx.get(server.base_url + "/_sim/transactions").json()["monthly"]
    assert sum(after.values()) - sum(before.values()) == 2


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/hook"
    httpd.shutdown()


def test_writes_post_signed_change_events(server: SimulatorServer, receiver: str) -> None:
    _Receiver.received.clear()
    httpx.post(server.base_url + "/_sim/webhooks", json={"url": receiver, "secret": "s3cret"})
    auth = f"<sessionid>{session(server)}</sessionid>"
    post(
        server,
        envelope(auth, "<create><CLASS><CLASSID>W1</CLASSID><NAME>W</NAME></CLASS></create>"),
    )
    deadline = time.monotonic() + 5
    while not _Receiver.received and time.monotonic() < deadline:
        time.sleep(0.02)
    httpx.delete(server.base_url + "/_sim/webhooks")
    headers, body = _Receiver.received[0]
    event = json.loads(body)
    assert (event["object"], event["id"], event["action"]) == ("CLASS", "W1", "create")
    assert event["recordno"]
    assert event["whenmodified"]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Syncloom-Signature"] == expected
    assert headers["X-Syncloom-Timestamp"].isdigit()
