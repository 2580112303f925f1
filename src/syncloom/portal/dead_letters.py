"""Dead letters as the portal sees them: filter, read, edit, replay (one or many), dismiss.

Every change is audited. Replay goes through the engine, which marks the letters replayed and
enqueues their records; the portal only checks that each id is an open letter of the tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from syncloom.engine.dead_letters import DeadLetterQueue, open_error
from syncloom.engine.privacy import DEAD_LETTER_PAYLOAD, unseal
from syncloom.portal.auth import Principal
from syncloom.portal.control import Queued
from syncloom.portal.deps import PortalDeps
from syncloom.portal.problems import FieldProblem, Invalid, Missing
from syncloom.store.audit import AuditLog
from syncloom.store.models import DeadLetter, DeadLetterStatus
from syncloom.vault import Vault

__all__ = [
    "DeadLetterFilter",
    "DeadLetterView",
    "dismiss",
    "edit",
    "find_letter",
    "list_letters",
    "replay",
]


class DeadLetterFilter(BaseModel):
    """Which dead letters to list."""

    model_config = ConfigDict(extra="forbid")

    status: DeadLetterStatus | None = DeadLetterStatus.OPEN
    flow: str | None = Field(default=None, max_length=100)
    error_class: str | None = Field(default=None, max_length=100)
    record_key: str | None = Field(default=None, max_length=255)
    limit: int = Field(default=100, ge=1, le=1000)


class DeadLetterView(BaseModel):
    """A dead letter as shown."""

    id: int
    flow: str
    record_key: str
    payload: dict[str, Any]
    error_class: str
    error_text: str
    attempts: int
    status: DeadLetterStatus
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, row: DeadLetter, vault: Vault | None = None) -> DeadLetterView:
        """The view of one row (its payload opened with ``vault`` when sealed)."""
        view = cls.model_validate(row, from_attributes=True)
        payload = unseal(vault, row.tenant_id, DEAD_LETTER_PAYLOAD, row.payload)
        text = open_error(vault, row.tenant_id, row.error_text)
        return view.model_copy(update={"payload": payload, "error_text": text})


def list_letters(session: Session, tenant_id: int, query: DeadLetterFilter) -> list[DeadLetter]:
    """The tenant's dead letters matching ``query``, newest first."""
    select_ = DeadLetter.scoped(tenant_id)
    if query.status is not None:
        select_ = select_.where(DeadLetter.status == query.status)
    if query.flow:
        select_ = select_.where(DeadLetter.flow == query.flow)
    if query.error_class:
        select_ = select_.where(DeadLetter.error_class == query.error_class)
    if query.record_key:
        select_ = select_.where(DeadLetter.record_key.contains(query.record_key))
    return list(session.scalars(select_.order_by(DeadLetter.id.desc()).limit(query.limit)))


def find_letter(session: Session, tenant_id: int, letter_id: int) -> DeadLetter:
    """One dead letter of the tenant.

    Raises:
        Missing: none with this id in this tenant.
    """
    row = session.get(DeadLetter, letter_id)
    if row is None or row.tenant_id != tenant_id:
        raise Missing(f"no dead letter {letter_id}")
    return row


def _queue(deps: PortalDeps, me: Principal) -> DeadLetterQueue:
    return DeadLetterQueue(deps.sessions, me.tenant_id, deps.clock, deps.vault)


def _audit(deps: PortalDeps, me: Principal, action: str, letter_id: int, **delta: Any) -> None:
    with deps.sessions.begin() as session:
        AuditLog(session).record(
            me.tenant_id,
            actor=me.email,
            user_id=me.user_id,
            action=action,
            target=f"dead_letter:{letter_id}",
            delta={name: list(change) for name, change in delta.items()},
        )


def _require_open(deps: PortalDeps, me: Principal, letter_ids: Sequence[int]) -> None:
    if not letter_ids:
        raise Invalid([FieldProblem("ids", "choose at least one dead letter")])
    with deps.sessions() as session:
        for letter_id in letter_ids:
            if find_letter(session, me.tenant_id, letter_id).status is not DeadLetterStatus.OPEN:
                raise Invalid([FieldProblem("ids", f"dead letter {letter_id} is not open")])


def edit(deps: PortalDeps, me: Principal, letter_id: int, overrides: dict[str, Any]) -> None:
    """Store field overrides for the next replay."""
    _require_open(deps, me, [letter_id])
    with deps.sessions() as session:
        before = DeadLetterView.of(find_letter(session, me.tenant_id, letter_id), deps.vault)
    before_overrides = before.payload.get("overrides")
    _queue(deps, me).edit(letter_id, overrides)
    _audit(deps, me, "dead_letter.edit", letter_id, overrides=(before_overrides, overrides))


def replay(deps: PortalDeps, me: Principal, letter_ids: Sequence[int]) -> list[int] | Queued:
    """Replay open dead letters through the engine; returns the ids replayed, or the job.

    A job means a worker replays them: the audit log says the replay was asked for.
    """
    unique = list(dict.fromkeys(letter_ids))
    _require_open(deps, me, unique)
    replayed = deps.engine.replay(me.tenant_id, unique)
    if isinstance(replayed, Queued):
        for letter_id in unique:
            _audit(deps, me, "dead_letter.replay", letter_id, job=(None, replayed.job))
        return replayed
    for letter_id in replayed:
        _audit(deps, me, "dead_letter.replay", letter_id, status=("open", "replayed"))
    return replayed


def dismiss(deps: PortalDeps, me: Principal, letter_id: int) -> None:
    """Close a dead letter without syncing it."""
    _require_open(deps, me, [letter_id])
    _queue(deps, me).dismiss(letter_id)
    _audit(deps, me, "dead_letter.dismiss", letter_id, status=("open", "dismissed"))
