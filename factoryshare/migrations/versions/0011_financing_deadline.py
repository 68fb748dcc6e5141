"""house financing deadline: how long before a held slot its financing must be decided

Revision ID: 0011_financing_deadline
Revises: 0001_foundation
Create Date: 2026-11-23 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_financing_deadline"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("production_houses") as batch:
        batch.add_column(sa.Column("financing_decision_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("production_houses") as batch:
        batch.drop_column("financing_decision_days")
