"""query indexes: the lists' order, holds running out, and the other side of three link tables

- bookings (start_at, id): the bookings lists' order; a page is read from the index in order
  instead of sorting every booking in scope;
- bookings (status, hold_expires_at): expire_holds finds the holds that ran out;
- cluster_members.member_id, house_managers.house_id, machine_capabilities.capability_id: the
  primary keys of these link tables lead with the other column, so a lookup by this one (a
  member's clusters, a house's managers, a capability's machines) scanned the whole table.

Revision ID: 0024_query_indexes
Revises: 0002_bookings
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0024_query_indexes"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None

INDEXES = (
    ("bookings", "ix_bookings_start_id", ["start_at", "id"]),
    ("bookings", "ix_bookings_status_hold_expires", ["status", "hold_expires_at"]),
    ("cluster_members", "ix_cluster_members_member_id", ["member_id"]),
    ("house_managers", "ix_house_managers_house_id", ["house_id"]),
    ("machine_capabilities", "ix_machine_capabilities_capability_id", ["capability_id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
