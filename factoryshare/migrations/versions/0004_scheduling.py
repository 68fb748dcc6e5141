"""scheduling: production requests and their operations

Revision ID: 0004_scheduling
Revises: 0002_bookings
(also schedule runs and their assignments)
Create Date: 2026-11-23 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0004_scheduling"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "production_requests",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("house_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("earliest_start", _TS, nullable=False),
        sa.Column("due", _TS, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "scheduled", "cancelled", "done", name="production_request_status",
                    native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("cancelled_at", _TS, nullable=True),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_production_requests_quantity_positive")),
        sa.CheckConstraint("priority >= 1", name=op.f("ck_production_requests_priority_positive")),
        sa.CheckConstraint("due > earliest_start",
                           name=op.f("ck_production_requests_due_after_start")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_production_requests_member_id_members"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["house_id"], ["production_houses.id"],
                                name=op.f("fk_production_requests_house_id_production_houses"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_production_requests_product_id_products"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_production_requests_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_requests")),
    )
    with op.batch_alter_table("production_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_production_requests_member_id"), ["member_id"])
        batch_op.create_index(batch_op.f("ix_production_requests_house_id"), ["house_id"])
        batch_op.create_index(batch_op.f("ix_production_requests_product_id"), ["product_id"])
        batch_op.create_index(batch_op.f("ix_production_requests_status"), ["status"])

    op.create_table(
        "request_operations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("capability_id", _ID, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("min_lag_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_request_operations_position_positive")),
        sa.CheckConstraint("minutes >= 1", name=op.f("ck_request_operations_minutes_positive")),
        sa.CheckConstraint("min_lag_minutes >= 0",
                           name=op.f("ck_request_operations_min_lag_non_negative")),
        sa.ForeignKeyConstraint(["request_id"], ["production_requests.id"],
                                name=op.f("fk_request_operations_request_id_production_requests"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["capability_id"], ["capabilities.id"],
                                name=op.f("fk_request_operations_capability_id_capabilities"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_operations")),
        sa.UniqueConstraint("request_id", "position",
                            name="uq_request_operations_request_position"),
    )
    with op.batch_alter_table("request_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_operations_request_id"), ["request_id"])

    op.create_table(
        "schedule_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("house_id", _ID, nullable=False),
        sa.Column("horizon_start", _TS, nullable=False),
        sa.Column("horizon_end", _TS, nullable=False),
        sa.Column("time_limit_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "succeeded", "failed", "published", "discarded",
                    name="schedule_run_status", native_enum=False, create_constraint=True,
                    length=20),
            nullable=False,
        ),
        sa.Column("requested_by_id", _ID, nullable=True),
        sa.Column("worker_id", sa.String(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", _TS, nullable=True),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("problem", sa.JSON(), nullable=True),
        sa.Column("solution", sa.JSON(), nullable=True),
        sa.Column("kpis", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("horizon_end > horizon_start",
                           name=op.f("ck_schedule_runs_horizon_positive")),
        sa.CheckConstraint("time_limit_seconds >= 1",
                           name=op.f("ck_schedule_runs_time_limit_positive")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_schedule_runs_attempts_non_negative")),
        sa.ForeignKeyConstraint(["house_id"], ["production_houses.id"],
                                name=op.f("fk_schedule_runs_house_id_production_houses"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_schedule_runs_requested_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
    )
    with op.batch_alter_table("schedule_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_runs_house_id"), ["house_id"])
        batch_op.create_index(batch_op.f("ix_schedule_runs_status"), ["status"])

    op.create_table(
        "schedule_assignments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("operation_id", _ID, nullable=False),
        sa.Column("machine_id", _ID, nullable=False),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column("booking_id", _ID, nullable=True),
        sa.CheckConstraint("end_at > start_at",
                           name=op.f("ck_schedule_assignments_end_after_start")),
        sa.ForeignKeyConstraint(["run_id"], ["schedule_runs.id"],
                                name=op.f("fk_schedule_assignments_run_id_schedule_runs"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["operation_id"], ["request_operations.id"],
                                name=op.f("fk_schedule_assignments_operation_id_request_operations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["machine_id"], ["machines.id"],
                                name=op.f("fk_schedule_assignments_machine_id_machines"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_schedule_assignments_booking_id_bookings"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_assignments")),
    )
    with op.batch_alter_table("schedule_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_assignments_run_id"), ["run_id"])
        batch_op.create_index(batch_op.f("ix_schedule_assignments_operation_id"), ["operation_id"])


def downgrade() -> None:
    with op.batch_alter_table("schedule_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_assignments_operation_id"))
        batch_op.drop_index(batch_op.f("ix_schedule_assignments_run_id"))
    op.drop_table("schedule_assignments")
    with op.batch_alter_table("schedule_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_runs_status"))
        batch_op.drop_index(batch_op.f("ix_schedule_runs_house_id"))
    op.drop_table("schedule_runs")
    with op.batch_alter_table("request_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_operations_request_id"))
    op.drop_table("request_operations")
    with op.batch_alter_table("production_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_requests_status"))
        batch_op.drop_index(batch_op.f("ix_production_requests_product_id"))
        batch_op.drop_index(batch_op.f("ix_production_requests_house_id"))
        batch_op.drop_index(batch_op.f("ix_production_requests_member_id"))
    op.drop_table("production_requests")
