"""Privacy: record payloads sealed at rest, kept only as long as the tenant says.

What does a stolen database tell about the people in it? Without the master key, nothing from
the record log's diffs and error texts, the dead letters' payloads or the links' base
snapshots (the values last synced, for three-way conflict checks): all are sealed through
the vault, stored as ``{"sealed": "<base64>"}`` (JSON columns) or ``sealed:<base64>`` (text
columns, since a vendor's error text often echoes the values it refused) and bound to
(tenant, purpose), so a sealed value
copied to another tenant or another kind of row does not open. Rows written before sealing
was switched on (or by a component without the vault) stay readable as they are.

A tenant's ``privacy`` document says how long history is kept::

    retention_days: 90

and :func:`purge` removes record log entries, closed dead letters and stored webhook hints
older than that.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine import intake_events
from syncloom.errors import ConfigError, VaultError
from syncloom.store.audit import AuditLog
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import DeadLetter, DeadLetterStatus, Link, RecordLogEntry
from syncloom.vault import Binding, Vault, key_id_of

__all__ = [
    "DEAD_LETTER_ERROR",
    "DEAD_LETTER_PAYLOAD",
    "LINK_SNAPSHOT",
    "PRIVACY_DOCUMENT",
    "RECORD_LOG_DIFF",
    "RECORD_LOG_ERROR",
    "PurgeReport",
    "is_sealed",
    "purge",
    "sealed_key_ids",
    "retention_of",
    "seal",
    "seal_text",
    "unseal",
    "unseal_text",
]

PRIVACY_DOCUMENT = "privacy"
RECORD_LOG_DIFF = "record_log.diff"
RECORD_LOG_ERROR = "record_log.error"
LINK_SNAPSHOT = "link.base_snapshot"
DEAD_LETTER_PAYLOAD = "dead_letter.payload"
DEAD_LETTER_ERROR = "dead_letter.error_text"
_SEALED = "sealed"
_SEALED_TEXT = "sealed:"


def _binding(tenant_id: int, purpose: str) -> Binding:
    return Binding(tenant_id=tenant_id, owner_id=purpose, purpose=purpose)


# Every column that may hold a sealed value: the master keys they need outlive a rotation.
_SEALED_COLUMNS = (
    RecordLogEntry.diff,
    RecordLogEntry.error,
    DeadLetter.payload,
    DeadLetter.error_text,
    Link.base_snapshot,
)


def sealed_key_ids(engine: Engine) -> set[str]:
    """The ids of the master keys some sealed payload, diff, text or snapshot was sealed with.

    A rotation re-seals the credentials only; history stays sealed under the key it was
    written with, so a retired key may be forgotten only once no such value needs it. Reads
    every sealed column once: a maintenance step, not a query for a hot path.
    """
    found: set[str] = set()
    with Session(engine) as session:
        for column in _SEALED_COLUMNS:
            query = select(column).where(column.is_not(None)).execution_options(yield_per=1000)
            for stored in session.scalars(query):
                blob = _sealed_blob(stored)
                if blob is not None:
                    found.add(key_id_of(blob))
    return found


def _sealed_blob(stored: object) -> bytes | None:
    if isinstance(stored, str) and stored.startswith(_SEALED_TEXT):
        return base64.b64decode(stored[len(_SEALED_TEXT) :])
    if is_sealed(stored):
        assert isinstance(stored, dict)
        return base64.b64decode(stored[_SEALED])
    return None


def is_sealed(stored: object) -> bool:
    """True when ``stored`` is a sealed value rather than plain JSON."""
    return isinstance(stored, dict) and set(stored) == {_SEALED}


def seal(
    vault: Vault | None, tenant_id: int, purpose: str, value: dict[str, Any]
) -> dict[str, Any]:
    """Seal ``value`` for one tenant and purpose; without a vault it is kept as it is.

    Args:
        vault: the vault, or None where a component runs without one (plain JSON, as before).
        tenant_id: the tenant the row belongs to.
        purpose: the kind of row (``RECORD_LOG_DIFF``, ``DEAD_LETTER_PAYLOAD``).
        value: the JSON-ready payload.
    """
    if vault is None:
        return value
    blob = vault.encrypt_json(value, _binding(tenant_id, purpose))
    return {_SEALED: base64.b64encode(blob).decode("ascii")}


def unseal(
    vault: Vault | None, tenant_id: int, purpose: str, stored: dict[str, Any] | None
) -> dict[str, Any]:
    """The plain payload of a stored value, sealed or not.

    Raises:
        VaultError: the value is sealed and there is no vault, or it does not open here.
    """
    if not is_sealed(stored):
        return dict(stored or {})
    assert stored is not None
    if vault is None:
        raise VaultError(f"a sealed {purpose} needs the vault to be read")
    value = vault.decrypt_json(base64.b64decode(stored[_SEALED]), _binding(tenant_id, purpose))
    if not isinstance(value, dict):
        raise VaultError(f"a sealed {purpose} holds no object")
    return value


def seal_text(vault: Vault | None, tenant_id: int, purpose: str, text: str | None) -> str | None:
    """Seal a text column's value (``sealed:<base64>``); None and vault-less stay as they are."""
    if vault is None or text is None:
        return text
    sealed = seal(vault, tenant_id, purpose, {"text": text})
    return _SEALED_TEXT + str(sealed[_SEALED])


