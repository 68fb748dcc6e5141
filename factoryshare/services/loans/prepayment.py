"""Early repayment: what closes the loan on a day (the payoff) and repaying part or all of it
early, the aggregator's choice of a shorter term or lower installments recorded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, locking
from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Role
from factoryshare.models.financing import LoanPrepayment, LoanStatus, PrepaymentMode
from factoryshare.services.loans.accounting import (
    Payoff,
    check_repayment_date,
    date_error,
    installment_rows,
    last_change_on,
    payoff_on,
    rebuild,
)
from factoryshare.services.loans.core import for_change, get, loan, move, require_loan, today


def payoff(
    session: Session, actor: Actor, application_id: int, on: dt.date | None = None
) -> Payoff:
    """What closes the loan on `on`: the principal outstanding and the interest accrued."""
    app = loan(session, actor, application_id)
    on = on or today(session, app)
    return payoff_on(session, app, on, installment_rows(session, app))[0]


def prepay(
    session: Session,
    actor: Actor,
    application_id: int,
    amount: int,
    *,
    on: dt.date | None = None,
    mode: str = "shorten_term",
) -> LoanPrepayment:
    """Early repayment on `on` (today when not given), the aggregator's choice recorded:

    - `shorten_term`: principal only; the level installment stays and the last installments go;
    - `lower_installment`: principal only; as many installments, each lower;
    - `full` (or an amount equal to the payoff, whatever the mode): the principal outstanding
      and the interest accrued to that day; the loan is closed.

    Installments already due must be paid first (409 `installments_due_first`), and one paid in
    part in advance finished (409 `installment_partly_paid`).
    """
    actor.require(Role.admin, Role.aggregator)
    app = require_loan(for_change(session, actor, application_id))
    locking.require_state(
        app,
        (LoanStatus.disbursing, LoanStatus.repaying),
        N_("A loan that is %(status)s cannot be repaid early.", status=i18n.status(app.status)),
        action="prepaid",
    )
    modes = [m.value for m in PrepaymentMode]
    if mode not in modes:
        raise ValidationFailed(
            N_("The mode is not known."),
            errors={"mode": [N_("Must be one of %(modes)s.", modes=", ".join(modes))]},
        )
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(
            N_("The amount is not possible."),
            errors={"amount": [N_("Must be a positive whole number of rupiah.")]},
        )
    on = on or today(session, app)
    check_repayment_date(session, app, on)
    last = last_change_on(session, app)
    if last is not None and on < last:
        raise date_error(
            "on",
            N_(
                "An early repayment cannot predate the loan's last tranche "
                "or early repayment, on %(last)s.",
                last=last,
            ),
        )
    rows = installment_rows(session, app)
    due = [r for r in rows if r.due_date <= on and r.paid < r.amount]
    if due:
        owed = sum(r.amount - r.paid for r in due)
        raise Conflict(
            N_("Installments already due must be paid first: %(amount)s.", amount=rupiah(owed)),
            code="installments_due_first",
            details={"numbers": [r.number for r in due], "amount": owed},
        )
    partly = [r for r in rows if r.due_date > on and 0 < r.paid < r.amount]
    if partly:
        raise Conflict(
            N_(
                "Installment %(number)s is paid in part: finish paying it first.",
                number=partly[0].number,
            ),
            code="installment_partly_paid",
            details={"number": partly[0].number},
        )
    quote, f = payoff_on(session, app, on, rows)
    if quote.principal <= 0 or f >= len(rows):
        raise Conflict(N_("Nothing is left to repay early."), code="nothing_outstanding")
    full = mode == PrepaymentMode.full.value or amount == quote.amount
    if full and amount != quote.amount:
        raise ValidationFailed(
            N_("The amount does not close the loan."),
            errors={
                "amount": [
                    (
                        N_(
                            "Repaying the loan in full on %(on)s takes %(amount)s (%(principal)s principal, "
                            "%(interest)s interest).",
                            on=on,
                            amount=rupiah(quote.amount),
                            principal=rupiah(quote.principal),
                            interest=rupiah(quote.interest),
                        )
                    )
                ]
            },
        )
    if not full and amount >= quote.principal:
        raise ValidationFailed(
            N_("The amount is not possible."),
            errors={
                "amount": [
                    (
                        N_(
                            "An early repayment is less than the principal outstanding, %(principal)s; "
                            "%(amount)s on %(on)s closes the loan.",
                            principal=rupiah(quote.principal),
                            amount=rupiah(quote.amount),
                            on=on,
                        )
                    )
                ]
            },
        )
    before = {
        "status": app.status.value,
        "installments": [[r.number, r.principal, r.interest] for r in rows[f:]],
    }
    if full:
        prepayment = LoanPrepayment(
            loan_application_id=app.id,
            paid_on=on,
            amount=amount,
            principal=quote.principal,
            interest=quote.interest,
            mode=PrepaymentMode.full,
            recorded_by_id=actor.user_id,
        )
        session.add(prepayment)
        for inst in rows[f:]:
            session.delete(inst)
        session.flush()
        after: list[list[int]] = []
    else:
        level = None
        if mode == PrepaymentMode.shorten_term.value:
            amortising = [r.amount for r in rows[f:-1] if r.number > app.grace_months]
            level = min(amortising) if amortising else None
        prepayment = LoanPrepayment(
            loan_application_id=app.id,
            paid_on=on,
            amount=amount,
            principal=amount,
            interest=0,
            mode=PrepaymentMode(mode),
            recorded_by_id=actor.user_id,
        )
        session.add(prepayment)
        session.flush()
        after = [
            [r.number, r.principal, r.interest] for r in rebuild(session, app, on, level=level)
        ]
    audit.record(
        session,
        actor,
        "loan.prepaid",
        prepayment,
        before=before,
        after={**audit.snapshot(prepayment), "installments": after},
    )
    if full:
        move(
            session,
            actor,
            app,
            (LoanStatus.disbursing, LoanStatus.repaying),
            LoanStatus.closed,
            "closed",
        )
    return prepayment


def prepayments(session: Session, actor: Actor, application_id: int) -> list[LoanPrepayment]:
    app = get(session, actor, application_id)
    return list(
        session.scalars(
            select(LoanPrepayment)
            .where(LoanPrepayment.loan_application_id == app.id)
            .order_by(LoanPrepayment.paid_on, LoanPrepayment.id)
        )
    )
