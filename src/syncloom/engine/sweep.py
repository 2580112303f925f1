"""KeySetSweep: finding source records that were deleted, when no one said so.

How does a delete reach the target when the source sends no event for it and a change feed
cannot list what is gone? By comparing key sets: every key the source still has
(``iter_keys``) against the source keys of the flow's links. A linked key that no longer
exists was deleted, and the flow's delete policy is applied to its twin: ``propagate``
deletes it, ``inactivate`` sets the flow's inactive field, ``ignore`` leaves it. The link is
then marked unlinked and the record log says what happened, in one transaction per batch.

A sweep that would remove more than ``max_share`` of a flow's links stops instead: an empty
key set is more often a wrong filter or a permission change than a mass deletion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Op, OpKind
from syncloom.engine.flows import DeleteRule, Flow, Side
from syncloom.engine.installation import Installation
from syncloom.engine.record_job import FlowSide
from syncloom.engine.record_log import RecordLog
from syncloom.errors import ConfigError, NotFoundError, SyncError
from syncloom.store.models import Link, LinkState
from syncloom.vault import Vault

__all__ = ["KeySetSweep", "SweepReport"]

_ACTIONS = {
    DeleteRule.PROPAGATE: "deleted",
    DeleteRule.INACTIVATE: "inactivated",
    DeleteRule.IGNORE: "delete_ignored",
}


@dataclass
class SweepReport:
    """What a sweep found and did."""

    flow: str
    source_keys: int = 0
    links: int = 0
    missing: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "flow": self.flow,
            "source_keys": self.source_keys,
            "links": self.links,
            "missing": self.missing,
            "counts": dict(self.counts),
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class _Gone:
    link_id: int
    source_key: str
    target_key: str


class KeySetSweep:
    """Applies a flow's delete policy to the twins of source records that disappeared."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        sessions: sessionmaker[Session],
        tenant_id: int,
        max_share: float = 0.5,
        batch_size: int = 100,
        vault: Vault | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.tenant_id = tenant_id
        self.max_share = max_share
        self.batch_size = batch_size
        self._sessions = sessions
        self._log = RecordLog(sessions, tenant_id, vault)

    @classmethod
    def for_flow(cls, inst: Installation, flow: str, **options: object) -> KeySetSweep:
        """The sweep of one live flow."""
        job = inst.unit(flow).job
        return cls(
            flow=job.flow,
            source=job.source,
            target=job.target,
            sessions=inst.sessions,
            tenant_id=inst.tenant_id,
            vault=inst.log.vault,
            **options,  # type: ignore[arg-type]
        )

    async def sweep(self, *, force: bool = False) -> SweepReport:
        """Compare key sets and apply the delete policy to every twin whose source is gone.

        Args:
            force: sweep even when more than ``max_share`` of the links would go.

        Raises:
            ConfigError: the sweep would remove too many links and ``force`` is not set.
        """
        present = await self._source_keys()
        links = self._links()
        gone = [g for g in links if g.source_key not in present]
        report = SweepReport(self.flow.name, len(present), len(links))
        report.missing = [g.source_key for g in gone]
        if gone and not force and len(gone) > self.max_share * len(links):
            raise ConfigError(
                f"the sweep of {self.flow.name!r} would remove {len(gone)} of {len(links)} "
                "links; check the source connection's filter and permissions, or force it"
            )
        for start in range(0, len(gone), self.batch_size):
            await self._apply(gone[start : start + self.batch_size], report)
        return report

    async def _source_keys(self) -> set[str]:
        keys: set[str] = set()
        pages = self.source.connector.iter_keys(self.source.entity)
        async for page in pages:
            keys.update(str(self.source.key(ident)) for ident in page)
        return keys

    def _links(self) -> list[_Gone]:
        query = Link.scoped(self.tenant_id).where(
            Link.flow == self.flow.name, Link.state == LinkState.LINKED
        )
        source_is_crm = self.source.side is Side.CRM
        with self._sessions() as session:
            return [
                _Gone(
                    link.id,
                    (link.crm_key if source_is_crm else link.erp_key) or "",
                    (link.erp_key if source_is_crm else link.crm_key) or "",
                )
                for link in session.scalars(query)
            ]

    async def _apply(self, batch: Sequence[_Gone], report: SweepReport) -> None:
        errors = await self._write(batch)
        rule = self._rule()
        with self._sessions.begin() as session:
            for gone in batch:
                error = errors.get(gone.link_id)
                if error is not None and not isinstance(error, NotFoundError):
                    report.errors[gone.source_key] = f"{type(error).__name__}: {error}"
                    report.counts["failed"] += 1
                    continue
                action = _ACTIONS[rule]
                link = session.get(Link, gone.link_id)
                if link is not None:
                    link.state, link.pending_key = LinkState.UNLINKED, None
                diff = {"target": gone.target_key, "policy": rule.value, "inferred": True}
                self._log.add(
                    session,
                    flow=self.flow.name,
                    record_key=gone.source_key,
                    action=action,
                    diff=diff,
                )
                report.counts[action] += 1

    def _rule(self) -> DeleteRule:
        # Without an inactive field there is nothing to set: inactivate degrades to ignore.
        if self.flow.delete is DeleteRule.INACTIVATE and self.flow.inactivate is None:
            return DeleteRule.IGNORE
        return self.flow.delete

    async def _write(self, batch: Sequence[_Gone]) -> dict[int, SyncError]:
        rule = self._rule()
        if rule is DeleteRule.IGNORE:
            return {}
        ops = [self._op(rule, gone) for gone in batch]
        async with self.target.slot():
            results = await self.target.connector.batch(ops)
        return {
            gone.link_id: result.error
            for gone, result in zip(batch, results, strict=True)
            if result.error is not None
        }

    def _op(self, rule: DeleteRule, gone: _Gone) -> Op:
        ident = gone.target_key.split(":", 2)[-1]
        if rule is DeleteRule.PROPAGATE:
            return Op(OpKind.DELETE, self.target.entity, ident)
        assert self.flow.inactivate is not None
        values = {self.flow.inactivate.field: self.flow.inactivate.value}
        return Op(OpKind.UPDATE, self.target.entity, ident, values)
