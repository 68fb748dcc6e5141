"""scheduling: production requests and their operations

Revision ID: 0004_scheduling
Revises: 0002_bookings
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


def downgrade() -> None:
    with op.batch_alter_table("request_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_operations_request_id"))
    op.drop_table("request_operations")
    with op.batch_alter_table("production_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_requests_status"))
        batch_op.drop_index(batch_op.f("ix_production_requests_product_id"))
        batch_op.drop_index(batch_op.f("ix_production_requests_house_id"))
        batch_op.drop_index(batch_op.f("ix_production_requests_member_id"))
    op.drop_table("production_requests")
