"""DeadLetterQueue: records that failed for good, kept for a person to read, fix and replay.

A permanent error (or retries exhausted after 72 hours) parks the record here with the
payload, the error class and the system's own error text. An operator can edit the payload
(as field overrides applied on the next attempt), replay one or many, or dismiss. A dead
letter closes itself when a newer version of the same record syncs.

With a vault, each payload and error text is sealed at rest (see
:mod:`syncloom.engine.privacy`; vendors echo the values they refused) and opened again by the
read methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import Clock
from syncloom.engine.privacy import (
    DEAD_LETTER_ERROR,
    DEAD_LETTER_PAYLOAD,
    seal,
    seal_text,
    unseal,
    unseal_text,
)
from syncloom.errors import ConfigError
from syncloom.store.models import DeadLetter, DeadLetterStatus
from syncloom.vault import Vault

__all__ = ["DeadLetterQueue", "open_error", "seal_error"]


def seal_error(vault: Vault | None, tenant_id: int, text: str) -> str:
    """A dead letter's error text as stored: sealed when there is a vault."""
    return seal_text(vault, tenant_id, DEAD_LETTER_ERROR, text) or ""


def open_error(vault: Vault | None, tenant_id: int, stored: str) -> str:
    """A dead letter's error text as written, sealed or not."""
    return unseal_text(vault, tenant_id, DEAD_LETTER_ERROR, stored) or ""


class DeadLetterQueue:
    """The dead letters of one tenant."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        tenant_id: int,
        clock: Clock,
        vault: Vault | None = None,
    ) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self._clock = clock
        self.vault = vault

    def _seal(self, payload: dict[str, Any]) -> dict[str, Any]:
        return seal(self.vault, self.tenant_id, DEAD_LETTER_PAYLOAD, payload)

    def _opened(self, session: Session, letter: DeadLetter) -> DeadLetter:
        """Detach ``letter`` and give it its plain payload and text (never written back)."""
        session.expunge(letter)
        letter.payload = unseal(self.vault, self.tenant_id, DEAD_LETTER_PAYLOAD, letter.payload)
        letter.error_text = open_error(self.vault, self.tenant_id, letter.error_text)
        return letter

    def park(
        self,
        *,
        flow: str,
        record_key: str,
        payload: dict[str, Any],
        error_class: str,
        error_text: str,
        attempts: int,
    ) -> int:
        """Open (or refresh) the dead letter of one record; returns its id."""
        with self._sessions.begin() as session:
            letter = self._open(session, flow, record_key)
            if letter is None:
                letter = DeadLetter(tenant_id=self.tenant_id, flow=flow, record_key=record_key)
                session.add(letter)
            letter.payload = self._seal(payload)
            letter.error_class = error_class
            letter.error_text = seal_error(self.vault, self.tenant_id, error_text)
            letter.attempts = attempts
            letter.status = DeadLetterStatus.OPEN
            session.flush()
            return letter.id

    def _open(self, session: Session, flow: str, record_key: str) -> DeadLetter | None:
        return session.scalar(
            DeadLetter.scoped(self.tenant_id).where(
                DeadLetter.flow == flow,
                DeadLetter.record_key == record_key,
                DeadLetter.status == DeadLetterStatus.OPEN,
            )
        )

    def resolve(self, session: Session, flow: str, record_key: str) -> bool:
        """Close the record's open dead letter: a newer version synced (caller's transaction)."""
        letter = self._open(session, flow, record_key)
        if letter is None:
            return False
        letter.status = DeadLetterStatus.RESOLVED
        letter.closed_at = self._clock.now_utc()
        return True

    def get(self, letter_id: int) -> DeadLetter:
        """One dead letter of this tenant.

        Raises:
            ConfigError: no such dead letter in this tenant.
        """
        with self._sessions() as session:
            letter = session.get(DeadLetter, letter_id)
            if letter is None or letter.tenant_id != self.tenant_id:
                raise ConfigError(f"no dead letter {letter_id}")
            return self._opened(session, letter)

    def list(
        self,
        *,
        status: DeadLetterStatus | None = DeadLetterStatus.OPEN,
        flow: str | None = None,
        limit: int = 100,
    ) -> Sequence[DeadLetter]:
        """Dead letters, newest first, filtered by status and flow."""
        with self._sessions() as session:
            query = DeadLetter.scoped(self.tenant_id)
            if status is not None:
                query = query.where(DeadLetter.status == status)
            if flow is not None:
                query = query.where(DeadLetter.flow == flow)
            letters = list(session.scalars(query.order_by(DeadLetter.id.desc()).limit(limit)))
            return [self._opened(session, letter) for letter in letters]

    def edit(self, letter_id: int, overrides: dict[str, Any]) -> None:
        """Store field overrides that the replay applies to the mapped payload."""
        with self._sessions.begin() as session:
            letter = self._owned(session, letter_id)
            plain = unseal(self.vault, self.tenant_id, DEAD_LETTER_PAYLOAD, letter.payload)
            letter.payload = self._seal({**plain, "overrides": overrides})

    def mark_replayed(self, letter_id: int) -> DeadLetter:
        """Mark a dead letter replayed; returns it so the caller can enqueue the record."""
        with self._sessions.begin() as session:
            letter = self._owned(session, letter_id)
            letter.status = DeadLetterStatus.REPLAYED
            letter.closed_at = self._clock.now_utc()
            session.flush()
            return self._opened(session, letter)

    def dismiss(self, letter_id: int) -> None:
        """Close a dead letter without syncing it."""
        with self._sessions.begin() as session:
            letter = self._owned(session, letter_id)
            letter.status = DeadLetterStatus.DISMISSED
            letter.closed_at = self._clock.now_utc()

    def _owned(self, session: Session, letter_id: int) -> DeadLetter:
        letter = session.get(DeadLetter, letter_id, with_for_update=True)
        if letter is None or letter.tenant_id != self.tenant_id:
            raise ConfigError(f"no dead letter {letter_id}")
        return letter
