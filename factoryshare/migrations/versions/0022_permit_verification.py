"""permit verification: a member's own permit counts once a manager or an admin has checked it

Revision ID: 0022_permit_verification
Revises: 0014_permit_documents_db
Create Date: 2026-12-09 09:00:00

Adds to `permits` its verification state (`submitted`, `verified`, `rejected`), the table
`permit_verification_records` (who set each state, when, with what note) and to
`production_houses` the setting `trust_member_permits` (false).

The choice for existing rows: every permit already stored becomes `verified`. Until now each
permit a member entered counted at the gate as soon as it was entered, so members have been
booking on them; turning them all `submitted` would close the gate on every live plan at once.
Each gets one verification record with no verifier, the migration's time and a note saying
so, so that a manager who wants to check them can tell them from permits a person verified.
New rows default to `submitted` (also in the database, for a row written by hand).

The column is added with a plain ALTER TABLE ... ADD COLUMN: a batch rebuild of `permits` on
SQLite would drop the table and, with foreign keys on, cascade-delete its flags and document
contents (see 0014). On SQLite its CHECK is written inline in the column, which SQLite's ADD
COLUMN accepts; the reference to `users` lives in the new table, so no foreign key has to be
added to an existing one.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import context, op

import factoryshare.db

revision = "0022_permit_verification"
down_revision = "0014_permit_documents_db"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)
STATES = ("submitted", "verified", "rejected")
MIGRATED_NOTE = "Recorded before permits were verified; trusted as entered."

_permits = sa.table("permits", sa.column("id", _ID), sa.column("verification", sa.String))
_records = sa.table("permit_verification_records", sa.column("permit_id", _ID),
                    sa.column("verification", sa.String), sa.column("by_id", _ID),
                    sa.column("at", _TS), sa.column("note", sa.String))


def _dialect() -> str:
    return context.get_context().dialect.name


def _state_enum() -> sa.Enum:
    return sa.Enum(*STATES, name="permit_verification", native_enum=False,
                   create_constraint=True, length=20)


def upgrade() -> None:
    if _dialect() == "sqlite":
        states = ", ".join(f"'{s}'" for s in STATES)
        op.execute(
            "ALTER TABLE permits ADD COLUMN verification VARCHAR(20) DEFAULT 'submitted' NOT NULL "
            f"CONSTRAINT ck_permits_permit_verification CHECK (verification IN ({states}))")
    else:
        op.add_column("permits", sa.Column("verification", _state_enum(), nullable=False,
                                           server_default="submitted"))
    op.create_table(
        "permit_verification_records",
        sa.Column("id", _ID, nullable=False),
        sa.Column("permit_id", _ID, nullable=False),
        sa.Column("verification", _state_enum(), nullable=False),
        sa.Column("by_id", _ID, nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"],
                                name=op.f("fk_permit_verification_records_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["permit_id"], ["permits.id"],
                                name=op.f("fk_permit_verification_records_permit_id_permits"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_verification_records")),
    )
    with op.batch_alter_table("permit_verification_records") as batch:
        batch.create_index(batch.f("ix_permit_verification_records_permit_id"), ["permit_id"])
    # Existing permits were trusted as entered until now: they stay usable (see above).
    op.execute(sa.update(_permits).values(verification="verified"))
    if not context.is_offline_mode():
        now = dt.datetime.now(dt.timezone.utc)
        op.execute(sa.insert(_records).from_select(
            ["permit_id", "verification", "by_id", "at", "note"],
            sa.select(_permits.c.id, sa.literal("verified"), sa.null(),
                      sa.literal(now, _TS), sa.literal(MIGRATED_NOTE))))
    op.add_column("production_houses", sa.Column(
        "trust_member_permits", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("production_houses", "trust_member_permits")
    op.drop_table("permit_verification_records")
    if _dialect() != "sqlite":
        op.drop_constraint(op.f("ck_permits_permit_verification"), "permits", type_="check")
    op.drop_column("permits", "verification")
