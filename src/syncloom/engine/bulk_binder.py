"""PageBinder: the Binder of a bulk run, one query or one transaction per page.

A record job reserves, leases and binds one link at a time; a bulk page of hundreds of
records does each of those as one statement or one commit for the whole page:

- :meth:`PageBinder.links` reads the page's links (and who holds a lease on them);
- :meth:`PageBinder.claim` inserts the PENDING links of the page's creates and takes a lease
  on every link the page writes through, in one commit *before* any write, so a run that dies
  mid-batch finds its reservations on retry;
- :meth:`PageBinder.settle` stamps the links as linked with their snapshots and releases the
  leases, in the caller's transaction (with the ledger, the record log and the checkpoint).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.bulk_plan import Action, LinkRow, Planned
from syncloom.engine.bulk_rows import execute_rows
from syncloom.engine.clock import Clock
from syncloom.engine.flows import Side
from syncloom.engine.privacy import LINK_SNAPSHOT, seal, unseal
from syncloom.store.models import Link, LinkState
from syncloom.store.types import utc_now
from syncloom.vault import Vault

__all__ = ["PageBinder", "Settled"]


@dataclasses.dataclass(frozen=True, slots=True)
class Settled:
    """A pair written (or found) by the run, ready to be bound."""

    planned: Planned
    link_id: int
    crm_key: str
    erp_key: str
    crm_hash: str
    erp_hash: str


class PageBinder:
    """Links of one flow of one tenant, handled a page at a time under a lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        tenant_id: int,
        flow: str,
        source_side: Side,
        clock: Clock,
        owner: str,
        lease_ttl: timedelta = timedelta(minutes=10),
        vault: Vault | None = None,
    ) -> None:
        self._sessions = sessions
        self.vault = vault
        self.tenant_id = tenant_id
        self.flow = flow
        self.source_side = source_side
        self._clock = clock
        self.owner = owner
        self.lease_ttl = lease_ttl

    def _source_column(self) -> Any:
        return Link.crm_key if self.source_side is Side.CRM else Link.erp_key

    def _target_column(self) -> Any:
        return Link.erp_key if self.source_side is Side.CRM else Link.crm_key

    def _is_leased(self, owner: str | None, expires: datetime | None, now: datetime) -> bool:
        return owner is not None and owner != self.owner and expires is not None and expires > now

    def links(self, source_keys: Collection[str]) -> dict[str, LinkRow]:
        """The links of ``source_keys`` (bound or reserved), by source key, in one query."""
        if not source_keys:
            return {}
        table = _links_table()
        source = table.c[_attr(self.source_side)]
        query = select(
            source,
            table.c.id,
            table.c.state,
            table.c[_attr(self.source_side.other)],
            table.c.pending_key,
            table.c.base_snapshot,
            table.c.lease_owner,
            table.c.lease_expires_at,
        ).where(
            table.c.tenant_id == self.tenant_id,
            table.c.flow == self.flow,
            source.in_(list(source_keys)),
        )
        now = self._clock.now_utc()
        # A core query of the columns the plan reads: most pages of a first load find no
        # link at all, and loading ORM objects for the ones it finds only adds cost.
        with self._sessions() as session:
            return {
                key: LinkRow(
                    link_id,
                    state,
                    target_key,
                    pending_key,
                    self._snapshot(snapshot),
                    self._is_leased(owner, expires, now),
                )
                for (
                    key,
                    link_id,
                    state,
                    target_key,
                    pending_key,
                    snapshot,
                    owner,
                    expires,
                ) in session.connection().execute(query)
            }

    def _snapshot(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        # Base snapshots hold the last synced values: sealed at rest, opened for the plan.
        if not stored:
            return None
        return unseal(self.vault, self.tenant_id, LINK_SNAPSHOT, stored) or None

    def _sealed(self, base: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if base is None else seal(self.vault, self.tenant_id, LINK_SNAPSHOT, base)

    def taken(self, target_keys: Collection[str]) -> set[str]:
        """Which of ``target_keys`` are already bound or reserved in this flow."""
        if not target_keys:
            return set()
        keys = list(target_keys)
        query = Link.scoped(self.tenant_id).where(
            Link.flow == self.flow,
            or_(self._target_column().in_(keys), Link.pending_key.in_(keys)),
        )
        with self._sessions() as session:
            found: set[str] = set()
            for link in session.scalars(query):
                found.update(k for k in (link.crm_key, link.erp_key, link.pending_key) if k)
            return found & set(keys)

    def claim(self, planned: Sequence[Planned]) -> list[Planned]:
        """Reserve and lease every writing record of the page, in one commit.

        Returns:
            The plan with link ids filled in; a record another worker holds turns into a skip.
        """
        try:
            with self._sessions.begin() as session:
                return self._claim_page(session, planned)
        except IntegrityError:
            # A record job reserved one of these keys meanwhile: claim one by one instead.
            with self._sessions.begin() as session:
                return [self._claim_one(session, item) for item in planned]

    def _lease(self) -> dict[str, Any]:
        return {
            "lease_owner": self.owner,
            "lease_expires_at": self._clock.now_utc() + self.lease_ttl,
        }

    def _claim_page(self, session: Session, planned: Sequence[Planned]) -> list[Planned]:
        out = list(planned)
        rows: list[tuple[int, dict[str, Any]]] = []
        lease, now = self._lease(), utc_now()
        for i, item in enumerate(planned):
            if not item.writes:
                continue
            if item.link_id is not None:
                out[i] = self._take_lease(session, item)
            else:
                rows.append((i, self._reservation(item, lease, now)))
        if rows:
            # One executemany for the page's reservations, then their ids in one query: the
            # source key is unique in the flow, so it names each new link.
            execute_rows(session, insert(_links_table()), [row for _, row in rows])
            ids = self._ids(session, [str(out[i].source.key) for i, _ in rows])
            for i, _ in rows:
                out[i] = dataclasses.replace(out[i], link_id=ids[str(out[i].source.key)])
        return out

    def _ids(self, session: Session, source_keys: Sequence[str]) -> dict[str, int]:
        column = self._source_column()
        query = select(column, Link.id).where(
            Link.tenant_id == self.tenant_id, Link.flow == self.flow, column.in_(source_keys)
        )
        return {key: link_id for key, link_id in session.connection().execute(query)}

    def _claim_one(self, session: Session, item: Planned) -> Planned:
        if not item.writes:
            return item
        if item.link_id is not None:
            return self._take_lease(session, item)
        try:
            with session.begin_nested():
                link_id = session.execute(
                    insert(Link).returning(Link.id), [self._reservation(item)]
                ).scalar_one()
        except IntegrityError:
            return _skip(item, "reserved by a running job")
        return dataclasses.replace(item, link_id=link_id)

    def _reservation(
        self, item: Planned, lease: dict[str, Any] | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        # Every column with a default is given: a page's rows bypass the per-row defaults.
        now = now or utc_now()
        return {
            "tenant_id": self.tenant_id,
            "flow": self.flow,
            "pending_key": item.target_key,
            "state": LinkState.PENDING,
            "legal_entity": item.legal_entity,
            _attr(self.source_side): str(item.source.key),
            **(lease or self._lease()),
            "created_at": now,
            "updated_at": now,
        }

    def _take_lease(self, session: Session, item: Planned) -> Planned:
        now = self._clock.now_utc()
        taken = session.execute(
            update(Link)
            .where(
                Link.id == item.link_id,
                or_(
                    Link.lease_owner.is_(None),
                    Link.lease_owner == self.owner,
                    Link.lease_expires_at <= now,
                ),
            )
            .values(**self._lease())
        )
        if getattr(taken, "rowcount", 1) == 0:
            return _skip(item, "leased by a running job")
        return item

    def settle(self, session: Session, settled: Iterable[Settled]) -> None:
        """Stamp written pairs as linked and release their leases (caller's transaction)."""
        now = self._clock.now_utc()
        # The source key is the one the link was reserved or found under, never a new one:
        # leaving it out of the SET spares its unique index an update per row.
        target = _attr(self.source_side.other)
        rows = [
            {
                "link_id": done.link_id,
                target: done.erp_key if target == "erp_key" else done.crm_key,
                "base_snapshot": self._sealed(done.planned.base),
                "crm_hash": done.crm_hash,
                "erp_hash": done.erp_hash,
                **(
                    {"legal_entity": done.planned.legal_entity} if done.planned.legal_entity else {}
                ),
            }
            for done in settled
        ]
        # Rows with and without a legal entity have different columns: one UPDATE each, as
        # one executemany whose instant is converted once for the page (see bulk_rows).
        for group in (
            [r for r in rows if "legal_entity" in r],
            [r for r in rows if "legal_entity" not in r],
        ):
            if group:
                statement = _settle_statement(now, target, "legal_entity" in group[0])
                execute_rows(session, statement, group)

    def release(self, session: Session, link_ids: Collection[int]) -> None:
        """Give up the leases of records the page did not finish (caller's transaction)."""
        if link_ids:
            session.execute(
                update(Link)
                .where(Link.id.in_(list(link_ids)), Link.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def release_all(self, session: Session) -> None:
        """Give up every lease this owner holds: its run ended (caller's transaction)."""
        session.execute(
            update(Link)
            .where(
                Link.tenant_id == self.tenant_id,
                Link.flow == self.flow,
                Link.lease_owner == self.owner,
            )
            .values(lease_owner=None, lease_expires_at=None)
        )


def _links_table() -> Table:
    table = Link.__table__
    assert isinstance(table, Table)
    return table


def _settle_statement(now: datetime, target_key: str, with_entity: bool) -> Any:
    table = _links_table()
    values: dict[str, Any] = {
        name: bindparam(name) for name in (target_key, "base_snapshot", "crm_hash", "erp_hash")
    }
    if with_entity:
        values["legal_entity"] = bindparam("legal_entity")
    values.update(
        pending_key=None,
        state=LinkState.LINKED,
        synced_at=now,
        updated_at=now,
        lease_owner=None,
        lease_expires_at=None,
    )
    return update(table).where(table.c.id == bindparam("link_id")).values(values)


def _attr(side: Side) -> str:
    return "crm_key" if side is Side.CRM else "erp_key"


def _skip(item: Planned, reason: str) -> Planned:
    return dataclasses.replace(item, action=Action.SKIP, reason=reason)
