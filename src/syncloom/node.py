"""Node: one running syncloom process — the runtime, every tenant's flows, their schedules.

This is where systems get names: a Connection's ``system`` picks its connector from the one
explicit table below, its credentials come out of the vault, and each tenant's newest saved
flow document becomes a live :class:`~syncloom.engine.installation.Installation`. The engine
itself never learns which systems it talks to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.connectors.base import Connector, WebhookReceiver
from syncloom.connectors.creatio import CreatioConnector
from syncloom.connectors.creatio.webhooks import CreatioWebhookReceiver
from syncloom.connectors.d365 import D365Connector
from syncloom.connectors.d365.webhooks import D365WebhookReceiver
from syncloom.connectors.intacct import IntacctConnector
from syncloom.connectors.intacct.webhooks import IntacctWebhookReceiver
from syncloom.engine import actions, jobs
from syncloom.engine.bridge import LoopBridge
from syncloom.engine.budget import Limits
from syncloom.engine.clock import Clock, SystemClock
from syncloom.engine.flows import FlowDocument, load_flows
from syncloom.engine.installation import ConnectionInfo, Installation
from syncloom.engine.intake import Intake, WebhookEndpoint
from syncloom.engine.poller import Tx
from syncloom.engine.retry import RetryPolicy
from syncloom.engine.runtime import DEFAULT_APP_VERSION, JobHandle, Runtime
from syncloom.errors import ConfigError
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection, Tenant
from syncloom.vault import Vault, open_credentials

__all__ = ["CONNECTORS", "FLOWS_DOCUMENT", "RECEIVERS", "Node", "open_connector"]

FLOWS_DOCUMENT = "flows"

# How each system's pushed change notices are read, from a Connection's options.
RECEIVERS: dict[str, Callable[[Mapping[str, Any]], WebhookReceiver]] = {
    "creatio": lambda options: CreatioWebhookReceiver(),
    "intacct": lambda options: IntacctWebhookReceiver(str(options.get("company_tz", "UTC"))),
    "d365": lambda options: D365WebhookReceiver(),
}

# The one table from a Connection's ``system`` to the connector that speaks it.
CONNECTORS: dict[str, Callable[[Mapping[str, Any]], Connector]] = {
    "creatio": CreatioConnector.from_config,
    "intacct": IntacctConnector.from_config,
    "d365": D365Connector.from_config,
}


def open_connector(connection: Connection, vault: Vault) -> Connector:
    """Open the connector of a Connection with its decrypted credentials.

    Raises:
        ConfigError: unknown system or incomplete settings.
    """
    factory = CONNECTORS.get(connection.system)
    if factory is None:
        raise ConfigError(
            f"connection {connection.name!r}: unknown system {connection.system!r}; "
            f"choose one of {', '.join(CONNECTORS)}"
        )
    secrets = open_credentials(vault, connection)
    config: dict[str, Any] = {"base_url": connection.base_url, **(connection.options or {})}
    config.update(secrets)
    config["credentials"] = secrets
    return factory(config)


def _limits(options: Mapping[str, Any]) -> Limits:
    raw = options.get("limits") or {}
    return Limits(
        **{k: raw[k] for k in ("rate_per_s", "burst", "max_in_flight", "daily_quota") if k in raw}
    )


@dataclass
class Node:
    """The runtime plus the installations of every tenant that has a flow document.

    Example::

        node = Node(settings.database_url, sessions, vault, executor_id="worker-1")
        node.start()
        node.poll_now(tenant_id, "accounts").result()
        node.stop()
    """

    database_url: str
    sessions: sessionmaker[Session]
    vault: Vault
    executor_id: str = "local"
    clock: Clock = field(default_factory=SystemClock)
    worker_concurrency: int = 16
    app_version: str = DEFAULT_APP_VERSION
    retry: RetryPolicy | None = None
    installations: dict[int, Installation] = field(default_factory=dict)
    runtime: Runtime | None = None
    bridge: LoopBridge | None = None

    def start(self) -> None:
        """Build every tenant's installation, launch the runtime and declare the schedules."""
        self.bridge = LoopBridge()
        self.runtime = Runtime(
            self.database_url, executor_id=self.executor_id, app_version=self.app_version
        )
        self.runtime.register_queue(
            jobs.RECORD_QUEUE, partitioned=True, worker_concurrency=self.worker_concurrency
        )
        # What the portal hands over when it runs without a worker (syncloom web).
        spec = actions.ACTION_QUEUE_SPEC
        self.runtime.register_queue(
            spec.name, worker_concurrency=spec.worker_concurrency, partitioned=spec.partitioned
        )
        for tenant_id, document in self._documents().items():
            inst = self._install(tenant_id, document)
            self.installations[tenant_id] = inst
            jobs.install(inst, self.runtime)
            self._schedule(tenant_id, document)
        self.runtime.launch()

    def prepare(self) -> None:
        """Build every tenant's installation without a runtime, for a portal alone.

        That is all a portal needs to route a webhook's hints to the flows that read them;
        the workers run the jobs.
        """
        self.bridge = LoopBridge()
        for tenant_id, document in self._documents().items():
            self.installations[tenant_id] = self._install(tenant_id, document)

    def _documents(self) -> dict[int, FlowDocument]:
        with self.sessions() as session:
            tenants = session.query(Tenant).all()
            found = {}
            for tenant in tenants:
                saved = ConfigVersions(session).latest(tenant.id, FLOWS_DOCUMENT)
                if saved is not None:
                    found[tenant.id] = load_flows(saved.document)
            return found

    def _install(self, tenant_id: int, document: FlowDocument) -> Installation:
        assert self.bridge is not None
        with self.sessions() as session:
            rows = session.query(Connection).filter_by(tenant_id=tenant_id).all()
            infos = {
                row.name: ConnectionInfo(
                    open_connector(row, self.vault),
                    row.id,
                    _limits(row.options or {}),
                    (row.options or {}).get("integration_user"),
                )
                for row in rows
            }
        return Installation(
            tenant_id=tenant_id,
            document=document,
            connections=infos,
            sessions=self.sessions,
            clock=self.clock,
            bridge=self.bridge,
            vault=self.vault,
            owner=self.executor_id,
            retry=self.retry,
        )

    def _schedule(self, tenant_id: int, document: FlowDocument) -> None:
        assert self.runtime is not None
        for flow in document.flows:
            if flow.schedule is not None:
                self.runtime.schedule(
                    f"poll:{tenant_id}:{flow.name}",
                    flow.schedule.cron,
                    jobs.scheduled_poll,
                    tz=flow.schedule.timezone,
                    context=f"{tenant_id}:{flow.name}",
                )

    def intake(self, transaction: Callable[[], AbstractContextManager[Tx]] | None = None) -> Intake:
        """The webhook intake of this node: one endpoint per Connection with a webhook secret.

        A Connection accepts pushes once its credentials hold a ``webhook_secret``.

        Args:
            transaction: where the hints' jobs are enqueued; this node's runtime by default.
                A portal without a runtime passes a client's (the workers run the jobs).
        """
        if transaction is None and self.runtime is None:
            raise ConfigError("start the node before taking webhooks")
        endpoints = {}
        with self.sessions() as session:
            for row in session.query(Connection).all():
                secret = open_credentials(self.vault, row).get("webhook_secret")
                receiver = RECEIVERS.get(row.system)
                if secret and receiver is not None:
                    endpoints[row.id] = WebhookEndpoint(receiver(row.options or {}), secret)
        return Intake(
            transaction=transaction or self._runtime_transaction,
            sessions=self.sessions,
            endpoints=endpoints,
            clock=self.clock,
            installation=self._installation,
        )

    def _runtime_transaction(self) -> AbstractContextManager[Tx]:
        assert self.runtime is not None
        return self.runtime.transaction()

    def _installation(self, tenant_id: int) -> Installation:
        found = self.installations.get(tenant_id)
        if found is None:
            raise ConfigError(f"tenant {tenant_id} has no live installation in this process")
        return found

    def poll_now(self, tenant_id: int, flow: str) -> JobHandle[dict[str, Any]]:
        """Poll one flow now, in the background; returns the run's handle."""
        if self.runtime is None:
            raise ConfigError("start the node before polling")
        jobs.installation(tenant_id).unit(flow)  # fail fast on unknown tenant or flow
        return self.runtime.start(jobs.poll_flow, tenant_id, flow)

    def stop(self) -> None:
        """Shut the runtime down and close every connector."""
        if self.runtime is not None:
            self.runtime.shutdown()
        if self.bridge is not None:
            for inst in self.installations.values():
                for info in inst.connections.values():
                    self.bridge.run(info.connector.aclose())
            self.bridge.close()
