"""IntacctWebhookReceiver: which records does an Intacct Smart Event notice name?

A Smart Event with an HTTP POST action fires when a record is added, changed or deleted. The
notice syncloom expects (the event's payload template) is one JSON object, or a list of them::

    {"object": "CUSTOMER", "recordno": "12", "id": "C-0012",
     "action": "create|update|delete", "whenmodified": "11/22/2026 03:20:13"}

``whenmodified`` is in the company's time zone, like every Intacct timestamp, so the receiver
is told that zone (the Connection's ``company_tz`` option). Keys follow the connector: the
business id for objects keyed by one (``CUSTOMERID``), ``RECORDNO`` for the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from syncloom.connectors.base import Hint, HintAction, RecordKey
from syncloom.connectors.intacct.entities import ENTITIES
from syncloom.connectors.intacct.errors import SYSTEM
from syncloom.connectors.intacct.queries import parse_timestamp
from syncloom.errors import ValidationError

__all__ = ["IntacctWebhookReceiver"]

_ACTIONS: dict[str, HintAction] = {
    "create": "upsert",
    "add": "upsert",
    "update": "upsert",
    "delete": "delete",
}
EXPECTED = 'expected {"object", "recordno" or "id", "action"?, "whenmodified"?} or a list'


class IntacctWebhookReceiver:
    """Reads Smart Event notices (see the module docstring).

    Args:
        company_tz: the IANA zone the company's timestamps are written in.
    """

    def __init__(self, company_tz: str = "UTC") -> None:
        self.tz = ZoneInfo(company_tz)

    def parse_hints(self, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
        """One hint per notice in ``body``.

        Raises:
            ValidationError: the body is not JSON, or a notice lacks its object or key,
                names an unknown action, or carries a whenmodified Intacct would not write.
        """
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError(f"Smart Event is not JSON: {EXPECTED}", system=SYSTEM) from None
        notices = payload if isinstance(payload, list) else [payload]
        return [self._hint(notice) for notice in notices]

    def _hint(self, notice: object) -> Hint:
        if not isinstance(notice, dict):
            raise ValidationError(f"Smart Event is not an object: {EXPECTED}", system=SYSTEM)
        obj = str(notice.get("object") or "").upper()
        ident = _ident(obj, notice)
        if not (obj and ident):
            raise ValidationError(f"Smart Event lacks object or key: {EXPECTED}", system=SYSTEM)
        action = _ACTIONS.get(str(notice.get("action") or "update").lower())
        if action is None:
            raise ValidationError(
                f"Smart Event action {notice.get('action')!r} is not create, update or delete",
                system=SYSTEM,
                field="action",
            )
        moment = self._when(notice.get("whenmodified"))
        version = moment.isoformat() if moment else None
        return Hint(RecordKey(SYSTEM, obj, ident), version, action, moment)

    def _when(self, raw: object) -> datetime | None:
        if raw is None or raw == "":
            return None
        try:
            return parse_timestamp(str(raw), self.tz)
        except ValueError:
            raise ValidationError(
                f"Smart Event whenmodified {raw!r} is not mm/dd/yyyy hh:mm:ss",
                system=SYSTEM,
                field="whenmodified",
            ) from None


def _ident(obj: str, notice: Mapping[str, object]) -> str:
    entity = ENTITIES.get(obj)
    # An object the connector keys by RECORDNO (or does not know) is named by its RECORDNO.
    if entity is None or entity.server_keyed:
        return str(notice.get("recordno") or notice.get("id") or "")
    return str(notice.get("id") or "")
