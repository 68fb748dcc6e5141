"""Reading applications and loans: the lists in scope and a loan as of a day (disbursed,
repaid, outstanding, days past due and kolektibilitas).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from factoryshare.access import Actor, ids_in_scope, scope_filter, scoped
from factoryshare.models import Role
from factoryshare.models.bookings import Booking
from factoryshare.models.financing import (
    Installment,
    InstallmentStatus,
    LoanApplication,
    LoanPlanLink,
    LoanPrepayment,
    LoanShare,
    LoanStatus,
)
from factoryshare.services import repayment
from factoryshare.services.loans.accounting import installment_days_past_due
from factoryshare.services.loans.core import (
    LOAN_STATUSES,
    disbursed_total,
    loan,
    today,
)


def list_applications(session: Session, actor: Actor) -> Select[LoanApplication]:
    """Applications in scope, by id, their decisions loaded with them."""
    return (
        scoped(actor, LoanApplication)
        .options(selectinload(LoanApplication.decisions))
        .order_by(LoanApplication.id)
    )


@dataclass(frozen=True)
class InstallmentView:
    number: int
    due_date: dt.date
    principal: int
    interest: int
    amount: int
    paid: int
    status: str
    days_past_due: int


@dataclass(frozen=True)
class LoanView:
    """A loan as of a day. `outstanding` is the principal outstanding: disbursed less the
    principal repaid (each payment covers its installment's interest first); collectability
    is by the days past due of the oldest unpaid installment on `as_of`."""

    application: LoanApplication
    disbursed: int
    repaid: int
    outstanding: int
    next_due_date: dt.date | None
    linked_booking_ids: list[int]
    my_share: int | None
    as_of: dt.date | None = None
    principal_repaid: int = 0
    interest_paid: int = 0
    scheduled_remaining: int = 0
    days_past_due: int = 0
    collectability: int = 1
    collectability_label: str = "Lancar"
    installments: list[InstallmentView] = ()  # type: ignore[assignment]
    prepayments: list[LoanPrepayment] = ()  # type: ignore[assignment]


def _view(
    session: Session, actor: Actor, app: LoanApplication, on: dt.date | None = None
) -> LoanView:
    on = on or today(session, app)
    rows = list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_application_id == app.id)
            .order_by(Installment.number)
        )
    )
    early = list(
        session.scalars(
            select(LoanPrepayment)
            .where(LoanPrepayment.loan_application_id == app.id)
            .order_by(LoanPrepayment.paid_on, LoanPrepayment.id)
        )
    )
    unpaid = [r for r in rows if r.status is not InstallmentStatus.paid]
    links = session.scalars(
        select(LoanPlanLink.booking_id)
        .where(LoanPlanLink.loan_application_id == app.id, LoanPlanLink.booking_id.is_not(None))
        .order_by(LoanPlanLink.booking_id)
    )
    booking_ids = [b for b in links if b is not None]  # the query keeps only set ones
    share = None
    if actor.role is Role.member:
        # A member reads its own share and its own bookings of the plan (access/financing.py).
        share = session.scalar(
            select(LoanShare.amount).where(
                LoanShare.loan_application_id == app.id, scope_filter(actor, LoanShare)
            )
        )
        own = ids_in_scope(session, actor, Booking, booking_ids)
        booking_ids = [b for b in booking_ids if b in own]
    disbursed = disbursed_total(session, app)
    # A payment covers its installment's interest first, then its principal.
    principal_repaid = sum(min(r.principal, max(0, r.paid - r.interest)) for r in rows) + sum(
        p.principal for p in early
    )
    interest_paid = sum(min(r.paid, r.interest) for r in rows) + sum(p.interest for p in early)
    late = installment_days_past_due(session, app, rows, on)
    worst = max(late.values(), default=0)
    grade = repayment.collectability(worst)
    return LoanView(
        application=app,
        disbursed=disbursed,
        repaid=sum(r.paid for r in rows) + sum(p.amount for p in early),
        outstanding=disbursed - principal_repaid,
        next_due_date=unpaid[0].due_date if unpaid else None,
        linked_booking_ids=booking_ids,
        my_share=share,
        as_of=on,
        principal_repaid=principal_repaid,
        interest_paid=interest_paid,
        scheduled_remaining=sum(r.amount - r.paid for r in rows),
        days_past_due=worst,
        collectability=grade,
        collectability_label=repayment.collectability_label(grade),
        installments=[
            InstallmentView(
                number=r.number,
                due_date=r.due_date,
                principal=r.principal,
                interest=r.interest,
                amount=r.amount,
                paid=r.paid,
                status=r.status.value,
                days_past_due=late[r.number],
            )
            for r in rows
        ],
        prepayments=early,
    )


def _loans(actor: Actor, status: str | None) -> Select[LoanApplication]:
    stmt = scoped(actor, LoanApplication).where(LoanApplication.status.in_(LOAN_STATUSES))
    if status is not None:
        stmt = stmt.where(LoanApplication.status == LoanStatus(status))
    return stmt.order_by(LoanApplication.id)


def list_loans(
    session: Session, actor: Actor, *, status: str | None = None, on: dt.date | None = None
) -> list[LoanView]:
    """Disbursing, repaying and closed loans in scope (managers: those funding their houses),
    their days past due and collectability as of `on` (today where each loan is)."""
    return [_view(session, actor, app, on) for app in session.scalars(_loans(actor, status))]


def page_of_loans(
    session: Session,
    actor: Actor,
    *,
    page: int,
    page_size: int,
    status: str | None = None,
    on: dt.date | None = None,
) -> tuple[list[LoanView], int]:
    """One page of `list_loans` (by id) and how many there are: only the page's loans are
    read in full."""
    stmt = _loans(actor, status)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    apps = session.scalars(stmt.limit(page_size).offset((page - 1) * page_size))
    return [_view(session, actor, app, on) for app in apps], total


def get_loan(
    session: Session, actor: Actor, loan_id: int, *, on: dt.date | None = None
) -> LoanView:
    """One loan as of `on` (today where it is when not given)."""
    return _view(session, actor, loan(session, actor, loan_id), on)
