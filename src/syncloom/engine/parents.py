"""Parents: a record that points at other records syncs them first, then points at their twins.

An Opportunity names its Account; before the Quotation is written, the Account's flow must
have made the customer, and the Quotation must carry the customer's id. A flow's
``depends_on`` says which field names a parent of which flow and which target field takes
the twin's key (or a template over the twin's fields). :class:`Parents` finds every parent of
a batch of records, syncs each distinct one once, all concurrently, then renders the values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncloom.connectors.base import Record, RecordKey, Values
from syncloom.engine.binder import LinkView
from syncloom.engine.fanout import settle_all
from syncloom.engine.flows import Dependency, Side
from syncloom.engine.keys import render_template
from syncloom.errors import TransientError
from syncloom.store.models import LinkState

if TYPE_CHECKING:
    from syncloom.engine.record_job import FlowSide, RecordJob

__all__ = ["Parents"]

# A lookup column's "no value" in a CRM that keys by GUID.
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class _Parent:
    """A record this record points at through a dependency, synced by ``job`` first."""

    dep: Dependency
    job: RecordJob
    key: RecordKey
    child: RecordKey

    @property
    def ident(self) -> tuple[str, str]:
        return (self.dep.flow, str(self.key))


class Parents:
    """The parents of one flow's records, seen from that flow's source end."""

    def __init__(self, ours: FlowSide, jobs: Callable[[str], RecordJob] | None) -> None:
        self._ours = ours
        self._jobs = jobs

    async def values(
        self, dependencies: Sequence[Dependency], records: Sequence[Record]
    ) -> list[dict[str, object]]:
        """The parent values of each record; every distinct parent synced once, all at once.

        Raises:
            TransientError: a parent could not be synced yet; the record waits and retries.
        """
        wanted = [self._parents_of(dependencies, record) for record in records]
        distinct = {parent.ident: parent for found in wanted for parent in found}
        synced = await settle_all(self._synced_twin(p) for p in distinct.values())
        twins = dict(zip(distinct, synced, strict=True))
        fields = await self._twin_fields(
            {twins[p.ident]: p.job for found in wanted for p in found if _reads_fields(p.dep)}
        )
        return [
            {
                p.dep.target: _render_twin(twins[p.ident], p.dep.value, fields)
                for p in found
                if p.dep.target
            }
            for found in wanted
        ]

    def _parents_of(self, dependencies: Sequence[Dependency], record: Record) -> list[_Parent]:
        found = []
        for dep in dependencies:
            parent_id = record.values.get(dep.field)
            if dep.key is not None and parent_id:
                parent_id = render_template(dep.key, {}, record.values)
            if not parent_id or parent_id == _EMPTY_GUID or self._jobs is None:
                continue
            parent = self._jobs(dep.flow)
            near, _ = self._ends(parent)
            found.append(_Parent(dep, parent, near.key(str(parent_id)), record.key))
        return found

    def _ends(self, parent: RecordJob) -> tuple[FlowSide, FlowSide]:
        """The parent flow's end our record points at, and the end its twin lives on.

        A lookup usually names the parent flow's source (an Opportunity's Account); but a flow
        that keeps CRM lookups in step with ERP records has the CRM as its target, so a CRM
        record's lookup names the parent's target and the twin is the parent's source.
        """
        ours = self._ours.connection
        if parent.source.connection != ours and parent.target.connection == ours:
            return parent.target, parent.source
        return parent.source, parent.target

    async def _synced_twin(self, parent: _Parent) -> str:
        job, key = parent.job, parent.key
        near, _ = self._ends(job)
        twin = _created_twin(job.binder.find(str(key), near.side), near.side)
        if twin is None:
            # No twin, or only a reserved key whose create has not finished (a parent job
            # killed or failed between the two): the reserved key names no record yet, so the
            # parent's job runs (and resumes its create) before anything points at it.
            await job.run(key)
            twin = _created_twin(job.binder.find(str(key), near.side), near.side)
        if twin is None:
            raise TransientError(
                f"parent {key} of flow {parent.dep.flow!r} is not synced yet",
                record_key=str(parent.child),
            )
        return twin

    async def _twin_fields(self, twins: Mapping[str, RecordJob]) -> dict[str, Values]:
        """The values of every twin a dependency's template reads, read concurrently."""
        reads = await settle_all(
            job.read_side(self._ends(job)[1], twin) for twin, job in twins.items()
        )
        return {
            twin: record.values if record else {} for twin, record in zip(twins, reads, strict=True)
        }


def _render_twin(twin: str, template: str, fields: Mapping[str, Values]) -> object:
    key = RecordKey.parse(twin)
    names = {"target_id": key.id, "target_key": twin}
    return render_template(template, names, fields.get(twin, {}))


def _created_twin(link: LinkView | None, side: Side) -> str | None:
    """The twin's key across ``link`` from ``side`` once it exists; None while only reserved."""
    if link is None or link.state is LinkState.PENDING:
        return None
    return link.key(side.other)


def _reads_fields(dep: Dependency) -> bool:
    """Whether a dependency's value reads fields of the parent's twin (not only its key)."""
    return bool(dep.target) and "{field:" in dep.value
