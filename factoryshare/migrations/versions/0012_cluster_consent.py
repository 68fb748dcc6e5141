"""cluster consent: members join a cluster by accepting an invitation; audit events carry the
house of their object so that its managers can read them

Existing memberships were made by aggregators without asking the member: they become
waiting invitations (the member, or the manager of its house on its behalf, accepts them).
Existing audit events get the house of their object where it can still be found.

Revision ID: 0012_cluster_consent
Revises: 0001_foundation
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0012_cluster_consent"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A reference column of an audited table, and the table (with a house_id) it leads to.
_VIA = (
    ("machine_id", "machines"),
    ("cluster_id", "clusters"),
    ("member_id", "members"),
)


def upgrade() -> None:
    op.create_table(
        "cluster_invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("cluster_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("status", sa.Enum("invited", "accepted", "declined", "withdrawn", "left",
                                    name="invitation_status", native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column("invited_by_id", _ID, nullable=True),
        sa.Column("invited_at", factoryshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", _ID, nullable=True),
        sa.Column("decided_at", factoryshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("left_at", factoryshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"],
                                name=op.f("fk_cluster_invitations_cluster_id_clusters"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_cluster_invitations_decided_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"],
                                name=op.f("fk_cluster_invitations_invited_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_cluster_invitations_member_id_members"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_invitations")),
    )
    op.create_index(op.f("ix_cluster_invitations_cluster_id"), "cluster_invitations",
                    ["cluster_id"], unique=False)
    op.create_index(op.f("ix_cluster_invitations_member_id"), "cluster_invitations",
                    ["member_id"], unique=False)
    op.create_index("uq_cluster_invitations_waiting", "cluster_invitations",
                    ["cluster_id", "member_id"], unique=True,
                    sqlite_where=sa.text("status = 'invited'"),
                    postgresql_where=sa.text("status = 'invited'"))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("house_id", _ID, nullable=True))
        batch.create_index(batch.f("ix_audit_events_house_id"), ["house_id"], unique=False)

    # Memberships nobody consented to become invitations waiting for the member's answer.
    op.execute(
        "INSERT INTO cluster_invitations (cluster_id, member_id, status, invited_at, on_behalf,"
        " reason) SELECT cm.cluster_id, cm.member_id, 'invited', c.created_at, false,"
        " 'member before consent was asked' FROM cluster_members cm"
        " JOIN clusters c ON c.id = cm.cluster_id"
    )
    op.execute("DELETE FROM cluster_members")
    _backfill_audit_houses()


def _backfill_audit_houses() -> None:
    """Give past events the house of their object, for every audited table still there."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    tables = set(inspector.get_table_names())
    kinds = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT object_type FROM audit_events"))]
    id_text = "CAST(t.id AS VARCHAR(60)) = audit_events.object_id"
    for kind in kinds:
        if kind not in tables:
            continue
        if kind == "production_houses":
            op.execute(sa.text(
                "UPDATE audit_events SET house_id = (SELECT t.id FROM production_houses t"
                f" WHERE {id_text}) WHERE object_type = 'production_houses'"))
            continue
        columns = {c["name"] for c in inspector.get_columns(kind)}
        if "house_id" in columns:
            house = "t.house_id"
            joins = ""
        else:
            via = next(((col, table) for col, table in _VIA if col in columns and table in tables), None)
            if via is None:
                continue
            house, joins = "v.house_id", f" JOIN {via[1]} v ON v.id = t.{via[0]}"
        op.execute(sa.text(
            f"UPDATE audit_events SET house_id = (SELECT {house} FROM {kind} t{joins}"
            f" WHERE {id_text}) WHERE object_type = :kind AND house_id IS NULL"
        ).bindparams(kind=kind))


def downgrade() -> None:
    # The memberships this revision turned into invitations, if still unanswered, come back;
    # invitations made since are dropped (the old schema would make them memberships).
    op.execute(
        "INSERT INTO cluster_members (cluster_id, member_id) SELECT cluster_id, member_id"
        " FROM cluster_invitations WHERE status = 'invited'"
        " AND reason = 'member before consent was asked'"
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index(batch.f("ix_audit_events_house_id"))
        batch.drop_column("house_id")
    op.drop_index("uq_cluster_invitations_waiting", table_name="cluster_invitations")
    op.drop_index(op.f("ix_cluster_invitations_member_id"), table_name="cluster_invitations")
    op.drop_index(op.f("ix_cluster_invitations_cluster_id"), table_name="cluster_invitations")
    op.drop_table("cluster_invitations")
