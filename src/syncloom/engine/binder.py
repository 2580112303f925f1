"""Binder: the cross-reference between a CRM record and its ERP twin in one Flow.

Three verbs carry it, as in OCA's connector: :meth:`Binder.to_other` finds the twin of a
record, :meth:`Binder.reserve` records the key a create will use *before* the call (so a retry
after a crash finds the record instead of making a second one), and :meth:`Binder.bind` stamps
the pair as linked with the base snapshot for the next three-way comparison, inside the
caller's transaction so the link, the record log and the ledger commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import Clock
from syncloom.engine.flows import Side
from syncloom.engine.privacy import LINK_SNAPSHOT, seal, unseal
from syncloom.store.models import Link, LinkState
from syncloom.vault import Vault

__all__ = ["Binder", "LinkView"]


@dataclass(frozen=True, slots=True)
class LinkView:
    """A Link as read: plain values, safe to keep after the session closes."""

    id: int
    crm_key: str | None
    erp_key: str | None
    pending_key: str | None
    state: LinkState
    base_snapshot: dict[str, Any] | None
    legal_entity: str | None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None

    def leased_at(self, now: datetime) -> bool:
        """True while a bulk run holds this link (its pages own the record until they settle)."""
        return bool(self.lease_owner and self.lease_expires_at and self.lease_expires_at > now)

    def key(self, side: Side) -> str | None:
        """The bound key on ``side``, or the reserved one while the create is pending."""
        bound = self.crm_key if side is Side.CRM else self.erp_key
        return bound or (self.pending_key if self.state is LinkState.PENDING else None)


def _view(link: Link, base_snapshot: dict[str, Any] | None) -> LinkView:
    return LinkView(
        link.id,
        link.crm_key,
        link.erp_key,
        link.pending_key,
        link.state,
        base_snapshot,
        link.legal_entity,
        link.lease_owner,
        link.lease_expires_at,
    )


def _column(side: Side) -> Any:
    return Link.crm_key if side is Side.CRM else Link.erp_key


class Binder:
    """Links of one Flow of one tenant."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        tenant_id: int,
        flow: str,
        clock: Clock,
        vault: Vault | None = None,
    ) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self.flow = flow
        self._clock = clock
        self.vault = vault

    def _view(self, link: Link) -> LinkView:
        # The snapshot holds the record's last synced values: sealed at rest, opened here.
        stored = link.base_snapshot
        snapshot = unseal(self.vault, self.tenant_id, LINK_SNAPSHOT, stored) if stored else None
        return _view(link, snapshot or None)

    def now(self) -> datetime:
        """The binder's clock, for lease checks."""
        return self._clock.now_utc()

    def _select(self) -> Select[Link]:
        return Link.scoped(self.tenant_id).where(Link.flow == self.flow)

    def find(self, key: str, side: Side) -> LinkView | None:
        """Return the link holding ``key`` on ``side`` (bound or reserved), if any."""
        with self._sessions() as session:
            link = self._find(session, key, side)
            return self._view(link) if link else None

    def _find(self, session: Session, key: str, side: Side) -> Link | None:
        pending = (Link.pending_key == key) & (Link.state == LinkState.PENDING)
        if side is Side.CRM:
            clause = or_(Link.crm_key == key, pending & Link.crm_key.is_(None))
        else:
            clause = or_(Link.erp_key == key, pending & Link.erp_key.is_(None))
        return session.scalar(self._select().where(clause))

    def to_other(self, key: str, side: Side) -> str | None:
        """The twin's key on the other side of ``key`` (reserved keys included)."""
        link = self.find(key, side)
        return link.key(side.other) if link else None

    def reserve(self, key: str, side: Side, new_key: str, legal_entity: str | None) -> LinkView:
        """Reserve ``new_key`` on the other side for ``key``, committed before the create.

        Returns the existing link when ``key`` already has one (a retry finds its reservation).
        """
        with self._sessions() as session:
            existing = self._find(session, key, side)
            if existing is not None:
                return self._view(existing)
            link = Link(
                tenant_id=self.tenant_id,
                flow=self.flow,
                pending_key=new_key,
                state=LinkState.PENDING,
                legal_entity=legal_entity,
            )
            setattr(link, "crm_key" if side is Side.CRM else "erp_key", key)
            session.add(link)
            try:
                session.commit()
            except IntegrityError:
                # Another worker reserved it between our read and our insert: use theirs.
                session.rollback()
                found = self._find(session, key, side)
                if found is None:
                    raise
                return self._view(found)
            return self._view(link)

    def bind(
        self,
        session: Session,
        *,
        crm_key: str,
        erp_key: str,
        base_snapshot: dict[str, Any],
        crm_hash: str | None = None,
        erp_hash: str | None = None,
        legal_entity: str | None = None,
    ) -> LinkView:
        """Stamp ``crm_key`` and ``erp_key`` as linked, inside the caller's transaction."""
        link = self._find(session, crm_key, Side.CRM) or self._find(session, erp_key, Side.ERP)
        if link is None:
            link = Link(tenant_id=self.tenant_id, flow=self.flow)
            session.add(link)
        link.crm_key, link.erp_key = crm_key, erp_key
        link.pending_key = None
        link.state = LinkState.LINKED
        link.base_snapshot = seal(self.vault, self.tenant_id, LINK_SNAPSHOT, base_snapshot)
        link.crm_hash, link.erp_hash = crm_hash, erp_hash
        link.legal_entity = legal_entity or link.legal_entity
        link.synced_at = self._clock.now_utc()
        session.flush()
        return self._view(link)

    def unbind(self, session: Session, link_id: int) -> None:
        """Mark a link broken (its twin is gone) inside the caller's transaction."""
        link = session.get(Link, link_id)
        if link is not None and link.tenant_id == self.tenant_id:
            link.state = LinkState.UNLINKED
            link.pending_key = None

    def forget(self, session: Session, link_id: int) -> None:
        """Remove a link (a record deleted on both sides)."""
        link = session.get(Link, link_id)
        if link is not None and link.tenant_id == self.tenant_id:
            session.delete(link)

    def count(self) -> int:
        """How many links the flow has, for reports."""
        with self._sessions() as session:
            return len(session.scalars(self._select().with_only_columns(Link.id)).all())
