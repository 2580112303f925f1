"""Answers from a hostile or broken server: every connector fails with a typed, clear error.

Each simulator sits behind a :class:`HostileProxy` on real loopback sockets; sign-in passes
through, and the data call gets an XML bomb, an external entity, invalid UTF-8, wrong types
or half a body. What must hold: the connector raises a :class:`~syncloom.errors.SyncError`
(never a parser's, codec's or ``KeyError``), nothing from the server's disk leaks into the
message, entity expansion never happens (memory stays bounded), and a big legitimate page is
read in memory proportional to its size. An answer past the connection's byte cap (an endless
body, a 100 MB page) stops at the cap with :class:`ResponseTooLargeError`, naming the system.
"""

from __future__ import annotations

import asyncio
import re
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.d365 import D365Connector
from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLargeError
from syncloom.connectors.intacct import IntacctConnector, IntacctCredentials
from syncloom.errors import PermanentError, SyncError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.d365.app import D365Simulator
from syncloom.simulators.intacct.app import IntacctSimulator
from tests.security.hostile import Armed, HostileProxy

pytestmark = pytest.mark.e2e

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY l1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;"><!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">
<!ENTITY l4 "&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;"><!ENTITY l5 "&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;">
<!ENTITY l6 "&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;"><!ENTITY l7 "&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;">
<!ENTITY l8 "&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;"><!ENTITY l9 "&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;">
]><response><control><status>&l9;</status></control></response>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<response><control><status>success</status></control><operation>&x;</operation></response>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><response/>"""


def _half(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _sub(pattern: bytes, replacement: bytes) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        changed, count = re.subn(pattern, replacement, body, count=1)
        assert count, f"pattern {pattern!r} not in the simulator's answer"
        return changed

    return rewrite


@dataclass
class Target:
    """One connector behind its hostile proxy, and the data call to make."""

    proxy: HostileProxy
    connector: Any
    entity: str

    async def read(self, answer: Armed) -> object:
        """Describe the entity with an honest server, then read a page from a hostile one."""
        try:
            await self.connector.describe(self.entity)
            self.proxy.armed = answer
            page = await self.connector.read_changes(self.entity, None, None, 50)
            return page.records
        finally:
            await self.connector.aclose()


def _intacct_call(path: str, body: bytes) -> bool:
    return b"<function" in body and b"getAPISession" not in body


@contextmanager
def _intacct(cap: int = DEFAULT_MAX_RESPONSE_BYTES) -> Iterator[Target]:
    proxy = HostileProxy(IntacctSimulator(records=3), _intacct_call)
    with SimulatorServer(proxy) as server:
        credentials = IntacctCredentials("simsender", "simsenderpw", "SIMCO", "admin", "admin")
        erp = IntacctConnector(server.base_url, credentials, max_response_bytes=cap)
        yield Target(proxy, erp, "CUSTOMER")


@contextmanager
def _creatio(cap: int = DEFAULT_MAX_RESPONSE_BYTES) -> Iterator[Target]:
    proxy = HostileProxy(CreatioSimulator(records=3), lambda path, _: "/odata/" in path)
    with SimulatorServer(proxy) as server:
        crm = CreatioConnector(
            server.base_url, username="Supervisor", password="Supervisor", max_response_bytes=cap
        )
        yield Target(proxy, crm, "Account")


@contextmanager
def _d365(cap: int = DEFAULT_MAX_RESPONSE_BYTES) -> Iterator[Target]:
    certs = make_certificates()
    proxy = HostileProxy(D365Simulator(records=3), lambda path, _: path.startswith("/data/"))
    with SimulatorServer(
        proxy, certfile=str(certs.cert_file), keyfile=str(certs.key_file)
    ) as server:
        yield Target(
            proxy,
            D365Connector(
                base_url=server.base_url,
                tenant="simtenant",
                client_id="sim-client",
                client_secret="sim-secret",
                authority_host=server.base_url,
                ca_file=str(certs.ca_file),
                max_response_bytes=cap,
            ),
            "CustomersV3",
        )


SYSTEMS = {"intacct": _intacct, "creatio": _creatio, "d365": _d365}
XML_ANSWERS = {
    "billion_laughs": Armed(BOMB, "text/xml"),
    "external_entity": Armed(XXE, "text/xml"),
    "external_dtd": Armed(EXTERNAL_DTD, "text/xml"),
    "truncated": Armed(rewrite=_half),
    "invalid_utf8": Armed(rewrite=_sub(rb"<NAME>", b"<NAME>\xff\xfe\xfa")),
    "wrong_type_timestamp": Armed(
        rewrite=_sub(rb"<WHENMODIFIED>[^<]*<", b"<WHENMODIFIED>yesterday-ish<")
    ),
    "not_xml": Armed(b'{"oops": true}', "application/json"),
    "empty": Armed(b"", "text/xml"),
}
JSON_ANSWERS = {
    "truncated": Armed(rewrite=_half),
    "invalid_utf8": Armed(rewrite=_sub(rb'"Name": ?"', b'"Name":"\xff\xfe\xfa')),
    "value_not_a_list": Armed(b'{"value": "nope"}'),
    "rows_not_objects": Armed(b'{"value": [1, "two", null]}'),
    "not_json": Armed(b"<html><body>Service Unavailable</body></html>", "text/html"),
    "empty": Armed(b""),
    "deeply_nested": Armed(b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
}
D365_ANSWERS = {
    **JSON_ANSWERS,
    "invalid_utf8": Armed(
        rewrite=_sub(rb'"OrganizationName": ?"', b'"OrganizationName":"\xff\xfe')
    ),
}
CASES = (
    [("intacct", name, answer) for name, answer in XML_ANSWERS.items()]
    + [("creatio", name, answer) for name, answer in JSON_ANSWERS.items()]
    + [("d365", name, answer) for name, answer in D365_ANSWERS.items()]
)


@pytest.mark.parametrize(
    ("system", "answer"),
    [(s, a) for s, _, a in CASES],
    ids=[f"{s}-{n}" for s, n, _ in CASES],
)
def test_hostile_answer_is_a_typed_error_and_memory_stays_bounded(system, answer):
    with SYSTEMS[system]() as target:
        tracemalloc.start()
        try:
            with pytest.raises(SyncError) as caught:
                asyncio.run(target.read(answer))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert target.proxy.served >= 1, "the hostile answer was never served"
    message = str(caught.value)
    assert "root:" not in message, "a local file leaked into the error"
    assert len(message) < 2000, "the error carries a whole body"
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB for a small hostile answer"


def _many_customers(body: bytes) -> bytes:
    record = re.search(rb"<customer>.*?</customer>|<CUSTOMER>.*?</CUSTOMER>", body, re.S)
    assert record is not None
    return body.replace(record.group(0), record.group(0) * 5000, 1)


def test_a_huge_page_is_read_in_memory_proportional_to_its_size():
    with _intacct() as target:
        tracemalloc.start()
        try:
            records = asyncio.run(target.read(Armed(rewrite=_many_customers)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert isinstance(records, list)
    assert len(records) >= 5000
    # Roughly 3 MB on the wire; the typed records may cost a few times that, never unbounded.
    assert peak < 256 * 1024 * 1024, f"{peak / 2**20:.0f} MiB"


MIB = 1024 * 1024
CONTENT_TYPES = {"intacct": "text/xml", "creatio": "application/json", "d365": "application/json"}
# What a runaway page looks like on the wire: the start of a real answer, then rows forever.
OPENINGS = {
    "intacct": (b"<response><operation><result><data>", b"<CUSTOMER><NAME>x</NAME></CUSTOMER>"),
    "creatio": (b'{"value": [', b'{"Id": "00000000-0000-0000-0000-000000000000", "Name": "x"},'),
    "d365": (b'{"value": [', b'{"CustomerAccount": "C1", "OrganizationName": "x"},'),
}


def _rows(system: str, total: int | None) -> Callable[[], Iterator[bytes]]:
    """A page of ``total`` bytes (``None``: without end) in 1 MiB chunks, built once."""
    opening, row = OPENINGS[system]
    chunk = (row * (MIB // len(row) + 1))[:MIB]

    def chunks() -> Iterator[bytes]:
        yield opening
        sent = len(opening)
        while total is None or sent < total:
            piece = chunk if total is None else chunk[: total - sent]
            sent += len(piece)
            yield piece

    return chunks


def _read_with_peak(target: Target, answer: Armed) -> tuple[ResponseTooLargeError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError) as caught:
            asyncio.run(target.read(answer))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_an_endless_body_stops_at_the_cap_with_a_typed_error(system):
    cap = 4 * MIB
    with SYSTEMS[system](cap) as target:
        answer = Armed(content_type=CONTENT_TYPES[system], chunks=_rows(system, None))
        error, peak = _read_with_peak(target, answer)
    assert isinstance(error, PermanentError), "a retry would read the same endless page"
    assert error.system == system
    assert error.limit_bytes == cap
    assert "max_response_bytes" in str(error)
    assert target.proxy.streamed_bytes >= cap, "the cap was not what stopped the read"
    assert peak < cap + 8 * MIB, f"{peak / MIB:.0f} MiB held for a {cap / MIB:.0f} MiB cap"


@pytest.mark.parametrize("declared", [True, False], ids=["content_length", "chunked"])
@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_a_100_mb_page_is_refused_at_the_default_cap(system, declared):
    page = 100 * MIB
    with SYSTEMS[system]() as target:
        answer = Armed(
            content_type=CONTENT_TYPES[system],
            chunks=_rows(system, page),
            declared_length=page if declared else None,
        )
        error, peak = _read_with_peak(target, answer)
    assert error.system == system
    assert error.limit_bytes == DEFAULT_MAX_RESPONSE_BYTES
    if declared:
        # A declared size over the cap is refused from the headers alone.
        assert peak < 16 * MIB, f"{peak / MIB:.0f} MiB held for a refused page"
    else:
        assert peak < DEFAULT_MAX_RESPONSE_BYTES + 16 * MIB, f"{peak / MIB:.0f} MiB held"
    assert target.proxy.streamed_bytes < page, "the whole page was read"
