"""Loan accounting: installments, repayments, the schedule, payoff, days past due.

The schedule is rebuilt at each balance change (a tranche, an early repayment); dates are read
where the loan is. The rules and a worked example are in services/repayment.py's docstring.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Role
from factoryshare.models.financing import (
    DecisionKind,
    Installment,
    InstallmentStatus,
    LoanApplication,
    LoanDecision,
    LoanPrepayment,
    LoanStatus,
    LoanTranche,
    Repayment,
    RepaymentSource,
)
from factoryshare.services import repayment
from factoryshare.services.loans.core import (
    disbursed_total,
    get,
    lock,
    move,
    today,
    zone,
)
from factoryshare.services.repayment import annuity_schedule


def installments(session: Session, actor: Actor, application_id: int) -> list[Installment]:
    app = get(session, actor, application_id)
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_application_id == app.id)
            .order_by(Installment.number)
        )
    )


def mark_installments_due(session: Session, today: dt.date) -> dict[str, int]:
    """Unpaid installments past their due date become overdue with their days in arrears.

    Idempotent: running it again on the same day changes nothing.
    """
    changed = 0
    for inst in session.scalars(
        select(Installment).where(
            Installment.status != InstallmentStatus.paid, Installment.due_date < today
        )
    ):
        days = (today - inst.due_date).days
        if inst.status is not InstallmentStatus.overdue or inst.days_in_arrears != days:
            if inst.status is not InstallmentStatus.overdue:
                changed += 1
            inst.status = InstallmentStatus.overdue
            inst.days_in_arrears = days
    session.flush()
    return {"newly_overdue": changed}


def schedule(
    app: LoanApplication, first_due: dt.date | None = None
) -> list[repayment.ScheduledInstallment]:
    """The repayment schedule of the approved (or requested) amount paid out at once, under the
    lender's rate and term (the scheme's rate and the applied-for term until it decided)."""
    rate, tenor = loan_terms(app)
    return annuity_schedule(
        app.approved_amount or app.requested_amount,
        rate,
        tenor,
        grace_months=app.grace_months,
        first_due=first_due,
    )


def record_repayment(
    session: Session,
    actor: Actor,
    application_id: int,
    number: int,
    amount: int,
    source: str = "direct",
    on: dt.date | None = None,
) -> Installment:
    """Record money received on `on` (today when not given) for installment `number`; fully
    paid installments become paid. Not dated in the future, nor before the loan's first
    tranche (422 naming `on`)."""
    actor.require(Role.admin, Role.aggregator)
    app = get(session, actor, application_id)
    lock(session, app)
    inst = session.scalars(
        select(Installment)
        .where(Installment.loan_application_id == app.id, Installment.number == number)
        .execution_options(populate_existing=True)
    ).first()
    if inst is None:
        raise ValidationFailed(
            N_("No such installment."), errors={"number": [N_("No installment with this number.")]}
        )
    outstanding = inst.amount - inst.paid
    if not isinstance(amount, int) or amount <= 0 or amount > outstanding:
        raise ValidationFailed(
            N_("The amount is not possible."),
            errors={
                "amount": [
                    N_(
                        "Must be between 1 and the outstanding %(outstanding)s.",
                        outstanding=rupiah(outstanding),
                    )
                ]
            },
        )
    on = on or today(session, app)
    check_repayment_date(session, app, on)
    return apply_repayment(session, actor, app, inst, amount, RepaymentSource(source), paid_on=on)


def apply_repayment(
    session: Session,
    actor: Actor,
    app: LoanApplication,
    inst: Installment,
    amount: int,
    source: RepaymentSource,
    *,
    offtake_purchase_id: int | None = None,
    paid_on: dt.date | None = None,
) -> Installment:
    """Book `amount` (already checked against what is outstanding) on one installment.

    A fully paid installment becomes paid; the loan is repaying from its first repayment and
    closed once every installment is paid and the approved amount is fully disbursed.
    """
    before = {"paid": inst.paid, "status": inst.status.value}
    session.add(
        Repayment(
            installment_id=inst.id,
            amount=amount,
            source=source,
            recorded_by_id=actor.user_id,
            offtake_purchase_id=offtake_purchase_id,
            paid_on=paid_on or today(session, app),
        )
    )
    inst.paid += amount
    if inst.paid == inst.amount:
        inst.status = InstallmentStatus.paid
        inst.days_in_arrears = 0
    session.flush()
    audit.record(
        session,
        actor,
        "installment.repaid",
        inst,
        before=before,
        after={"paid": inst.paid, "status": inst.status.value, "source": source.value},
    )
    settle(session, actor, app)
    return inst


def settle(session: Session, actor: Actor, app: LoanApplication) -> None:
    unpaid = session.scalar(
        select(func.count())
        .select_from(Installment)
        .where(
            Installment.loan_application_id == app.id, Installment.status != InstallmentStatus.paid
        )
    )
    if (
        unpaid == 0
        and disbursed_total(session, app) >= (app.approved_amount or 0)
        and app.status is not LoanStatus.closed
    ):
        move(
            session,
            actor,
            app,
            (LoanStatus.disbursing, LoanStatus.repaying),
            LoanStatus.closed,
            "closed",
        )


def loan_terms(app: LoanApplication) -> tuple[int, int]:
    """The yearly rate (basis points) and term (months) the loan runs on: the lender's, else
    the scheme's rate and the applied-for term."""
    rate = app.lender_rate_bps if app.lender_rate_bps is not None else app.scheme.annual_rate_bps
    return rate, app.lender_tenor_months or app.tenor_months


