"""Column types shared by every table: UTC timestamps, JSON documents, surrogate ids.

Why a type of our own for timestamps? SQLite keeps no time zone and hands back naive values,
while PostgreSQL hands back aware ones in the session's zone. :class:`UtcDateTime` makes both
behave the same: it refuses naive datetimes on the way in (a naive value is a bug, not a UTC
value) and always returns aware UTC datetimes on the way out.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Enum, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

__all__ = ["Id", "JsonDocument", "UtcDateTime", "str_enum", "utc_now"]

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")

# ``None`` is stored as SQL NULL, not the JSON literal ``null``, so IS NULL finds it.
JsonDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utc_now() -> datetime:
    """The current instant, aware and in UTC (the default of ``created_at`` columns)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that refuses naive datetimes and always loads aware ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC on the way in; a naive value raises ``ValueError``."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text without an offset; keep it UTC so ordering stays right.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite returns; normalise PostgreSQL's session zone to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint on both databases."""

    def values(members: Any) -> list[str]:
        return [member.value for member in members]

    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=values,
        validate_strings=True,
    )
