"""loan accounting: the day each repayment was received, and early repayments (prepayments)

Revision ID: 0020_loan_accounting
Revises: 0009_financing_plan
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0020_loan_accounting"
down_revision = "0009_financing_plan"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))

    op.create_table(
        "loan_prepayments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_application_id", _ID, nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.Enum("shorten_term", "lower_installment", "full",
                                  name="prepayment_mode", native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column("recorded_by_id", _ID, nullable=True),
        sa.Column("recorded_at", factoryshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("principal > 0", name=op.f("ck_loan_prepayments_principal_positive")),
        sa.CheckConstraint("interest >= 0", name=op.f("ck_loan_prepayments_interest_non_negative")),
        sa.CheckConstraint("amount = principal + interest",
                           name=op.f("ck_loan_prepayments_amount_sums")),
        sa.ForeignKeyConstraint(
            ["loan_application_id"], ["loan_applications.id"],
            name=op.f("fk_loan_prepayments_loan_application_id_loan_applications"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_loan_prepayments_recorded_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_prepayments")),
    )
    with op.batch_alter_table("loan_prepayments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_prepayments_loan_application_id"),
                              ["loan_application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loan_prepayments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_prepayments_loan_application_id"))
    op.drop_table("loan_prepayments")
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.drop_column("paid_on")
