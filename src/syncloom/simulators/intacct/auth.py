"""Sign-in checks of the Intacct simulator: sender credentials, user logins, API sessions.

Two layers, as on the real gateway: the Web Services sender (``senderid``/``password`` in
``<control>``) and then either a user ``<login>`` (optionally into an entity by
``locationid``) or a ``<sessionid>``. Sessions slide: every call pushes their timeout to now
plus the session duration.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from syncloom.simulators.intacct.wire import IntacctError, text

BAD_SENDER = IntacctError("XL03000006", "Incorrect Intacct XML Partner ID or password.")
BAD_LOGIN = IntacctError("XL03000006", "Sign-in information is incorrect")
BAD_SESSION = IntacctError("XL03000006", "Invalid session")


@dataclass
class Session:
    """One API session: who, which company and entity, until when."""

    sessionid: str
    userid: str
    companyid: str
    locationid: str
    started: datetime
    expires: datetime


class AuthFailure(Exception):
    """Authentication failed; ``userid``/``companyid`` are echoed in the answer."""

    def __init__(self, error: IntacctError, userid: str = "", companyid: str = "") -> None:
        super().__init__(error.description2)
        self.error = error
        self.userid = userid
        self.companyid = companyid


class Gatekeeper:
    """Checks senders and logins and keeps the table of live sessions."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        sender_id: str,
        sender_password: str,
        company_id: str,
        users: dict[str, str],
        entities: tuple[str, ...],
        session_ttl_s: float,
    ) -> None:
        self.now = now
        self.sender_id = sender_id
        self.sender_password = sender_password
        self.company_id = company_id
        self.users = users
        self.entities = entities
        self.ttl = timedelta(seconds=session_ttl_s)
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def sender_ok(self, control: etree._Element | None) -> bool:
        return secrets.compare_digest(
            text(control, "senderid"), self.sender_id
        ) and secrets.compare_digest(text(control, "password"), self.sender_password)

    def authenticate(self, auth: etree._Element | None) -> Session:
        """Resolve ``<authentication>`` to a session (a login makes a transient one).

        Raises:
            AuthFailure: for a wrong login, unknown entity or an invalid/expired session.
        """
        login = auth.find("login") if auth is not None else None
        if login is not None:
            return self._login(login)
        sessionid = text(auth, "sessionid")
        with self._lock:
            session = self.sessions.get(sessionid)
            if session is None or session.expires <= self.now():
                self.sessions.pop(sessionid, None)
                raise AuthFailure(BAD_SESSION)
            session.expires = self.now() + self.ttl
            return session

    def _login(self, login: etree._Element) -> Session:
        userid, companyid = text(login, "userid"), text(login, "companyid")
        password, locationid = text(login, "password"), text(login, "locationid")
        known = self.users.get(userid)
        if (
            known is None
            or not secrets.compare_digest(known, password)
            or companyid != self.company_id
        ):
            raise AuthFailure(BAD_LOGIN, userid, companyid)
        if locationid and locationid not in self.entities:
            raise AuthFailure(
                IntacctError("XL03000006", f"Invalid location or entity ID: {locationid}"),
                userid,
                companyid,
            )
        moment = self.now()
        return Session("", userid, companyid, locationid, moment, moment + self.ttl)

    def open_session(self, base: Session, locationid: str | None) -> Session:
        """Issue a new session id, optionally switched to another entity (or top level)."""
        moment = self.now()
        entity = base.locationid if locationid is None else locationid
        session = Session(
            secrets.token_urlsafe(30) + "..",
            base.userid,
            base.companyid,
            entity,
            moment,
            moment + self.ttl,
        )
        with self._lock:
            self.sessions[session.sessionid] = session
        return session

    def expire_all(self) -> None:
        with self._lock:
            self.sessions.clear()
