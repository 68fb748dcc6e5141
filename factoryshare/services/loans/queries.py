"""Reading applications and loans: the lists in scope and a loan as of a day (disbursed,
repaid, outstanding, days past due and kolektibilitas).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from factoryshare.access import Actor, ids_in_scope, scope_filter, scoped
from factoryshare.models import Cluster, ProductionHouse, Role
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
from factoryshare.services.loans.accounting import days_past_due, money_received
from factoryshare.services.loans.core import (
    LOAN_STATUSES,
    disbursed_totals,
    loan,
    now,
    zones,
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

    @property
    def owed(self) -> int:
        """What is still to pay of the installment."""
        return self.amount - self.paid


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


def _views(
    session: Session, actor: Actor, apps: list[LoanApplication], on: dt.date | None = None
) -> list[LoanView]:
    """The views of these loans, in their order. Each kind of row (installments, early
    repayments, repayments, tranches, plan links, a member's shares and bookings, where each
    loan is) is read once for all of them, so a page costs the same statements at any size."""
    if not apps:
        return []
    ids = [app.id for app in apps]
    where = zones(session, apps)
    clock = now()
    rows: dict[int, list[Installment]] = defaultdict(list)
    for r in session.scalars(
        select(Installment)
        .where(Installment.loan_application_id.in_(ids))
        .order_by(Installment.loan_application_id, Installment.number)
    ):
        rows[r.loan_application_id].append(r)
    early: dict[int, list[LoanPrepayment]] = defaultdict(list)
    for p in session.scalars(
        select(LoanPrepayment)
        .where(LoanPrepayment.loan_application_id.in_(ids))
        .order_by(LoanPrepayment.paid_on, LoanPrepayment.id)
    ):
        early[p.loan_application_id].append(p)
    received = money_received(session, [r for rs in rows.values() for r in rs], where.__getitem__)
    linked: dict[int, list[int]] = defaultdict(list)
    for app_id, booking_id in session.execute(
        select(LoanPlanLink.loan_application_id, LoanPlanLink.booking_id)
        .where(LoanPlanLink.loan_application_id.in_(ids), LoanPlanLink.booking_id.is_not(None))
        .order_by(LoanPlanLink.loan_application_id, LoanPlanLink.booking_id)
    ):
        if booking_id is not None:  # the query keeps only set ones
            linked[app_id].append(booking_id)
    shares: dict[int, int] = {}
    own: set[int] = set()
    if actor.role is Role.member:
        # A member reads its own share and its own bookings of the plan (access/financing.py).
        shares = dict(
            session.execute(
                select(LoanShare.loan_application_id, LoanShare.amount).where(
                    LoanShare.loan_application_id.in_(ids), scope_filter(actor, LoanShare)
                )
            ).all()
        )
        every = sorted({b for bs in linked.values() for b in bs})
        if every:
            own = ids_in_scope(session, actor, Booking, every)
    disbursed = disbursed_totals(session, apps)
    return [
        _view(
            app,
            on or clock.astimezone(where[app.id]).date(),
            rows[app.id],
            early[app.id],
            received[app.id],
            disbursed[app.id],
            # A member sees only the linked bookings that are their own, and their own share.
            [b for b in linked[app.id] if b in own]
            if actor.role is Role.member
            else linked[app.id],
            shares.get(app.id) if actor.role is Role.member else None,
        )
        for app in apps
    ]


def _view(
    app: LoanApplication,
    on: dt.date,
    rows: list[Installment],
    early: list[LoanPrepayment],
    received: list[tuple[int, int, dt.date]],
    disbursed: int,
    booking_ids: list[int],
    share: int | None,
) -> LoanView:
    unpaid = [r for r in rows if r.status is not InstallmentStatus.paid]
    # A payment covers its installment's interest first, then its principal.
    principal_repaid = sum(min(r.principal, max(0, r.paid - r.interest)) for r in rows) + sum(
        p.principal for p in early
    )
    interest_paid = sum(min(r.paid, r.interest) for r in rows) + sum(p.interest for p in early)
    late = days_past_due(rows, received, on)
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
    return _views(session, actor, list(session.scalars(_loans(actor, status))), on)


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
    apps = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return _views(session, actor, apps, on), total


def get_loan(
    session: Session, actor: Actor, loan_id: int, *, on: dt.date | None = None
) -> LoanView:
    """One loan as of `on` (today where it is when not given)."""
    return _views(session, actor, [loan(session, actor, loan_id)], on)[0]


@dataclass(frozen=True)
class ClusterExposure:
    """What a cluster owes: its loans as of today, the money paid out and not yet paid back
    (the sum of their principal outstanding) and the installments past due and unpaid."""

    cluster: Cluster
    house: ProductionHouse | None
    loans: list[LoanView]
    overdue: list[tuple[LoanApplication, InstallmentView]]

    @property
    def exposure(self) -> int:
        return sum(v.outstanding for v in self.loans)

    @property
    def overdue_amount(self) -> int:
        return sum(installment.owed for _app, installment in self.overdue)


def cluster_exposures(session: Session, actor: Actor) -> list[ClusterExposure]:
    """Each cluster in the caller's scope (by name) with what it owes today (ClusterExposure):
    what an aggregator follows of its clusters, and an admin of all."""
    actor.require(Role.admin, Role.aggregator)
    views = list_loans(session, actor)
    found = list(
        session.scalars(
            scoped(actor, Cluster)
            .order_by(Cluster.name, Cluster.id)
            .options(selectinload(Cluster.members))
        )
    )
    house_ids = {c.house_id for c in found if c.house_id is not None}
    houses = {
        h.id: h
        for h in session.scalars(select(ProductionHouse).where(ProductionHouse.id.in_(house_ids)))
    }
    exposures = []
    for cluster in found:
        mine = [v for v in views if v.application.cluster_id == cluster.id]
        # Overdue: past its due date and not paid by today (the loan's days past due).
        overdue = [(v.application, i) for v in mine for i in v.installments if i.days_past_due > 0]
        house = houses.get(cluster.house_id) if cluster.house_id is not None else None
        exposures.append(ClusterExposure(cluster, house, mine, overdue))
    return exposures
