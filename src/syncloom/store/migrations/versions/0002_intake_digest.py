"""Intake digests: a delivery replayed inside the replay window is refused, not stored twice.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intake_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_intake_events_connection_id_digest", ["connection_id", "digest"]
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_intake_events_connection_id_digest", type_="unique")
        batch_op.drop_column("digest")
