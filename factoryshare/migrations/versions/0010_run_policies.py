"""run policies: what a schedule run was asked to honour, and re-plans after a downtime

Revision ID: 0010_run_policies
Revises: 0004_scheduling
Create Date: 2026-11-23 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_run_policies"
down_revision = "0004_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedule_runs") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=20), nullable=False,
                                   server_default="plan"))
        batch.add_column(sa.Column("policies", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_schedule_runs_purpose_known"), "purpose IN ('plan', 'replan')")


def downgrade() -> None:
    with op.batch_alter_table("schedule_runs") as batch:
        batch.drop_constraint(op.f("ck_schedule_runs_purpose_known"), type_="check")
        batch.drop_column("policies")
        batch.drop_column("purpose")
