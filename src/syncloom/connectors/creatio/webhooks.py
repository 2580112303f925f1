"""CreatioWebhookReceiver: which records does a Creatio change notice name?

Creatio has no outbound webhook API of its own; a business process that starts on a record's
insert, update or delete signal calls an external URL with a "Call web service" element. The
notice syncloom expects from such a process is one JSON object, or a list of them::

    {"entity": "Account", "id": "<guid>", "action": "insert|update|delete",
     "modifiedOn": "2026-11-22T03:20:13.1234567Z", "modifiedBy": "<contact guid>"}

Only ``entity`` and ``id`` are required; everything else is a hint about the hint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from syncloom.connectors.base import Hint, HintAction, RecordKey
from syncloom.connectors.creatio.errors import SYSTEM
from syncloom.connectors.creatio.values import parse_instant
from syncloom.errors import MappingError, ValidationError

__all__ = ["CreatioWebhookReceiver"]

_ACTIONS: dict[str, HintAction] = {"insert": "upsert", "update": "upsert", "delete": "delete"}
EXPECTED = 'expected {"entity", "id", "action"?, "modifiedOn"?} or a list of them'


class CreatioWebhookReceiver:
    """Reads the notices of a Creatio signal process (see the module docstring)."""

    def parse_hints(self, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
        """One hint per notice in ``body``.

        Raises:
            ValidationError: the body is not JSON, or a notice lacks its entity or id, names
                an unknown action or carries a modifiedOn that is not a Creatio date-time.
        """
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            text = f"Creatio notice is not JSON: {EXPECTED}"
            raise ValidationError(text, system=SYSTEM) from None
        notices = payload if isinstance(payload, list) else [payload]
        return [_hint(notice) for notice in notices]


def _hint(notice: object) -> Hint:
    if not isinstance(notice, dict):
        raise ValidationError(f"Creatio notice is not an object: {EXPECTED}", system=SYSTEM)
    entity, ident = notice.get("entity"), notice.get("id")
    if not (isinstance(entity, str) and entity and isinstance(ident, str) and ident):
        raise ValidationError(f"Creatio notice lacks entity or id: {EXPECTED}", system=SYSTEM)
    action = _ACTIONS.get(str(notice.get("action") or "update").lower())
    if action is None:
        raise ValidationError(
            f"Creatio notice action {notice.get('action')!r} is not insert, update or delete",
            system=SYSTEM,
            field="action",
        )
    moment = _modified_on(notice.get("modifiedOn"))
    # The connector keys records by the lower-case Id; a process may send either case.
    key = RecordKey(SYSTEM, entity, ident.lower())
    version = moment.isoformat() if moment else None
    return Hint(key, version, action, moment)


def _modified_on(raw: object) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_instant(str(raw))
    except MappingError:
        raise ValidationError(
            f"Creatio notice modifiedOn {raw!r} is not a date-time",
            system=SYSTEM,
            field="modifiedOn",
        ) from None
