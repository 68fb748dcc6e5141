"""notifications: read in the app (read_at), and the outbox scan of due e-mails

Every notification is both the message a user reads in the app (unread until `read_at`) and
an e-mail in the outbox (`status`, `attempts`, `next_attempt_at`), sent by the `send_outbox`
job.

Revision ID: 0019_notifications_outbox
Revises: 0003_notifications
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0019_notifications_outbox"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("read_at", factoryshare.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_notifications_user_read", ["user_id", "read_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read")
        batch_op.drop_column("read_at")