def approved_on(session: Session, app: LoanApplication) -> dt.date | None:
    """The day (where the loan is) of the lender's approval on record, if there is one."""
    at = session.scalar(
        select(func.max(LoanDecision.decided_at)).where(
            LoanDecision.loan_application_id == app.id,
            LoanDecision.kind == DecisionKind.lender_approved,
        )
    )
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(zone(session, app)).date()


def _balance_changes(session: Session, app: LoanApplication) -> list[tuple[dt.date, int]]:
    """Every change of the principal outstanding but the installments': (date, +tranche or
    -early repayment's principal), in date order."""
    changes = [
        (t.disbursed_on, t.amount)
        for t in session.scalars(
            select(LoanTranche).where(LoanTranche.loan_application_id == app.id)
        )
    ]
    changes += [
        (p.paid_on, -p.principal)
        for p in session.scalars(
            select(LoanPrepayment).where(LoanPrepayment.loan_application_id == app.id)
        )
    ]
    return sorted(changes)


def first_tranche_on(session: Session, app: LoanApplication) -> dt.date | None:
    return session.scalar(
        select(func.min(LoanTranche.disbursed_on)).where(LoanTranche.loan_application_id == app.id)
    )


def last_change_on(session: Session, app: LoanApplication) -> dt.date | None:
    changes = _balance_changes(session, app)
    return changes[-1][0] if changes else None


def installment_rows(session: Session, app: LoanApplication) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_application_id == app.id)
            .order_by(Installment.number)
            .execution_options(populate_existing=True)
        )
    )


def _periods(rows: list[Installment], first_on: dt.date) -> list[tuple[dt.date, dt.date]]:
    starts = [first_on] + [r.due_date for r in rows[:-1]]
    return list(zip(starts, [r.due_date for r in rows]))


def _frozen(rows: list[Installment], on: dt.date) -> int:
    """How many installments stay as they are on `on`: those due by then and those paid (even
    in part) in advance, with every one before them."""
    return max((r.number for r in rows if r.due_date <= on or r.paid > 0), default=0)


def _as_row(inst: Installment, start: dt.date) -> repayment.Row:
    return repayment.Row(
        number=inst.number,
        start=start,
        due=inst.due_date,
        principal=inst.principal,
        interest=inst.interest,
    )


