"""loan decisions: lender institutions and their officers (role `lender`), the lender an
application is put to with the terms it granted, and every decision on an application on
record (who, when, what, note, terms)

Revision ID: 0021_loan_decisions
Revises: 0009_financing_plan
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0021_loan_decisions"
down_revision = "0009_financing_plan"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD_ROLES = ("admin", "manager", "member", "aggregator")
_NEW_ROLES = _OLD_ROLES + ("lender",)


def _role(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="role", native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "lenders",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.Enum("bank", "cooperative", name="lender_kind", native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column("created_at", factoryshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lenders")),
        sa.UniqueConstraint("name", name=op.f("uq_lenders_name")),
    )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("role", existing_type=_role(_OLD_ROLES), type_=_role(_NEW_ROLES),
                              existing_nullable=False)
        batch_op.add_column(sa.Column("lender_id", _ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_users_lender_id"), ["lender_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_lender_id_lenders"), "lenders",
                                    ["lender_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_check_constraint(op.f("ck_users_lender_scope_matches_role"),
                                         "(role = 'lender') = (lender_id IS NOT NULL)")

    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lender_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("lender_reference", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("lender_rate_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lender_tenor_months", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_loan_applications_lender_id"), ["lender_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_loan_applications_lender_id_lenders"),
                                    "lenders", ["lender_id"], ["id"], ondelete="RESTRICT")

    op.create_table(
        "loan_decisions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_application_id", _ID, nullable=False),
        sa.Column("kind", sa.Enum("submitted", "endorsed", "changes_requested", "rejected",
                                  "lender_approved", "lender_declined", "tranche",
                                  name="decision_kind", native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column("decided_by_id", _ID, nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("decided_at", factoryshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_loan_decisions_decided_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["loan_application_id"], ["loan_applications.id"],
                                name=op.f("fk_loan_decisions_loan_application_id_loan_applications"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_decisions")),
    )
    with op.batch_alter_table("loan_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_decisions_loan_application_id"),
                              ["loan_application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loan_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_decisions_loan_application_id"))
    op.drop_table("loan_decisions")
    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_loan_applications_lender_id_lenders"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_loan_applications_lender_id"))
        batch_op.drop_column("lender_tenor_months")
        batch_op.drop_column("lender_rate_bps")
        batch_op.drop_column("lender_reference")
        batch_op.drop_column("lender_id")
    op.execute("DELETE FROM users WHERE role = 'lender'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("ck_users_lender_scope_matches_role", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_users_lender_id_lenders"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_lender_id"))
        batch_op.drop_column("lender_id")
        batch_op.alter_column("role", existing_type=_role(_NEW_ROLES), type_=_role(_OLD_ROLES),
                              existing_nullable=False)
    op.drop_table("lenders")
