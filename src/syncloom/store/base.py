"""Base: the declarative base every table derives from, with the columns most tables share.

Constraint names follow one convention so that migrations (SQLite batch mode included) can
refer to them by name on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from sqlalchemy import ForeignKey, MetaData, Select, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from syncloom.store.types import Id, JsonDocument, UtcDateTime, utc_now

__all__ = ["Base", "Created", "Identified", "TenantOwned"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of syncloom's tables; DBOS keeps its own tables apart from these."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UtcDateTime(),
        dict[str, Any]: JsonDocument,
        list[Any]: JsonDocument,
    }


class Identified:
    """A surrogate integer primary key."""

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)


class Created(Identified):
    """A surrogate key and the instant the row was written."""

    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class TenantOwned(Created):
    """A row that belongs to one tenant; every query on it is scoped by ``tenant_id``."""

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    @classmethod
    def scoped(cls, tenant_id: int) -> Select[Self]:
        """A ``SELECT`` of this table already limited to one tenant's rows.

        Example::

            session.scalars(Link.scoped(tenant_id).where(Link.flow == "accounts"))
        """
        return select(cls).where(cls.tenant_id == tenant_id)
