"""real house planning: pausable capabilities, the frozen window, lots

- capabilities.pausable (default false; true for the known codes whose work may stop at
  closing time and go on the next open day: sewing, embroidery, cutting ...);
- production_houses.frozen_hours (default 24, 0-336): a re-plan keeps published solver work
  starting within this many hours on its machine and time;
- routing_steps.max_lot and production_requests.lot_size: a request larger than a step's
  max_lot (or than the lot size asked for) is planned in lots;
- request_operations.setup_minutes: the setup part of an operation, paid again by each lot;
- schedule_assignments.lot: which lot an assignment places, and .piece: which stretch of open
  time of a step that pauses overnight (each piece is booked on its own).

Revision ID: 0023_real_house_planning
Revises: 0017_publish_changes
Create Date: 2026-12-01 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_real_house_planning"
down_revision = "0017_publish_changes"
branch_labels = None
depends_on = None

# Work that may stop when the house closes and go on the next open day.
PAUSABLE_CODES = ("sewing", "overlock", "embroidery", "cutting", "leather_cutting",
                  "leather_skiving", "laser_cutting", "packing")


def upgrade() -> None:
    with op.batch_alter_table("capabilities") as batch:
        batch.add_column(sa.Column("pausable", sa.Boolean(), nullable=False, server_default=sa.false()))
    capabilities = sa.table("capabilities", sa.column("code", sa.String), sa.column("pausable", sa.Boolean))
    op.execute(capabilities.update().where(capabilities.c.code.in_(PAUSABLE_CODES))
               .values(pausable=True))
    with op.batch_alter_table("production_houses") as batch:
        batch.add_column(sa.Column("frozen_hours", sa.Integer(), nullable=False, server_default="24"))
        batch.create_check_constraint(op.f("ck_production_houses_frozen_hours_range"),
                                      "frozen_hours >= 0 AND frozen_hours <= 336")
    with op.batch_alter_table("routing_steps") as batch:
        batch.add_column(sa.Column("max_lot", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_routing_steps_max_lot_positive"),
                                      "max_lot IS NULL OR max_lot >= 1")
    with op.batch_alter_table("production_requests") as batch:
        batch.add_column(sa.Column("lot_size", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_production_requests_lot_size_positive"),
                                      "lot_size IS NULL OR lot_size >= 1")
    with op.batch_alter_table("request_operations") as batch:
        batch.add_column(sa.Column("setup_minutes", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("schedule_assignments") as batch:
        batch.add_column(sa.Column("lot", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("piece", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedule_assignments") as batch:
        batch.drop_column("piece")
        batch.drop_column("lot")
    with op.batch_alter_table("request_operations") as batch:
        batch.drop_column("setup_minutes")
    with op.batch_alter_table("production_requests") as batch:
        batch.drop_constraint(op.f("ck_production_requests_lot_size_positive"), type_="check")
        batch.drop_column("lot_size")
    with op.batch_alter_table("routing_steps") as batch:
        batch.drop_constraint(op.f("ck_routing_steps_max_lot_positive"), type_="check")
        batch.drop_column("max_lot")
    with op.batch_alter_table("production_houses") as batch:
        batch.drop_constraint(op.f("ck_production_houses_frozen_hours_range"), type_="check")
        batch.drop_column("frozen_hours")
    with op.batch_alter_table("capabilities") as batch:
        batch.drop_column("pausable")
