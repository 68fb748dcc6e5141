"""booking periods: a GiST index on each booking's period, for the bookings under way

The bookings list starts with the bookings under way (started, not over). By start alone they
are a week wide (the longest booking), every booking that started in the last week: on a busy
data set 168,000 index entries read for a page of 20. The periods holding `now` are what a GiST
index on tstzrange(start_at, end_at) finds directly (PostgreSQL; btree_gist is already there
for the overlap exclusion). Written in the same words as the list's query, so the planner
matches it. Not declared on the model: like the exclusion constraint, it is PostgreSQL-only.

Revision ID: 0027_booking_periods
Revises: 0026_one_head
Create Date: 2026-12-01 16:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0027_booking_periods"
down_revision = "0026_one_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_bookings_period ON bookings "
            "USING gist (tstzrange(start_at, end_at, '[)'))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_bookings_period")
