"""Erasure: remove one person's data from everything the engine keeps about records.

A person is named by an email address (found in any stored payload, sealed or not) or by a
record key. Their record log entries and dead letters are deleted, their write-ledger hashes
dropped, and the value snapshots of their links cleared. The links themselves stay: they hold
only the two keys, and without them the next sync would create the person's record twice.
The erasure is written to the tenant's audit log, naming the person only by a digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.dead_letters import open_error
from syncloom.engine.privacy import (
    DEAD_LETTER_PAYLOAD,
    LINK_SNAPSHOT,
    RECORD_LOG_DIFF,
    RECORD_LOG_ERROR,
    unseal,
    unseal_text,
)
from syncloom.errors import ConfigError
from syncloom.store.audit import AuditLog
from syncloom.store.models import DeadLetter, Link, RecordLogEntry, WriteLedgerEntry
from syncloom.vault import Vault

__all__ = ["ErasureReport", "erase"]


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure removed."""

    record_keys: tuple[str, ...]
    record_log: int
    dead_letters: int
    ledger: int
    links: int


def _mentions(email: str, *texts: object) -> bool:
    needle = email.lower()
    return any(needle in json.dumps(text, default=str).lower() for text in texts if text)


class _Eraser:
    def __init__(self, session: Session, tenant_id: int, vault: Vault | None) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.vault = vault

    def keys_mentioning(self, email: str) -> set[str]:
        keys: set[str] = set()
        for entry in self.session.scalars(RecordLogEntry.scoped(self.tenant_id)):
            diff = unseal(self.vault, self.tenant_id, RECORD_LOG_DIFF, entry.diff)
            error = unseal_text(self.vault, self.tenant_id, RECORD_LOG_ERROR, entry.error)
            if _mentions(email, diff, error):
                keys.add(entry.record_key)
        for letter in self.session.scalars(DeadLetter.scoped(self.tenant_id)):
            payload = unseal(self.vault, self.tenant_id, DEAD_LETTER_PAYLOAD, letter.payload)
            if _mentions(email, payload, open_error(self.vault, self.tenant_id, letter.error_text)):
                keys.add(letter.record_key)
        for link in self.session.scalars(Link.scoped(self.tenant_id)):
            snapshot = unseal(self.vault, self.tenant_id, LINK_SNAPSHOT, link.base_snapshot)
            if _mentions(email, snapshot):
                keys.update(k for k in (link.crm_key, link.erp_key) if k)
        return keys

    def with_twins(self, keys: set[str]) -> set[str]:
        if not keys:
            return keys
        query = Link.scoped(self.tenant_id).where(
            or_(Link.crm_key.in_(keys), Link.erp_key.in_(keys), Link.pending_key.in_(keys))
        )
        found = set(keys)
        for link in self.session.scalars(query):
            found.update(k for k in (link.crm_key, link.erp_key, link.pending_key) if k)
        return found

    def remove(self, keys: Iterable[str]) -> ErasureReport:
        keys = sorted(keys)
        log = self._delete(RecordLogEntry, RecordLogEntry.record_key.in_(keys))
        letters = self._delete(DeadLetter, DeadLetter.record_key.in_(keys))
        ledger = self._delete(WriteLedgerEntry, WriteLedgerEntry.record_key.in_(keys))
        links = 0
        query = Link.scoped(self.tenant_id).where(
            or_(Link.crm_key.in_(keys), Link.erp_key.in_(keys))
        )
        for link in self.session.scalars(query):
            link.base_snapshot, link.crm_hash, link.erp_hash = None, None, None
            links += 1
        return ErasureReport(tuple(keys), log, letters, ledger, links)

    def _delete(self, model: Any, condition: Any) -> int:
        result = self.session.execute(
            delete(model).where(model.tenant_id == self.tenant_id, condition)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def erase(
    sessions: sessionmaker[Session],
    tenant_id: int,
    vault: Vault | None,
    *,
    email: str | None = None,
    record_key: str | None = None,
    actor: str = "system",
) -> ErasureReport:
    """Remove a person's data, found by ``email`` or ``record_key``, in one transaction.

    Args:
        sessions: the store.
        tenant_id: the tenant whose data is erased.
        vault: opens sealed payloads to search them for the email (None: plain rows only).
        email: an email address to find in any stored payload.
        record_key: a record key (either side; its twin is erased too).
        actor: who asked, for the audit log.

    Raises:
        ConfigError: neither or both of ``email`` and ``record_key`` given.
    """
    if (email is None) == (record_key is None):
        raise ConfigError("name the person by exactly one of an email or a record key")
    with sessions.begin() as session:
        eraser = _Eraser(session, tenant_id, vault)
        found = eraser.keys_mentioning(email) if email is not None else {str(record_key)}
        report = eraser.remove(eraser.with_twins(found))
        person = f"record:{record_key}" if record_key is not None else _digest(str(email))
        AuditLog(session).record(
            tenant_id,
            actor=actor,
            action="privacy.erase",
            target=person,
            delta={
                "record_log": [report.record_log, 0],
                "dead_letters": [report.dead_letters, 0],
                "write_ledger": [report.ledger, 0],
                "link_snapshots": [report.links, 0],
            },
        )
        return report


def _digest(email: str) -> str:
    # The audit log must not keep what was just erased; a digest still lets an auditor check
    # that a given request was carried out.
    return "email-sha256:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
