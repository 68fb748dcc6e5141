"""KUR financing reference data: dated KUR schemes (rules change by regulation, so they are rows)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
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
from factoryshare.models.members import Cluster, Product


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
        Enum(
            KurSchemeCode,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="kur_scheme_code",
        )
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


class LenderKind(str, enum.Enum):
    bank = "bank"
    cooperative = "cooperative"


class Lender(Base):
    """A bank or cooperative that lends under KUR: its credit officers are `lender` users."""

    __tablename__ = "lenders"
    __label__ = "Lender"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[LenderKind] = mapped_column(
        Enum(LenderKind, native_enum=False, create_constraint=True, length=20, name="lender_kind")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    scheme_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("kur_schemes.id", ondelete="RESTRICT")
    )
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
    # The lender the application is put to (chosen by the applicant); only its officers see it.
    lender_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("lenders.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # The lender's decision: its reference number, and the rate and term it granted
    # (None until it decided; the approved amount is `approved_amount`).
    lender_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    lender_rate_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lender_tenor_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cluster: Mapped[Cluster] = relationship()
    scheme: Mapped[KurScheme] = relationship()
    lender: Mapped[Lender | None] = relationship()
    # Read-only, oldest first: what a list of applications loads with its page (decisions
    # are written as rows of their own, never through this collection).
    decisions: Mapped[list[LoanDecision]] = relationship(
        viewonly=True, order_by="[LoanDecision.decided_at, LoanDecision.id]"
    )


class DecisionKind(str, enum.Enum):
    submitted = "submitted"
    endorsed = "endorsed"  # one aggregator approver's endorsement (two above its limit)
    changes_requested = "changes_requested"
    rejected = "rejected"
    lender_approved = "lender_approved"
    lender_declined = "lender_declined"
    tranche = "tranche"


class LoanDecision(Base):
    """One decision on an application, on record: who (user and role), when, what, why, and the
    terms it was taken on (amount, rate, term, reference). Never changed once written."""

    __tablename__ = "loan_decisions"
    __label__ = "Loan decision"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DecisionKind] = mapped_column(
        Enum(
            DecisionKind, native_enum=False, create_constraint=True, length=20, name="decision_kind"
        )
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The role the decision was taken in ("admin" with no user: the service itself).
    role: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(1000), default="")
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
        Enum(
            InstallmentStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="installment_status",
        ),
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
        Enum(
            RepaymentSource,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="repayment_source",
        )
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The day the money was received (NULL on rows from before it was kept: read recorded_at).
    paid_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Set when the money was taken from an offtaker's payment for a purchase.
    offtake_purchase_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("offtake_purchases.id", ondelete="RESTRICT"), nullable=True, index=True
    )


class OfftakeAgreement(Base):
    """The aggregator's written promise (PKS) to buy a cluster's product at a price per unit."""

    __tablename__ = "offtake_agreements"
    __label__ = "Offtake agreement"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("clusters.id", ondelete="RESTRICT"), index=True
    )
    aggregator_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("aggregators.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    cluster: Mapped[Cluster] = relationship()
    product: Mapped[Product] = relationship()
    deliveries: Mapped[list[OfftakeDelivery]] = relationship(
        back_populates="agreement",
        order_by="OfftakeDelivery.due_on",
        cascade="all, delete-orphan",
    )


class OfftakeDelivery(Base):
    """One agreed delivery: how much of the product the offtaker expects by which date."""

    __tablename__ = "offtake_deliveries"
    __table_args__ = (
        UniqueConstraint("agreement_id", "due_on", name="uq_offtake_deliveries_agreement_due_on"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("offtake_agreements.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)

    agreement: Mapped[OfftakeAgreement] = relationship(back_populates="deliveries")


class OfftakePurchase(Base):
    """Goods the offtaker took and paid for; part of the payment may repay the cluster's loan."""

    __tablename__ = "offtake_purchases"
    __label__ = "Offtake purchase"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("repaid >= 0 AND repaid <= amount", name="repaid_within_amount"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("offtake_agreements.id", ondelete="RESTRICT"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    loan_application_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    # The part of `amount` taken for the loan's installments; the rest is the member's.
    repaid: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[OfftakeAgreement] = relationship()


class LoanShare(Base):
    """One member's part of a cluster's application: machine hours, costs and amount borrowed."""

    __tablename__ = "loan_shares"
    __label__ = "Loan share"
    __table_args__ = (
        UniqueConstraint("loan_application_id", "member_id", name="uq_loan_shares_loan_member"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("machine_minutes >= 0", name="machine_minutes_non_negative"),
        CheckConstraint("machine_cost >= 0", name="machine_cost_non_negative"),
        CheckConstraint("material_cost >= 0", name="material_cost_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    machine_minutes: Mapped[int] = mapped_column(Integer, default=0)
    machine_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    material_cost: Mapped[int] = mapped_column(BigInteger, default=0)


class LoanPlanLink(Base):
    """A production request or a booking that an application finances (exactly one of the two)."""

    __tablename__ = "loan_plan_links"
    __table_args__ = (
        CheckConstraint(
            "(production_request_id IS NULL) <> (booking_id IS NULL)", name="exactly_one_target"
        ),
        UniqueConstraint(
            "loan_application_id", "production_request_id", name="uq_loan_plan_links_loan_request"
        ),
        UniqueConstraint(
            "loan_application_id", "booking_id", name="uq_loan_plan_links_loan_booking"
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    production_request_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("production_requests.id", ondelete="CASCADE"), nullable=True, index=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # "plan": bundled by the applicant; "job": attached later by link_financing.
    linked_by: Mapped[str] = mapped_column(String(10), default="plan")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoanTranche(Base):
    """Money paid out by the lender: a loan is disbursed in one or more tranches."""

    __tablename__ = "loan_tranches"
    __label__ = "Loan tranche"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    disbursed_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrepaymentMode(str, enum.Enum):
    shorten_term = "shorten_term"  # the level installment stays, the last installments go
    lower_installment = "lower_installment"  # as many installments, each lower
    full = "full"  # the principal outstanding and the interest accrued: the loan closes


class LoanPrepayment(Base):
    """Money repaid before it fell due: principal (and, for a full repayment, the interest
    accrued to that day); the open installments are rebuilt (services/repayment.py)."""

    __tablename__ = "loan_prepayments"
    __label__ = "Loan prepayment"
    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("interest >= 0", name="interest_non_negative"),
        CheckConstraint("amount = principal + interest", name="amount_sums"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    loan_application_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("loan_applications.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger, default=0)
    mode: Mapped[PrepaymentMode] = mapped_column(
        Enum(
            PrepaymentMode,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="prepayment_mode",
        )
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
