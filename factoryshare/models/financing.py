"""KUR financing reference data: dated KUR schemes (rules change by regulation, so they are rows)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow
from factoryshare.models.members import Cluster


class KurSchemeCode(str, enum.Enum):
    super_mikro = "super_mikro"
    mikro = "mikro"
    kecil = "kecil"
    khusus = "khusus"


class KurScheme(Base):
    """One KUR scheme as valid between two dates (valid_to NULL = still valid)."""

    __tablename__ = "kur_schemes"
    __label__ = "KUR scheme"
    __table_args__ = (
        UniqueConstraint("code", "valid_from", name="uq_kur_schemes_code_valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("ceiling > 0", name="ceiling_positive"),
        CheckConstraint("annual_rate_bps >= 0", name="rate_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[KurSchemeCode] = mapped_column(
        Enum(KurSchemeCode, native_enum=False, create_constraint=True, length=20,
             name="kur_scheme_code")
    )
    name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    min_amount: Mapped[int] = mapped_column(BigInteger)
    ceiling: Mapped[int] = mapped_column(BigInteger)
    annual_rate_bps: Mapped[int] = mapped_column(Integer)
    max_tenor_working_capital_months: Mapped[int] = mapped_column(Integer)
    max_tenor_investment_months: Mapped[int] = mapped_column(Integer)
    turnover_cap: Mapped[int] = mapped_column(BigInteger)
    npwp_required_above: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LoanStatus(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"
    lender_approved = "lender_approved"
    lender_declined = "lender_declined"
    disbursing = "disbursing"
    repaying = "repaying"
    closed = "closed"


class LoanApplication(Base):
    """A KUR Klaster application made for a cluster, endorsed by its aggregator, decided by a lender."""

    __tablename__ = "loan_applications"
    __label__ = "Loan application"
    __table_args__ = (
        CheckConstraint("requested_amount > 0", name="requested_amount_positive"),
        CheckConstraint("tenor_months > 0", name="tenor_positive"),
        CheckConstraint("grace_months >= 0", name="grace_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("clusters.id", ondelete="RESTRICT"), index=True
    )
    scheme_id: Mapped[int] = mapped_column(IdType, ForeignKey("kur_schemes.id", ondelete="RESTRICT"))
    status: Mapped[LoanStatus] = mapped_column(
        Enum(LoanStatus, native_enum=False, create_constraint=True, length=20, name="loan_status"),
        default=LoanStatus.draft,
    )
    requested_amount: Mapped[int] = mapped_column(BigInteger)
    tenor_months: Mapped[int] = mapped_column(Integer)
    grace_months: Mapped[int] = mapped_column(Integer, default=0)
    approved_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    second_approved_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cluster: Mapped[Cluster] = relationship()
    scheme: Mapped[KurScheme] = relationship()


class InstallmentStatus(str, enum.Enum):
    due = "due"
    paid = "paid"
    overdue = "overdue"


class Installment(Base):
    """One month of a disbursed loan's annuity schedule."""

    __tablename__ = "installments"
    __label__ = "Installment"
    __table_args__ = (
        UniqueConstraint("loan_application_id", "number", name="uq_installments_loan_number"),
        CheckConstraint("amount = principal + interest", name="amount_sums"),
        CheckConstraint("paid >= 0", name="paid_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[InstallmentStatus] = mapped_column(
        Enum(InstallmentStatus, native_enum=False, create_constraint=True, length=20,
             name="installment_status"),
        default=InstallmentStatus.due,
    )
    days_in_arrears: Mapped[int] = mapped_column(Integer, default=0)


class RepaymentSource(str, enum.Enum):
    direct = "direct"
    offtake_purchase = "offtake_purchase"


class Repayment(Base):
    """Money received against one installment."""

    __tablename__ = "repayments"
    __label__ = "Repayment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    installment_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("installments.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[RepaymentSource] = mapped_column(
        Enum(RepaymentSource, native_enum=False, create_constraint=True, length=20,
             name="repayment_source")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
