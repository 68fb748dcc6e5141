"""financing: dated KUR schemes, seeded with the 2026 rules

Revision ID: 0005_financing
Revises: 0002_bookings
Create Date: 2026-11-23 03:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0005_financing"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)

# Permenko Perekonomian 1/2026 as summarised in DOMAIN.md section 1-2: one 6 % rate,
# turnover <= Rp4.8 miliar, NPWP above Rp50 juta (Kecil: always), tenors in months.
_SCHEMES_2026 = [
    ("super_mikro", "KUR Super Mikro", 1, 10_000_000, 600, 36, 60, None),
    ("mikro", "KUR Mikro", 10_000_001, 100_000_000, 600, 36, 60, 50_000_000),
    ("kecil", "KUR Kecil", 100_000_001, 500_000_000, 600, 48, 60, 0),
    ("khusus", "KUR Khusus (Klaster)", 1, 500_000_000, 600, 48, 60, 50_000_000),
]


def upgrade() -> None:
    table = op.create_table(
        "kur_schemes",
        sa.Column("id", _ID, nullable=False),
        sa.Column(
            "code",
            sa.Enum("super_mikro", "mikro", "kecil", "khusus", name="kur_scheme_code",
                    native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("min_amount", sa.BigInteger(), nullable=False),
        sa.Column("ceiling", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate_bps", sa.Integer(), nullable=False),
        sa.Column("max_tenor_working_capital_months", sa.Integer(), nullable=False),
        sa.Column("max_tenor_investment_months", sa.Integer(), nullable=False),
        sa.Column("turnover_cap", sa.BigInteger(), nullable=False),
        sa.Column("npwp_required_above", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from",
                           name=op.f("ck_kur_schemes_valid_range")),
        sa.CheckConstraint("ceiling > 0", name=op.f("ck_kur_schemes_ceiling_positive")),
        sa.CheckConstraint("annual_rate_bps >= 0", name=op.f("ck_kur_schemes_rate_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kur_schemes")),
        sa.UniqueConstraint("code", "valid_from", name="uq_kur_schemes_code_valid_from"),
    )
    op.bulk_insert(
        table,
        [
            {
                "code": code,
                "name": name,
                "valid_from": dt.date(2026, 1, 5),
                "valid_to": None,
                "min_amount": low,
                "ceiling": high,
                "annual_rate_bps": rate,
                "max_tenor_working_capital_months": kmk,
                "max_tenor_investment_months": ki,
                "turnover_cap": 4_800_000_000,
                "npwp_required_above": npwp,
            }
            for code, name, low, high, rate, kmk, ki, npwp in _SCHEMES_2026
        ],
    )
    op.create_table(
        "loan_applications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("cluster_id", _ID, nullable=False),
        sa.Column("scheme_id", _ID, nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "submitted", "changes_requested", "approved", "rejected",
                    "lender_approved", "lender_declined", "disbursing", "repaying", "closed",
                    name="loan_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("requested_amount", sa.BigInteger(), nullable=False),
        sa.Column("tenor_months", sa.Integer(), nullable=False),
        sa.Column("grace_months", sa.Integer(), nullable=False),
        sa.Column("approved_amount", sa.BigInteger(), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("approved_by_id", _ID, nullable=True),
        sa.Column("second_approved_by_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("requested_amount > 0",
                           name=op.f("ck_loan_applications_requested_amount_positive")),
        sa.CheckConstraint("tenor_months > 0", name=op.f("ck_loan_applications_tenor_positive")),
        sa.CheckConstraint("grace_months >= 0", name=op.f("ck_loan_applications_grace_non_negative")),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"],
                                name=op.f("fk_loan_applications_cluster_id_clusters"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["scheme_id"], ["kur_schemes.id"],
                                name=op.f("fk_loan_applications_scheme_id_kur_schemes"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_loan_applications_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"],
                                name=op.f("fk_loan_applications_approved_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["second_approved_by_id"], ["users.id"],
                                name=op.f("fk_loan_applications_second_approved_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_applications")),
    )
    op.create_index(op.f("ix_loan_applications_cluster_id"), "loan_applications", ["cluster_id"])
    op.create_table(
        "job_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column(
            "status",
            sa.Enum("running", "succeeded", "failed", "skipped", name="job_status",
                    native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job", "started_at"])
    op.create_table(
        "installments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_application_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("due", "paid", "overdue", name="installment_status", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("days_in_arrears", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount = principal + interest", name=op.f("ck_installments_amount_sums")),
        sa.CheckConstraint("paid >= 0", name=op.f("ck_installments_paid_non_negative")),
        sa.ForeignKeyConstraint(["loan_application_id"], ["loan_applications.id"],
                                name=op.f("fk_installments_loan_application_id_loan_applications"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installments")),
        sa.UniqueConstraint("loan_application_id", "number", name="uq_installments_loan_number"),
    )
    op.create_index(op.f("ix_installments_loan_application_id"), "installments",
                    ["loan_application_id"])
    op.create_table(
        "repayments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("installment_id", _ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("direct", "offtake_purchase", name="repayment_source", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("recorded_by_id", _ID, nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_repayments_amount_positive")),
        sa.ForeignKeyConstraint(["installment_id"], ["installments.id"],
                                name=op.f("fk_repayments_installment_id_installments"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_repayments_recorded_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayments")),
    )
    op.create_index(op.f("ix_repayments_installment_id"), "repayments", ["installment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_repayments_installment_id"), table_name="repayments")
    op.drop_table("repayments")
    op.drop_index(op.f("ix_installments_loan_application_id"), table_name="installments")
    op.drop_table("installments")
    op.drop_index("ix_job_runs_job_started", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_index(op.f("ix_loan_applications_cluster_id"), table_name="loan_applications")
    op.drop_table("loan_applications")
    op.drop_table("kur_schemes")
