"""audit order index: the trail's order (at, id) in one index

The audit list is newest first by (at, id) and is read after a cursor's position (at, id): an
index on `at` alone leaves the id to a filter over every event of the same moment and cannot
serve the row comparison. The index on (at, id) replaces it (it serves every query by `at`).

Revision ID: 0028_audit_order_index
Revises: 0027_booking_periods
Create Date: 2026-12-01 16:25:00
"""

from __future__ import annotations

from alembic import op

revision = "0028_audit_order_index"
down_revision = "0027_booking_periods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_at_id", ["at", "id"], unique=False)
        batch_op.drop_index("ix_audit_events_at")


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
        batch_op.drop_index("ix_audit_events_at_id")