def date_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def _check_date(value: Any, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise date_error(field, N_("Give a date."))
    return value


def check_tranche_date(session: Session, app: LoanApplication, on: Any) -> None:
    """A tranche is dated on or after the lender's approval and the loan's last money
    movement, not in the future, and before the last installment falls due."""
    on = _check_date(on, "on")
    now = today(session, app)
    if on > now:
        raise date_error(
            "on", N_("A tranche cannot be dated in the future (today is %(now)s).", now=now)
        )
    approved = approved_on(session, app)
    if approved is not None and on < approved:
        raise date_error(
            "on",
            N_(
                "A tranche cannot predate the lender's approval on %(approved)s.", approved=approved
            ),
        )
    last = last_change_on(session, app)
    if last is not None and on < last:
        raise date_error(
            "on",
            N_(
                "A tranche cannot predate the loan's last tranche or early repayment, on %(last)s.",
                last=last,
            ),
        )
    rows = installment_rows(session, app)
    if rows and _frozen(rows, on) >= rows[-1].number:
        raise date_error(
            "on",
            N_(
                "The loan's last installment falls due on %(due_date)s: no "
                "installment is left to repay a tranche from that day.",
                due_date=rows[-1].due_date,
            ),
        )


def check_repayment_date(
    session: Session, app: LoanApplication, on: Any, field: str = "on"
) -> None:
    """Money is received on or after the loan's first tranche and not in the future."""
    on = _check_date(on, field)
    now = today(session, app)
    if on > now:
        raise date_error(
            field, N_("A repayment cannot be dated in the future (today is %(now)s).", now=now)
        )
    first = first_tranche_on(session, app)
    if first is None or on < first:
        when = f"on {first}" if first else "yet"
        raise date_error(
            field,
            N_(
                "A repayment cannot predate the loan's disbursement (its "
                "first tranche was paid out %(when)s).",
                when=when,
            ),
        )


def rebuild(
    session: Session, app: LoanApplication, on: dt.date, *, level: int | None = None
) -> list[Installment]:
    """Rebuild the open installments after a balance change on `on` (repayment.reschedule)."""
    rows = installment_rows(session, app)
    changes = _balance_changes(session, app)
    first_on = first_tranche_on(session, app)
    assert first_on is not None
    rate, tenor = loan_terms(app)
    if rows:
        periods = _periods(rows, first_on)
        f = _frozen(rows, on)
    else:
        periods, f = repayment.periods(first_on, tenor), 0
    frozen = [_as_row(r, start) for r, (start, _due) in zip(rows[:f], periods)]
    new, _level = repayment.reschedule(
        periods=periods,
        frozen=frozen,
        changes=changes,
        annual_rate_bps=rate,
        grace_months=app.grace_months,
        level=level,
    )
    by_number = {r.number: r for r in rows}
    kept: list[Installment] = []
    for row in new:
        inst = by_number.pop(row.number, None)
        if inst is None:
            inst = Installment(
                loan_application_id=app.id,
                number=row.number,
                due_date=row.due,
                paid=0,
                status=InstallmentStatus.due,
                days_in_arrears=0,
            )
            session.add(inst)
        inst.principal, inst.interest, inst.amount = row.principal, row.interest, row.amount
        if inst.amount == inst.paid:
            inst.status = InstallmentStatus.paid
        kept.append(inst)
    for number, inst in by_number.items():
        if number > f:  # an open installment the shorter schedule no longer has
            session.delete(inst)
    session.flush()
    return kept


@dataclass(frozen=True)
class Payoff:
    """What repaying the whole loan on a day takes: the principal outstanding and the interest
    accrued (`amount`), once the installments already due (`installments_due`) are paid."""

    on: dt.date
    principal: int
    interest: int
    installments_due: int = 0

    @property
    def amount(self) -> int:
        return self.principal + self.interest


def payoff_on(
    session: Session, app: LoanApplication, on: dt.date, rows: list[Installment]
) -> tuple[Payoff, int]:
    """The payoff on `on` and how many installments are frozen then."""
    changes = _balance_changes(session, app)
    first_on = first_tranche_on(session, app)
    assert first_on is not None
    f = _frozen(rows, on)
    frozen_principal = sum(r.principal for r in rows[:f])
    principal = sum(d for _w, d in changes) - frozen_principal
    interest = 0
    if f < len(rows):
        rate, _tenor = loan_terms(app)
        start = first_on if f == 0 else rows[f - 1].due_date
        opening = sum(d for w, d in changes if w <= start) - frozen_principal
        interest = repayment.accrued_interest(_as_row(rows[f], start), opening, changes, rate, on)
    due = sum(r.amount - r.paid for r in rows if r.due_date <= on)
    return Payoff(on=on, principal=principal, interest=interest, installments_due=due), f


def installment_days_past_due(
    session: Session, app: LoanApplication, rows: list[Installment], on: dt.date
) -> dict[int, int]:
    """Days past due of each installment on `on`: days since its due date while the money
    received for it by then is less than its amount (0 when paid by then or not yet due)."""
    received = money_received(session, rows, lambda _app_id: zone(session, app))
    return days_past_due(rows, received.get(app.id, []), on)


def money_received(
    session: Session, rows: Iterable[Installment], zone_of: Callable[[int], dt.tzinfo]
) -> dict[int, list[tuple[int, int, dt.date]]]:
    """The repayments of these installments by loan (application id): (installment id,
    amount, the day it was received in the loan's zone, `zone_of(application id)`), in one
    statement."""
    loan_of = {r.id: r.loan_application_id for r in rows}
    received: dict[int, list[tuple[int, int, dt.date]]] = defaultdict(list)
    if not loan_of:
        return received
    for inst_id, amount, paid_on, recorded_at in session.execute(
        select(
            Repayment.installment_id, Repayment.amount, Repayment.paid_on, Repayment.recorded_at
        ).where(Repayment.installment_id.in_(list(loan_of)))
    ):
        app_id = loan_of[inst_id]
        day = paid_on or recorded_at.astimezone(zone_of(app_id)).date()
        received[app_id].append((inst_id, amount, day))
    return received


def days_past_due(
    rows: list[Installment], received: list[tuple[int, int, dt.date]], on: dt.date
) -> dict[int, int]:
    """installment_days_past_due from the money received: (installment id, amount, the day it
    was received where the loan is)."""
    paid_by: dict[int, int] = {}
    for inst_id, amount, day in received:
        if day <= on:
            paid_by[inst_id] = paid_by.get(inst_id, 0) + amount
    return {
        r.number: (
            (on - r.due_date).days if r.due_date < on and paid_by.get(r.id, 0) < r.amount else 0
        )
        for r in rows
    }
