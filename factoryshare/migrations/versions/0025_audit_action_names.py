"""audit action names: every action is `<object>.<past-tense verb>`

Earlier events were recorded under three conventions at once (`booking.create`,
`permit_type.created` and a bare `create` whose object was only in object_type); they are
renamed in place so that a filter by action finds old and new events alike. Downgrade gives the
old names back.

Revision ID: 0025_audit_action_names
Revises: 0001_foundation
Create Date: 2026-12-01 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_audit_action_names"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

RENAMED = {
    "booking.create": "booking.created",
    "booking.move": "booking.moved",
    "booking.cancel": "booking.cancelled",
    "booking.confirm": "booking.confirmed",
    "booking.complete": "booking.completed",
    "booking.no_show": "booking.marked_no_show",
    "booking_quotas.replace": "booking_quotas.replaced",
    "booking_series.create": "booking_series.created",
    "booking_series.cancel": "booking_series.cancelled",
    "waitlist.join": "waitlist.joined",
    "waitlist.leave": "waitlist.left",
    "downtime.create": "downtime.created",
    "calendar_feed.create": "calendar_feed.created",
    "calendar_feed.replace": "calendar_feed.replaced",
    "calendar_feed.revoke": "calendar_feed.revoked",
    "loan_application.first_approval": "loan_application.first_approved",
    "permit.needs_review": "permit.review_requested",
    "schedule_run.stale": "schedule_run.outdated",
    "production_request.done": "production_request.completed",
    "account_locked": "user.locked",
    "loan_application.disbursing": "loan_application.disbursement_started",
    "loan_application.repaying": "loan_application.repayment_started",
}
# Bare verbs: the object comes from object_type (a table name).
BARE = {"create": "created", "update": "updated", "delete": "deleted"}
OBJECTS = {"users": "user", "lenders": "lender"}

audit = sa.table("audit_events", sa.column("action", sa.String), sa.column("object_type", sa.String))


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(audit.update().where(audit.c.action == old).values(action=new))
    for verb, done in BARE.items():
        for table, thing in OBJECTS.items():
            op.execute(audit.update().where(audit.c.action == verb, audit.c.object_type == table)
                       .values(action=f"{thing}.{done}"))


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(audit.update().where(audit.c.action == new).values(action=old))
    for verb, done in BARE.items():
        for table, thing in OBJECTS.items():
            op.execute(audit.update().where(audit.c.action == f"{thing}.{done}",
                                            audit.c.object_type == table).values(action=verb))
