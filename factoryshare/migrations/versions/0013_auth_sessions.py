"""auth sessions: failed sign-ins of unknown e-mail addresses are counted and locked too

Revision ID: 0013_auth_sessions
Revises: 0001_foundation
Create Date: 2026-12-02 09:00:00

Browser sessions need no table of their own: each one is bound to an `api_tokens` row
(see api.security), so signing out, a password change and deactivation end it server-side.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0013_auth_sessions"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_TS = factoryshare.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("address_hash", sa.String(64), primary_key=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", _TS, nullable=True),
        sa.Column("last_failed_at", _TS, nullable=False),
    )
    op.create_index("ix_sign_in_failures_last_failed_at", "sign_in_failures", ["last_failed_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_last_failed_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