def unseal_text(
    vault: Vault | None, tenant_id: int, purpose: str, stored: str | None
) -> str | None:
    """The plain text of a stored text value, sealed or not.

    Raises:
        VaultError: the value is sealed and there is no vault, or it does not open here.
    """
    if stored is None or not stored.startswith(_SEALED_TEXT):
        return stored
    value = unseal(vault, tenant_id, purpose, {_SEALED: stored[len(_SEALED_TEXT) :]})
    return str(value.get("text", ""))


def retention_of(sessions: sessionmaker[Session], tenant_id: int) -> timedelta | None:
    """The tenant's retention period from its ``privacy`` document; None keeps everything.

    Raises:
        ConfigError: the document's ``retention_days`` is not a positive whole number.
    """
    with sessions() as session:
        saved = ConfigVersions(session).latest(tenant_id, PRIVACY_DOCUMENT)
    if saved is None:
        return None
    document = yaml.safe_load(saved.document) or {}
    days = document.get("retention_days") if isinstance(document, dict) else None
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise ConfigError("privacy.retention_days must be a positive whole number of days")
    return timedelta(days=days)


@dataclass(frozen=True)
class PurgeReport:
    """What one purge removed, and the instant before which it removed it."""

    cutoff: datetime
    record_log: int
    dead_letters: int
    intake_events: int = 0


def purge(
    sessions: sessionmaker[Session],
    tenant_id: int,
    now: datetime,
    retention: timedelta,
    *,
    actor: str = "system",
) -> PurgeReport:
    """Remove record log entries, closed dead letters and hint rows older than ``retention``.

    Open dead letters stay whatever their age: a person still has to act on them. The purge
    is written to the tenant's audit log with its counts.
    """
    cutoff = now - retention
    closed = DeadLetter.status != DeadLetterStatus.OPEN
    closed_at = func.coalesce(DeadLetter.closed_at, DeadLetter.created_at)
    with sessions.begin() as session:
        log = session.execute(
            delete(RecordLogEntry).where(
                RecordLogEntry.tenant_id == tenant_id, RecordLogEntry.created_at < cutoff
            )
        )
        letters = session.execute(
            delete(DeadLetter).where(DeadLetter.tenant_id == tenant_id, closed, closed_at < cutoff)
        )
        hints = intake_events.purge(session, tenant_id, cutoff)
        report = PurgeReport(cutoff, _count(log), _count(letters), hints)
        AuditLog(session).record(
            tenant_id,
            actor=actor,
            action="privacy.purge",
            target=f"before:{cutoff.isoformat()}",
            delta={
                "record_log": [report.record_log, 0],
                "dead_letters": [report.dead_letters, 0],
                "intake_events": [report.intake_events, 0],
            },
        )
        return report


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
