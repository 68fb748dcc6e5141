"""publish changes: a run can go stale; a house's no-show grace

A schedule run whose published schedule changed after it was solved is marked `stale`
instead of being published; a booking may be marked a no-show only `no_show_grace_minutes`
(default 15) after it started.

Revision ID: 0017_publish_changes
Revises: 0010_run_policies
Create Date: 2026-12-01 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_publish_changes"
down_revision = "0010_run_policies"
branch_labels = None
depends_on = None

_OLD = ("queued", "running", "succeeded", "failed", "published", "discarded")
_NEW = (*_OLD, "stale")


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="schedule_run_status", native_enum=False, create_constraint=True,
                   length=20)


def upgrade() -> None:
    with op.batch_alter_table("schedule_runs") as batch:
        batch.drop_constraint(op.f("ck_schedule_runs_schedule_run_status"), type_="check")
        batch.alter_column("status", existing_type=sa.String(length=20), type_=_status(_NEW),
                           existing_nullable=False)
    with op.batch_alter_table("production_houses") as batch:
        batch.add_column(sa.Column("no_show_grace_minutes", sa.Integer(), nullable=False,
                                   server_default="15"))
        batch.create_check_constraint(op.f("ck_production_houses_no_show_grace_non_negative"),
                                      "no_show_grace_minutes >= 0")


def downgrade() -> None:
    with op.batch_alter_table("production_houses") as batch:
        batch.drop_constraint(op.f("ck_production_houses_no_show_grace_non_negative"),
                              type_="check")
        batch.drop_column("no_show_grace_minutes")
    op.execute("UPDATE schedule_runs SET status = 'failed' WHERE status = 'stale'")
    with op.batch_alter_table("schedule_runs") as batch:
        batch.drop_constraint(op.f("ck_schedule_runs_schedule_run_status"), type_="check")
        batch.alter_column("status", existing_type=sa.String(length=20), type_=_status(_OLD),
                           existing_nullable=False)
