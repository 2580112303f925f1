"""The XML gateway: one request document in, one response document out.

Order of checks, as Intacct does it: parse (control failure ``XL03000003``), sender
(control failure ``XL03000006``), authentication (authentication failure, no results), then
each ``<function>`` independently, one ``<result>`` each, in request order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from syncloom.simulators.intacct import legacy, metadata, reads, writes
from syncloom.simulators.intacct.auth import AuthFailure, Gatekeeper, Session
from syncloom.simulators.intacct.context import Call, ChangeEvent, Cursor
from syncloom.simulators.intacct.store import IntacctStore
from syncloom.simulators.intacct.wire import (
    XML_DECL,
    FunctionFailure,
    IntacctError,
    MalformedRequestError,
    elem,
    errormessage,
    parse_request,
    text,
)

Handler = Callable[[etree._Element, Call], str]
HANDLERS: dict[str, Handler] = {
    "query": reads.query,
    "readByQuery": reads.read_by_query,
    "readMore": reads.read_more,
    "read": reads.read,
    "readByName": reads.read_by_name,
    "create": writes.create,
    "update": writes.update,
    "delete": writes.delete,
    "lookup": metadata.lookup,
    "inspect": metadata.inspect,
    "getDimensions": metadata.get_dimensions,
    "create_invoice": legacy.create_invoice,
    "create_sotransaction": legacy.create_sotransaction,
    "create_arpayment": legacy.create_arpayment,
}


@dataclass
class Outcome:
    """What one request produced: the body, transactions counted and change events."""

    body: str
    transactions: int = 0
    events: list[ChangeEvent] = field(default_factory=list)


class Gateway:
    """Answers request documents against a store and a gatekeeper."""

    def __init__(self, store: IntacctStore, gate: Gatekeeper, endpoint: str) -> None:
        self.store = store
        self.gate = gate
        self.endpoint = endpoint
        self.cursors: dict[str, Cursor] = {}

    def answer(self, body: bytes) -> Outcome:
        """Answer one request body (never raises for bad input)."""
        try:
            root = parse_request(body)
        except MalformedRequestError as exc:
            return Outcome(_control_failure(None, [IntacctError("XL03000003", str(exc))]))
        control = root.find("control")
        if root.tag != "request" or control is None or root.find("operation") is None:
            error = IntacctError("XL03000003", "XML Parse schema error: Missing request elements.")
            return Outcome(_control_failure(control, [error]))
        if text(control, "dtdversion", "3.0") not in {"3.0", "2.1"}:
            error = IntacctError("XL03000003", "Unsupported dtdversion.")
            return Outcome(_control_failure(control, [error]))
        if not self.gate.sender_ok(control):
            error = IntacctError("XL03000006", "Incorrect Intacct XML Partner ID or password.")
            return Outcome(_control_failure(control, [error]))
        return self._operation(control, root.find("operation"))  # type: ignore[arg-type]

    def _operation(self, control: etree._Element, operation: etree._Element) -> Outcome:
        try:
            session = self.gate.authenticate(operation.find("authentication"))
        except AuthFailure as failure:
            auth = (
                "<authentication><status>failure</status>"
                + elem("userid", failure.userid)
                + elem("companyid", failure.companyid)
                + "</authentication>"
            )
            inner = auth + errormessage([failure.error])
            return Outcome(_response(control, f"<operation>{inner}</operation>"))
        outcome = Outcome("")
        results = []
        for function in operation.findall("content/function"):
            results.append(self._function(function, session, outcome))
        body = _auth_block(session) + "".join(results)
        outcome.body = _response(control, f"<operation>{body}</operation>")
        return outcome

    def _function(self, function: etree._Element, session: Session, outcome: Outcome) -> str:
        controlid = function.get("controlid", "")
        kids = [kid for kid in function if isinstance(kid.tag, str)]
        name = str(kids[0].tag) if kids else ""
        head = elem("function", name) + elem("controlid", controlid)
        call = Call(self.store, session, self.cursors, self.endpoint)
        try:
            if name == "getAPISession":
                inner = self._session(kids[0], session)
            else:
                inner = _handler(name)(kids[0], call)
        except FunctionFailure as failure:
            outcome.transactions += call.transactions
            outcome.events.extend(call.events)
            body = failure.data + errormessage(failure.errors)
            return f"<result><status>failure</status>{head}{body}</result>"
        outcome.transactions += call.transactions
        outcome.events.extend(call.events)
        return f"<result><status>success</status>{head}{inner}</result>"

    def _session(self, node: etree._Element, session: Session) -> str:
        location = node.find("locationid")
        wanted = None if location is None else (location.text or "").strip()
        if wanted and wanted not in self.gate.entities:
            raise FunctionFailure(
                [IntacctError("XL03000006", f"Invalid location or entity ID: {wanted}")]
            )
        fresh = self.gate.open_session(session, wanted)
        return (
            "<data><api>"
            + elem("sessionid", fresh.sessionid)
            + elem("endpoint", self.endpoint)
            + elem("locationid", fresh.locationid)
            + "</api></data>"
        )


def _handler(name: str) -> Handler:
    handler = HANDLERS.get(name)
    if handler is None:
        raise FunctionFailure(
            [IntacctError("XL03000003", f"Unknown function '{name}' in content.")]
        )
    return handler


def _auth_block(session: Session) -> str:
    return (
        "<authentication><status>success</status>"
        + elem("userid", session.userid)
        + elem("companyid", session.companyid)
        + elem("locationid", session.locationid)
        + elem("sessiontimestamp", session.started.isoformat(timespec="seconds"))
        + elem("sessiontimeout", session.expires.isoformat(timespec="seconds"))
        + "</authentication>"
    )


def _control(control: etree._Element | None, status: str) -> str:
    return (
        "<control>"
        + elem("status", status)
        + elem("senderid", text(control, "senderid"))
        + elem("controlid", text(control, "controlid"))
        + elem("uniqueid", text(control, "uniqueid", "false"))
        + elem("dtdversion", text(control, "dtdversion", "3.0"))
        + "</control>"
    )


def _control_failure(control: etree._Element | None, errors: list[IntacctError]) -> str:
    return f"{XML_DECL}<response>{_control(control, 'failure')}{errormessage(errors)}</response>"


def _response(control: etree._Element, operation: str) -> str:
    return f"{XML_DECL}<response>{_control(control, 'success')}{operation}</response>"
