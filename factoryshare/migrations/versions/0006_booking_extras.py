"""booking extras: weekly booking series, the waitlist, members' calendar feeds

Revision ID: 0006_booking_extras
Revises: 0002_bookings
Create Date: 2026-11-23 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0006_booking_extras"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "booking_series",
        sa.Column("id", _ID, nullable=False),
        sa.Column("machine_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("skip_conflicts", sa.Boolean(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "cancelled", name="series_status", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("last_date >= first_date",
                           name=op.f("ck_booking_series_last_not_before_first")),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_booking_series_ends_after_start")),
        sa.ForeignKeyConstraint(["machine_id"], ["machines.id"],
                                name=op.f("fk_booking_series_machine_id_machines"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_booking_series_member_id_members"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_booking_series_product_id_products"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_booking_series_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_series_machine_id"), ["machine_id"])
        batch_op.create_index(batch_op.f("ix_booking_series_member_id"), ["member_id"])

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", _ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_bookings_series_id"), ["series_id"])
        batch_op.create_foreign_key(batch_op.f("fk_bookings_series_id_booking_series"),
                                    "booking_series", ["series_id"], ["id"], ondelete="SET NULL")

    op.create_table(
        "waitlist_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("machine_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column(
            "status",
            sa.Enum("waiting", "notified", "cancelled", name="wait_status", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("notified_at", _TS, nullable=True),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_waitlist_entries_ends_after_start")),
        sa.ForeignKeyConstraint(["machine_id"], ["machines.id"],
                                name=op.f("fk_waitlist_entries_machine_id_machines"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_waitlist_entries_member_id_members"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_waitlist_entries_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_entries_member_id"), ["member_id"])
        batch_op.create_index("ix_waitlist_machine_status_start",
                              ["machine_id", "status", "start_at"])

    op.create_table(
        "calendar_feeds",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_read_at", _TS, nullable=True),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_calendar_feeds_member_id_members"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("member_id", name=op.f("uq_calendar_feeds_member_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_machine_status_start")
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_member_id"))
    op.drop_table("waitlist_entries")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_bookings_series_id_booking_series"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_bookings_series_id"))
        batch_op.drop_column("series_id")
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_series_member_id"))
        batch_op.drop_index(batch_op.f("ix_booking_series_machine_id"))
    op.drop_table("booking_series")
