"""Connections: creating and editing a tenant's Connections; credentials are write-only.

Credentials go straight into the vault, bound to the Connection's row, and are never read back
out through the portal: a view says only whether some are set.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncloom.portal.auth import Principal
from syncloom.portal.deps import PortalDeps
from syncloom.portal.problems import FieldProblem, Invalid, Missing
from syncloom.store.audit import AuditLog
from syncloom.store.models import Connection, Environment
from syncloom.vault import seal_credentials

__all__ = [
    "ConnectionChange",
    "ConnectionIn",
    "ConnectionView",
    "create_connection",
    "find_connection",
    "list_connections",
    "parse_credentials",
    "update_connection",
]

System = Literal["creatio", "intacct", "d365"]
_NAME = r"^[a-z][a-z0-9_\-]{0,99}$"


def _check_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


class ConnectionIn(BaseModel):
    """A new Connection."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME, description="lower-case name flows refer to")
    system: System
    environment: Environment = Environment.SANDBOX
    base_url: str = Field(max_length=500)
    credentials: dict[str, str] | None = Field(
        default=None, description="write-only: stored sealed, never returned"
    )

    _url = field_validator("base_url")(_check_url)


class ConnectionChange(BaseModel):
    """Changes to a Connection; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    environment: Environment | None = None
    base_url: str | None = Field(default=None, max_length=500)
    credentials: dict[str, str] | None = None

    _url = field_validator("base_url")(_check_url)


class ConnectionView(BaseModel):
    """A Connection as shown: never its credentials, only whether they are set."""

    id: int
    name: str
    system: str
    environment: Environment
    base_url: str
    has_credentials: bool
    paused_reason: str | None
    updated_at: datetime

    @classmethod
    def of(cls, row: Connection) -> ConnectionView:
        """The view of one row."""
        return cls(
            id=row.id,
            name=row.name,
            system=row.system,
            environment=row.environment,
            base_url=row.base_url,
            has_credentials=row.credentials is not None,
            paused_reason=row.paused_reason,
            updated_at=row.updated_at,
        )


def parse_credentials(text: str) -> dict[str, str] | None:
    """Read ``name=value`` lines (the form's textarea); blank means "leave unchanged".

    Raises:
        Invalid: a line without ``=``; the message never repeats the line (it holds a secret).
    """
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise Invalid([FieldProblem("credentials", f"line {number} is not name=value")])
        values[name.strip()] = value.strip()
    return values or None


def list_connections(session: Session, tenant_id: int) -> list[Connection]:
    """The tenant's Connections by name."""
    return list(session.scalars(Connection.scoped(tenant_id).order_by(Connection.name)))


def find_connection(session: Session, tenant_id: int, connection_id: int) -> Connection:
    """One Connection of the tenant.

    Raises:
        Missing: no such Connection in this tenant.
    """
    row = session.get(Connection, connection_id)
    if row is None or row.tenant_id != tenant_id:
        raise Missing(f"no connection {connection_id}")
    return row


def create_connection(
    session: Session, deps: PortalDeps, me: Principal, data: ConnectionIn
) -> Connection:
    """Create a Connection and seal its credentials, in the caller's transaction.

    Raises:
        Invalid: the name is taken in this tenant.
    """
    taken = session.scalar(
        select(Connection.id).where(
            Connection.tenant_id == me.tenant_id, Connection.name == data.name
        )
    )
    if taken is not None:
        raise Invalid([FieldProblem("name", f"a connection called {data.name!r} exists")])
    row = Connection(
        tenant_id=me.tenant_id,
        name=data.name,
        system=data.system,
        environment=data.environment,
        base_url=data.base_url,
    )
    session.add(row)
    session.flush()
    if data.credentials:
        seal_credentials(deps.vault, row, data.credentials)
    delta: dict[str, Any] = {
        "system": [None, data.system],
        "environment": [None, str(data.environment)],
        "base_url": [None, data.base_url],
    }
    if data.credentials:
        delta["credentials"] = [None, "set"]
    _audit(session, me, "connection.create", row, delta)
    return row


def update_connection(
    session: Session, deps: PortalDeps, me: Principal, connection_id: int, data: ConnectionChange
) -> Connection:
    """Apply changes; a credential change is audited on its own (names only, no values)."""
    row = find_connection(session, me.tenant_id, connection_id)
    delta: dict[str, Any] = {}
    if data.environment is not None and data.environment != row.environment:
        delta["environment"] = [str(row.environment), str(data.environment)]
        row.environment = data.environment
    if data.base_url is not None and data.base_url != row.base_url:
        delta["base_url"] = [row.base_url, data.base_url]
        row.base_url = data.base_url
    if delta:
        _audit(session, me, "connection.update", row, delta)
    if data.credentials:
        seal_credentials(deps.vault, row, data.credentials)
        # A newly-working credential should let the paused Connection sync again.
        row.paused_reason = None
        change = {"credentials": ["hidden", "replaced"], "names": sorted(data.credentials)}
        _audit(session, me, "connection.credentials_change", row, change)
    session.flush()
    return row


def _audit(
    session: Session, me: Principal, action: str, row: Connection, delta: dict[str, Any]
) -> None:
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action=action,
        target=f"connection:{row.id}:{row.name}",
        delta=delta,
    )
