"""bookings: bookings that never overlap, weekly quotas, idempotency keys

Revision ID: 0002_bookings
Revises: 0001_foundation
Create Date: 2026-11-23 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0002_bookings"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("machine_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column(
            "status",
            sa.Enum("held", "confirmed", "completed", "no_show", "cancelled",
                    name="booking_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum("direct", "solver", name="booking_source", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("hourly_rate", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("hold_expires_at", _TS, nullable=True),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("cancelled_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_bookings_ends_after_start")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_bookings_price_non_negative")),
        sa.ForeignKeyConstraint(["machine_id"], ["machines.id"],
                                name=op.f("fk_bookings_machine_id_machines"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_bookings_member_id_members"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_bookings_product_id_products"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_bookings_created_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_bookings_machine_start", ["machine_id", "start_at"],
                              unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT excl_bookings_machine_overlap "
            "EXCLUDE USING gist (machine_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
            "WHERE (status IN ('held', 'confirmed'))"
        )

    op.create_table(
        "booking_quotas",
        sa.Column("id", _ID, nullable=False),
        sa.Column("house_id", _ID, nullable=False),
        sa.Column("capability_id", _ID, nullable=False),
        sa.Column("hours_per_week", sa.Integer(), nullable=False),
        sa.CheckConstraint("hours_per_week > 0",
                           name=op.f("ck_booking_quotas_hours_per_week_positive")),
        sa.ForeignKeyConstraint(["house_id"], ["production_houses.id"],
                                name=op.f("fk_booking_quotas_house_id_production_houses"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["capability_id"], ["capabilities.id"],
                                name=op.f("fk_booking_quotas_capability_id_capabilities"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_quotas")),
        sa.UniqueConstraint("house_id", "capability_id", name="uq_booking_quotas_house_capability"),
    )
    with op.batch_alter_table("booking_quotas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_quotas_house_id"), ["house_id"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_created_at"), ["created_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("booking_quotas")
    op.drop_table("bookings")
