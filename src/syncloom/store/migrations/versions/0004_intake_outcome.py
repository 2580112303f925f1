"""Intake outcomes: a stored hint ends done or failed (with why) when its record job ends.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("received", "enqueued", "done", "rejected")
_NEW = (*_OLD, "failed")


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="intake_status", native_enum=False, create_constraint=True, length=24
    )


def upgrade() -> None:
    with op.batch_alter_table("intake_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=255), nullable=True))
        batch_op.alter_column("status", existing_type=_status(_OLD), type_=_status(_NEW))


def downgrade() -> None:
    op.execute("UPDATE intake_events SET status = 'done' WHERE status = 'failed'")
    with op.batch_alter_table("intake_events", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=_status(_NEW), type_=_status(_OLD))
        batch_op.drop_column("outcome")
