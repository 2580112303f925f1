"""Signing in to Intacct: sender credentials, user login, and the API session kept between calls.

The session is opened once with login + ``getAPISession`` (alone in its request, as Intacct
asks), reused for every call, and reopened once when Intacct answers ``Invalid session``.
Passwords and session ids never appear in ``repr`` or messages.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class IntacctCredentials:
    """The two credential layers: the Web Services sender and the user."""

    sender_id: str
    sender_password: str = field(repr=False)
    company_id: str
    user_id: str
    user_password: str = field(repr=False)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> IntacctCredentials:
        """Build from a config mapping with the same keys."""
        return cls(
            sender_id=str(raw["sender_id"]),
            sender_password=str(raw["sender_password"]),
            company_id=str(raw["company_id"]),
            user_id=str(raw["user_id"]),
            user_password=str(raw["user_password"]),
        )


class ControlIds:
    """Unique control ids: one prefix per connector instance and a counter."""

    def __init__(self) -> None:
        self._prefix = f"syncloom-{uuid.uuid4().hex[:12]}"
        self._counter = itertools.count(1)

    def next(self) -> str:
        """The next control id."""
        return f"{self._prefix}-{next(self._counter)}"


@dataclass
class ApiSession:
    """An open API session and the endpoint it lives at."""

    sessionid: str = field(repr=False)
    endpoint: str
    locationid: str


def envelope(
    creds: IntacctCredentials,
    controlid: str,
    auth_xml: str,
    functions: list[tuple[str, str]],
) -> bytes:
    """The whole request document; ``functions`` are (controlid, body) pairs."""
    content = "".join(f'<function controlid="{cid}">{body}</function>' for cid, body in functions)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><request><control>'
        f"<senderid>{escape(creds.sender_id)}</senderid>"
        f"<password>{escape(creds.sender_password)}</password>"
        f"<controlid>{controlid}</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control>"
        f'<operation transaction="false"><authentication>{auth_xml}</authentication>'
        f"<content>{content}</content></operation></request>"
    ).encode()


def login_xml(creds: IntacctCredentials, entity_id: str | None) -> str:
    """The ``<login>`` element."""
    return (
        f"<login><userid>{escape(creds.user_id)}</userid>"
        f"<companyid>{escape(creds.company_id)}</companyid>"
        f"<password>{escape(creds.user_password)}</password>"
        f"<locationid>{escape(entity_id or '')}</locationid></login>"
    )


def session_xml(session: ApiSession) -> str:
    """The ``<sessionid>`` element."""
    return f"<sessionid>{escape(session.sessionid)}</sessionid>"
