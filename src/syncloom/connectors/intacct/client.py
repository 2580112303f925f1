"""IntacctClient: posts request documents to the XML gateway and parses the answers.

It owns the API session (open on first use, reuse, one transparent re-login on ``Invalid
session``) and raises the :mod:`syncloom.errors` tree for gateway, control and
authentication failures. Function-level failures are returned as :class:`Result` objects so
callers can report them per record. Responses are parsed with entity expansion, DTDs and
network access off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from lxml import etree

from syncloom.connectors.http import DEFAULT_MAX_RESPONSE_BYTES, CappedClient
from syncloom.connectors.intacct.auth import (
    ApiSession,
    ControlIds,
    IntacctCredentials,
    envelope,
    login_xml,
    session_xml,
)
from syncloom.connectors.intacct.errors import SYSTEM, FaultReport, IntacctFault, translate
from syncloom.errors import RemoteError, TransientError

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


@dataclass(frozen=True)
class Result:
    """One ``<result>``: status, function, controlid, its ``<data>``/``<key>`` and errors."""

    status: str
    function: str
    controlid: str
    data: etree._Element | None
    key: str | None
    errors: tuple[IntacctFault, ...]

    @property
    def ok(self) -> bool:
        """True on success."""
        return self.status == "success"

    def error(self, record_key: str | None = None) -> RemoteError:
        """This failed result as a syncloom error."""
        report = FaultReport("function", self.errors, self.function)
        return translate(report=report, record_key=record_key)

    def records(self) -> list[etree._Element]:
        """Record elements under ``<data>``, whatever their tag's case."""
        if self.data is None:
            return []
        return [kid for kid in self.data if isinstance(kid.tag, str)]


class _ExpiredSession(Exception):
    """Intacct said ``Invalid session``; open a new one and try once more."""


class IntacctClient:
    """Wire calls to one company (and optionally one entity) through the gateway."""

    def __init__(
        self,
        base_url: str,
        credentials: IntacctCredentials,
        *,
        entity_id: str | None = None,
        timeout_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.url = base_url.rstrip("/") + (
            "" if base_url.rstrip("/").endswith(".phtml") else GATEWAY_PATH
        )
        self.credentials = credentials
        self.entity_id = entity_id
        self.ids = ControlIds()
        self.http = CappedClient(
            system=SYSTEM,
            max_response_bytes=max_response_bytes,
            timeout=timeout_s,
            transport=transport,
            headers={"Content-Type": "application/xml", "User-Agent": "syncloom-intacct/0.1"},
        )
        self.session: ApiSession | None = None
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"IntacctClient(url={self.url!r}, company={self.credentials.company_id!r})"

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def call(self, bodies: list[str]) -> list[Result]:
        """Run function bodies in one request with the session; one Result each, in order."""
        for attempt in (1, 2):
            session = await self._session()
            try:
                return await self._post(session_xml(session), bodies, session.endpoint)
            except _ExpiredSession:
                self.session = None
                if attempt == 2:
                    break
        raise translate(
            report=FaultReport(
                "authentication", (IntacctFault("XL03000006", "", "Invalid session"),)
            )
        )

    async def _session(self) -> ApiSession:
        async with self._login_lock:
            if self.session is None:
                self.session = await self._login()
            return self.session

    async def _login(self) -> ApiSession:
        auth = login_xml(self.credentials, self.entity_id)
        try:
            (result,) = await self._post(auth, ["<getAPISession></getAPISession>"], self.url)
        except _ExpiredSession:
            raise translate(
                report=FaultReport("authentication", (IntacctFault("XL03000006"),))
            ) from None
        if not result.ok or result.data is None:
            raise result.error()
        api = result.data.find("api")
        return ApiSession(
            sessionid=_text(api, "sessionid"),
            endpoint=_text(api, "endpoint") or self.url,
            locationid=_text(api, "locationid"),
        )

    async def _post(self, auth_xml: str, bodies: list[str], url: str) -> list[Result]:
        pairs = [(self.ids.next(), body) for body in bodies]
        document = envelope(self.credentials, self.ids.next(), auth_xml, pairs)
        try:
            response = await self.http.post(url, content=document)
        except httpx.HTTPError as exc:
            raise translate(exc=exc) from exc
        if response.status_code != 200:
            raise translate(response=response)
        if "API rate limit exceeded" in response.text:
            raise translate(
                report=FaultReport("control", (IntacctFault("", "", "API rate limit exceeded"),))
            )
        return _results(_parse(response.content))


def _parse(content: bytes) -> etree._Element:
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TransientError(
            f"Intacct sent an unreadable answer ({exc.msg}); retry later",
            system="intacct",
            status=200,
        ) from None
    info: Any = root.getroottree().docinfo
    if info.doctype:
        raise TransientError("Intacct answer carried a DOCTYPE; refused", system="intacct")
    return root


def _errors(node: etree._Element | None) -> tuple[IntacctFault, ...]:
    if node is None:
        return ()
    return tuple(
        IntacctFault(
            _text(e, "errorno"),
            _text(e, "description"),
            _text(e, "description2"),
            _text(e, "correction"),
        )
        for e in node.findall("error")
    )


def _results(root: etree._Element) -> list[Result]:
    if _text(root, "control/status") != "success":
        raise translate(report=FaultReport("control", _errors(root.find("errormessage"))))
    operation = root.find("operation")
    if operation is None:
        raise TransientError("Intacct answer has no operation block", system="intacct")
    if _text(operation, "authentication/status") != "success":
        errors = _errors(operation.find("errormessage"))
        if any("Invalid session" in e.text for e in errors):
            raise _ExpiredSession
        raise translate(report=FaultReport("authentication", errors))
    return [
        Result(
            status=_text(r, "status"),
            function=_text(r, "function"),
            controlid=_text(r, "controlid"),
            data=r.find("data"),
            key=_text(r, "key") or None,
            errors=_errors(r.find("errormessage")),
        )
        for r in operation.findall("result")
    ]


def _text(node: etree._Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""
