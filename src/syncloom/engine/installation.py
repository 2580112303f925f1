"""Installation: one tenant's live flows, assembled from a flow document and its Connections.

Everything a record job or a poll needs at run time is built here once, at start-up: the
Mapper, Binder, Governors, Pollers and RecordJob of every flow, around the connectors the
caller opened (the engine never names a system; the caller maps connection names to
connectors). The durable workflows in :mod:`syncloom.engine.jobs` find the installation of
their tenant through :func:`syncloom.engine.jobs.install`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Connector, Record, RecordKey, Values
from syncloom.engine.binder import Binder
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import Clock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.engine.echo import EchoFilter, FlappingDetector
from syncloom.engine.flows import Flow, FlowDirection, FlowDocument, Side
from syncloom.engine.governor import Governor
from syncloom.engine.grouping import group_id
from syncloom.engine.ledger import SqlWriteLedger
from syncloom.engine.lookups import LookupRunner, lookup_connections
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.poller import Poller, PollReport, Tx
from syncloom.engine.record_job import FlowSide, RecordJob
from syncloom.engine.record_log import RecordLog
from syncloom.engine.retry import RetryPolicy
from syncloom.engine.schedule import BatchWindow
from syncloom.engine.watermarks import WatermarkStore
from syncloom.errors import ConfigError, MappingError
from syncloom.vault import Vault

__all__ = ["ConnectionInfo", "FlowUnit", "Installation"]


@dataclass(frozen=True)
class ConnectionInfo:
    """A Connection as the engine sees it: the open connector, its row id and its budget."""

    connector: Connector
    connection_id: int
    limits: Limits = Limits()
    integration_user: str | None = None


@dataclass
class FlowUnit:
    """One live flow: its job and the pollers of the sides it reads."""

    flow: Flow
    job: RecordJob
    pollers: list[Poller] = field(default_factory=list)

    async def poll(self) -> list[PollReport]:
        """Poll every side of the flow once."""
        return [await poller.poll() for poller in self.pollers]


class Installation:
    """A tenant's flows, ready to run.

    Example::

        inst = Installation(tenant_id=1, document=doc, connections=conns,
                            sessions=sessions, clock=SystemClock(), bridge=LoopBridge())
        jobs.install(inst, runtime)
    """

    def __init__(
        self,
        *,
        tenant_id: int,
        document: FlowDocument,
        connections: Mapping[str, ConnectionInfo],
        sessions: sessionmaker[Session],
        clock: Clock,
        bridge: LoopBridge,
        retry: RetryPolicy | None = None,
        poll_overlap: timedelta = timedelta(minutes=2),
        page_size: int = 500,
        vault: Vault | None = None,
        owner: str = "",
    ) -> None:
        self.tenant_id = tenant_id
        self.owner = owner
        self.document = document
        self.connections = dict(connections)
        self.sessions = sessions
        self.clock = clock
        self.bridge = bridge
        self.retry = retry or RetryPolicy()
        self.poll_overlap = poll_overlap
        self.page_size = page_size
        self.ledger = SqlWriteLedger(sessions, tenant_id, clock)
        self.log = RecordLog(sessions, tenant_id, vault)
        self.dead_letters = DeadLetterQueue(sessions, tenant_id, clock, vault)
        self.governors = {name: self._governor(info) for name, info in self.connections.items()}
        users = {n: i.integration_user for n, i in self.connections.items() if i.integration_user}
        self.echo = EchoFilter(self.ledger, users)
        self.lookups = LookupRunner(self._search, today=lambda: self.clock.now_utc().date())
        self.flows: dict[str, FlowUnit] = {f.name: self._unit(f) for f in document.flows}

    def _governor(self, info: ConnectionInfo) -> Governor:
        governor = Governor(
            self.sessions,
            tenant_id=self.tenant_id,
            connection_id=info.connection_id,
            limits=info.limits,
            clock=self.clock,
            owner=self.owner,
        )
        governor.ensure()
        governor.reclaim()
        return governor

    def _side(self, flow: Flow, endpoint_side: Side, connection: str, entity: str) -> FlowSide:
        info = self.connections.get(connection)
        if info is None:
            raise ConfigError(f"flow {flow.name!r} names unknown connection {connection!r}")
        return FlowSide(
            info.connector, connection, entity, endpoint_side, self.governors[connection]
        )

    def _unit(self, flow: Flow) -> FlowUnit:
        unknown = sorted(lookup_connections(flow) - set(self.connections))
        if unknown:
            raise ConfigError(f"flow {flow.name!r}: its lookups name unknown connections {unknown}")
        job = self._job(flow, flow.target.connection)
        routes = flow.routing.routes.values() if flow.routing is not None else ()
        job.route_through(
            {
                route.legal_entity: self._job(flow, route.connection)
                for route in routes
                if route.connection is not None and route.connection != flow.target.connection
            }
        )
        return FlowUnit(flow, job)

    def _job(self, flow: Flow, target_connection: str) -> RecordJob:
        """The flow's job with its target end on ``target_connection``."""
        source = self._side(flow, flow.source_side, flow.source.connection, flow.source.entity)
        target = self._side(flow, flow.target_side, target_connection, flow.target.entity)
        mapper = FieldMapMapper.from_flow(flow, value_maps=self.document.value_maps)
        return RecordJob(
            flow=flow,
            source=source,
            target=target,
            mapper=mapper,
            binder=Binder(self.sessions, self.tenant_id, flow.name, self.clock, self.log.vault),
            echo=self.echo,
            ledger=self.ledger,
            log=self.log,
            dead_letters=self.dead_letters,
            sessions=self.sessions,
            parents=self._parent_job,
            flapping=FlappingDetector.from_spec(flow.flapping, self.clock),
            lookups=self.lookups,
        )

    async def _search(self, connection: str, entity: str, criteria: Values) -> Sequence[Record]:
        """A lookup's search, through the named Connection's connector and budget."""
        info = self.connections.get(connection)
        if info is None:
            raise ConfigError(f"a lookup names unknown connection {connection!r}")
        async with self.governors[connection].slot():
            return await info.connector.search(entity, criteria, limit=200)

    def _parent_job(self, name: str) -> RecordJob:
        return self.unit(name).job

    def unit(self, name: str) -> FlowUnit:
        """The live flow called ``name``.

        Raises:
            ConfigError: no such flow in this installation.
        """
        unit = self.flows.get(name)
        if unit is None:
            raise ConfigError(f"no flow {name!r}; known: {', '.join(sorted(self.flows))}")
        return unit

    def attach(
        self,
        transaction: Callable[[], AbstractContextManager[Tx]],
        enqueue: Callable[[Tx, str, Record], str | None],
    ) -> None:
        """Give every flow a Poller per side it reads (both sides when it syncs both ways).

        Args:
            transaction: opens a transaction that can enqueue (the Runtime's).
            enqueue: enqueues the record job of ``(flow, record)`` inside a transaction.
        """
        for unit in self.flows.values():
            sides = [unit.job.source]
            if unit.flow.direction is FlowDirection.BOTH:
                sides.append(unit.job.target)
                sides += [routed.target for routed in unit.job.routes.values()]
            unit.pollers = [
                self._poller(unit.flow.name, side, transaction, enqueue) for side in sides
            ]

    def _poller(
        self,
        flow: str,
        side: FlowSide,
        transaction: Callable[[], AbstractContextManager[Tx]],
        enqueue: Callable[[Tx, str, Record], str | None],
    ) -> Poller:
        spec = self.unit(flow).flow
        grouped = spec.aggregate if side.side is spec.source_side else None

        def enqueue_record(tx: Tx, record: Record) -> str | None:
            if grouped is not None:
                # A member's change is its group's: one partition, and no re-read to find it.
                try:
                    ident = group_id(grouped, record.values)
                except MappingError:
                    return None  # in no group (an invoice of no order): nothing to sync
                record = dataclasses.replace(record, key=side.key(ident))
            return enqueue(tx, flow, record)

        # A routed entity's Connection reads its own records: it keeps its own watermark.
        own = side.connection in {spec.source.connection, spec.target.connection}
        return Poller(
            flow=flow if own else f"{flow}@{side.connection}",
            side=side,
            store=WatermarkStore(self.tenant_id),
            transaction=transaction,
            enqueue=enqueue_record,
            overlap=self.poll_overlap,
            page_size=self.page_size,
            windows=[BatchWindow.from_spec(w) for w in spec.batch_windows],
            clock=self.clock,
            sweep=spec.sweep and side.side is spec.source_side,
        )

    def partition_key(self, flow: str, key: RecordKey) -> str:
        """The key that serialises jobs of one pair: the source record's key when known."""
        job = self.unit(flow).job
        if job.source.owns(key):
            return f"{self.tenant_id}|{key}"
        other = job.binder.to_other(str(key), job.target.side)
        return f"{self.tenant_id}|{other or key}"
