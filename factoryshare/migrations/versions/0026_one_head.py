"""one head: the areas' parallel branches joined

Until now each area added its own branch off an earlier revision and the code upgraded to
every head at once. From here on there is one head: a new revision revises this one (or a
later one), and `alembic heads` shows a single revision. Nothing changes in the schema.

Revision ID: 0026_one_head
Revises: the heads of every area's branch
Create Date: 2026-12-01 14:35:00
"""

from __future__ import annotations

revision = "0026_one_head"
down_revision = (
    "0006_booking_extras",
    "0011_financing_deadline",
    "0012_cluster_consent",
    "0013_auth_sessions",
    "0019_notifications_outbox",
    "0020_loan_accounting",
    "0021_loan_decisions",
    "0022_permit_verification",
    "0023_real_house_planning",
    "0024_query_indexes",
    "0025_audit_action_names",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
