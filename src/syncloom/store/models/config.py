"""What a tenant configured: connections to systems and the versioned flow document."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from syncloom.errors import ConfigError
from syncloom.store.base import Base, TenantOwned
from syncloom.store.types import str_enum, utc_now

__all__ = ["ConfigVersion", "Connection", "Environment"]


class Environment(enum.StrEnum):
    """Whether a Connection points at a vendor sandbox or at production data."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


class Connection(TenantOwned, Base):
    """A configured instance of one system: environment, base URL and encrypted credentials.

    ``credentials`` is a vault ciphertext bound to (tenant, connection id, ``"credentials"``);
    ``credentials_key_id`` repeats the key id from its header so rotation can find stale rows.
    """

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    system: Mapped[str] = mapped_column(String(32))
    environment: Mapped[Environment] = mapped_column(
        str_enum(Environment, "environment"), default=Environment.SANDBOX
    )
    base_url: Mapped[str] = mapped_column(String(500))
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    credentials_key_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Settings that are not secret (entity id, company time zone, CA file, limits).
    options: Mapped[dict[str, Any] | None] = mapped_column(default=dict)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ConfigVersion(TenantOwned, Base):
    """One immutable saved version of a named configuration document (flows, maps, schedules).

    Versions are numbered 1, 2, 3... per tenant and name. A row is never updated or deleted:
    the ORM refuses it and the database has triggers that refuse it too.
    """

    __tablename__ = "config_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"),)

    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    document: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    comment: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None]


@event.listens_for(ConfigVersion, "before_update")
@event.listens_for(ConfigVersion, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: ConfigVersion) -> None:
    raise ConfigError(
        f"config version {target.name} v{target.version} is immutable; save a new version instead"
    )
