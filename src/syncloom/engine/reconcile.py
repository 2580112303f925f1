"""Reconciler: do both sides of a flow still agree, record for record and in total?

Syncs drift: a webhook lost while the poller was paused, a record edited by hand in the ERP,
an import that bypassed the CRM. A reconciliation reads both sides whole and compares them
with the flow's links: how many records each side has and how many are linked, which keys
have no twin on either side (bounded lists), whether the totals of the flow's ``reconcile.sum``
fields agree, and which linked pairs hold different values in the fields the flow maps
(the source seen through the mapper, the target as it is, compared as a sync would). It reads
and reports; it never writes.

Example::

    report = await Reconciler.for_flow(installation, "accounts").report()
    print(report.as_dict()["unmatched_source"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Record
from syncloom.engine.bulk_index import prefetch
from syncloom.engine.flows import Flow, Side
from syncloom.engine.hashing import same_value
from syncloom.engine.installation import Installation
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.record_job import FlowSide
from syncloom.engine.sync_plan import jsonable
from syncloom.errors import ConfigError, MappingError
from syncloom.store.models import Link, LinkState

__all__ = ["ReconcileReport", "Reconciler", "Totals"]


@dataclass(frozen=True)
class Totals:
    """The sum of one numeric field on both sides, over all records and over linked pairs."""

    source: Decimal
    target: Decimal
    linked_source: Decimal
    linked_target: Decimal

    @property
    def agree(self) -> bool:
        """True when both sides add up to the same total."""
        return self.source == self.target

    def as_dict(self) -> dict[str, str | bool]:
        """A JSON-ready form (amounts as text, exact)."""
        return {
            "source": str(self.source),
            "target": str(self.target),
            "linked_source": str(self.linked_source),
            "linked_target": str(self.linked_target),
            "agree": self.agree,
        }


@dataclass
class ReconcileReport:
    """One flow's reconciliation: counts, unmatched keys, totals and mismatched values."""

    flow: str
    source_count: int = 0
    target_count: int = 0
    linked_count: int = 0
    unmatched_source: list[str] = field(default_factory=list)
    unmatched_target: list[str] = field(default_factory=list)
    unmatched_source_count: int = 0
    unmatched_target_count: int = 0
    dangling_links: list[str] = field(default_factory=list)
    totals: dict[str, Totals] = field(default_factory=dict)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    mismatch_count: int = 0
    limit: int = 100

    @property
    def in_step(self) -> bool:
        """True when nothing is unmatched, mismatched or out of total."""
        return (
            not self.unmatched_source_count
            and not self.unmatched_target_count
            and not self.mismatch_count
            and all(t.agree for t in self.totals.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the portal, the command line and the ``runs`` row."""
        return {
            "flow": self.flow,
            "source_count": self.source_count,
            "target_count": self.target_count,
            "linked_count": self.linked_count,
            "unmatched_source_count": self.unmatched_source_count,
            "unmatched_target_count": self.unmatched_target_count,
            "unmatched_source": self.unmatched_source,
            "unmatched_target": self.unmatched_target,
            "dangling_links": self.dangling_links,
            "totals": {name: t.as_dict() for name, t in self.totals.items()},
            "mismatch_count": self.mismatch_count,
            "mismatches": self.mismatches,
            "in_step": self.in_step,
        }


class Reconciler:
    """Compares both sides of one flow with its links."""

    def __init__(
        self,
        *,
        flow: Flow,
        source: FlowSide,
        target: FlowSide,
        mapper: FieldMapMapper,
        sessions: sessionmaker[Session],
        tenant_id: int,
        limit: int = 100,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.mapper = mapper
        self.tenant_id = tenant_id
        self.limit = limit
        self._sessions = sessions
        mapped = {f.target for f in flow.fields}
        unknown = [name for name in flow.reconcile.sum if name not in mapped]
        if unknown:
            raise ConfigError(
                f"flow {flow.name!r} sums {', '.join(unknown)}, which its field map does not "
                "map; add them to fields or remove them from reconcile.sum"
            )

    @classmethod
    def for_flow(cls, inst: Installation, flow: str, **options: Any) -> Reconciler:
        """The reconciler of one live flow.

        Raises:
            ConfigError: no such flow, or it sums a field it does not map.
        """
        job = inst.unit(flow).job
        return cls(
            flow=job.flow,
            source=job.source,
            target=job.target,
            mapper=job.mapper,
            sessions=inst.sessions,
            tenant_id=inst.tenant_id,
            **options,
        )

    async def report(self) -> ReconcileReport:
        """Read both sides whole and compare them with the links."""
        sources = (await prefetch(self.source, None)).records
        targets = (await prefetch(self.target, None)).records
        pairs = self._linked_pairs()
        report = ReconcileReport(self.flow.name, len(sources), len(targets), limit=self.limit)
        linked: list[tuple[Record, Record]] = []
        for source_key, target_key in pairs.items():
            source, target = sources.get(source_key), targets.get(target_key)
            if source is None or target is None:
                _keep(report.dangling_links, f"{source_key} -> {target_key}", self.limit)
                continue
            linked.append((source, target))
        report.linked_count = len(linked)
        self._unmatched(report, sources, targets, pairs)
        report.totals = {
            name: self._totals(name, sources.values(), targets.values(), linked)
            for name in self.flow.reconcile.sum
        }
        for source, target in linked:
            self._compare(report, source, target)
        return report

    def _linked_pairs(self) -> dict[str, str]:
        query = Link.scoped(self.tenant_id).where(
            Link.flow == self.flow.name, Link.state == LinkState.LINKED
        )
        crm_is_source = self.source.side is Side.CRM
        with self._sessions() as session:
            return {
                (link.crm_key if crm_is_source else link.erp_key) or "": (
                    link.erp_key if crm_is_source else link.crm_key
                )
                or ""
                for link in session.scalars(query)
            }

    def _unmatched(
        self,
        report: ReconcileReport,
        sources: Mapping[str, Record],
        targets: Mapping[str, Record],
        pairs: Mapping[str, str],
    ) -> None:
        linked_targets = set(pairs.values())
        lonely_sources = sorted(k for k in sources if k not in pairs)
        lonely_targets = sorted(k for k in targets if k not in linked_targets)
        report.unmatched_source_count = len(lonely_sources)
        report.unmatched_target_count = len(lonely_targets)
        report.unmatched_source = lonely_sources[: self.limit]
        report.unmatched_target = lonely_targets[: self.limit]

    def _totals(
        self,
        name: str,
        sources: Iterable[Record],
        targets: Iterable[Record],
        linked: list[tuple[Record, Record]],
    ) -> Totals:
        return Totals(
            source=sum((self._source_amount(r, name) for r in sources), Decimal(0)),
            target=sum((_amount(r.values.get(name)) for r in targets), Decimal(0)),
            linked_source=sum((self._source_amount(s, name) for s, _ in linked), Decimal(0)),
            linked_target=sum((_amount(t.values.get(name)) for _, t in linked), Decimal(0)),
        )

    def _source_amount(self, record: Record, name: str) -> Decimal:
        try:
            return _amount(self.mapper.map(record.values).get(name))
        except MappingError:
            return Decimal(0)

    def _compare(self, report: ReconcileReport, source: Record, target: Record) -> None:
        try:
            view = self.mapper.map(source.values)
        except MappingError as exc:
            report.mismatch_count += 1
            failed = {"source": str(source.key), "target": str(target.key), "error": str(exc)}
            _keep(report.mismatches, failed, self.limit)
            return
        fields = {
            name: {"source": value, "target": target.values.get(name)}
            for name, value in view.items()
            if not same_value(value, target.values.get(name))
        }
        if fields:
            report.mismatch_count += 1
            entry: dict[str, object] = {
                "source": str(source.key),
                "target": str(target.key),
                "fields": {k: jsonable(v) for k, v in fields.items()},
            }
            _keep(report.mismatches, entry, self.limit)


def _amount(value: object) -> Decimal:
    if value is None or value == "" or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _keep(bucket: list[Any], entry: Any, limit: int) -> None:
    if len(bucket) < limit:
        bucket.append(entry)
