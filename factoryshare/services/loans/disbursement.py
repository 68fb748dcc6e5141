"""Paying out the loan: disbursing starts with the lender, each tranche is checked against
the approved amount and its date, rebuilds the schedule (accounting.rebuild), and the last one
starts repayment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, locking
from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models.financing import (
    DecisionKind,
    LoanApplication,
    LoanStatus,
    LoanTranche,
)
from factoryshare.services.loans.accounting import check_tranche_date, rebuild, settle
from factoryshare.services.loans.core import (
    decide,
    disbursed_total,
    for_change,
    get,
    move,
    require_lender,
    today,
)


def disburse(
    session: Session,
    actor: Actor,
    application_id: int,
    on: dt.date | None = None,
    amount: int | None = None,
) -> LoanApplication:
    """Start disbursing. Nothing is owed until money is paid out: the first tranche (with
    `amount`, paid out at once on `on`; the whole loan when it is the approved amount) builds
    the schedule, its installments due monthly from a month after it (services/repayment.py).
    """
    require_lender(actor, N_("disburse its loan"))
    return _start_disbursing(session, actor, for_change(session, actor, application_id), on, amount)


def _start_disbursing(
    session: Session,
    actor: Actor,
    app: LoanApplication,
    on: dt.date | None,
    amount: int | None,
) -> LoanApplication:
    """disburse on an application already locked."""
    start = on or today(session, app)
    if amount is not None:
        _check_tranche(session, app, amount, already=0)
        check_tranche_date(session, app, start)
    move(
        session,
        actor,
        app,
        (LoanStatus.lender_approved,),
        LoanStatus.disbursing,
        "disbursing",
        "loan_application.disbursement_started",
    )
    if amount is not None:
        _pay_tranche(session, actor, app, amount, start)
    return app


def pay_out(
    session: Session, actor: Actor, application_id: int, amount: int, on: dt.date | None = None
) -> LoanApplication:
    """The lender pays out a tranche: on a loan approved and not yet disbursing the first
    (disburse), else one more (add_tranche); which, decided under the application's lock."""
    require_lender(actor, N_("pay out its tranches"))
    app = for_change(session, actor, application_id)
    if app.status is LoanStatus.lender_approved:
        return _start_disbursing(session, actor, app, on, amount)
    _pay_tranche(session, actor, app, amount, on)
    return app


def tranches(session: Session, actor: Actor, application_id: int) -> list[LoanTranche]:
    app = get(session, actor, application_id)
    return list(
        session.scalars(
            select(LoanTranche)
            .where(LoanTranche.loan_application_id == app.id)
            .order_by(LoanTranche.disbursed_on, LoanTranche.id)
        )
    )


def _check_tranche(session: Session, app: LoanApplication, amount: Any, *, already: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(
            N_("The tranche is not possible."),
            errors={"amount": [N_("Must be a positive whole number of rupiah.")]},
        )
    approved = app.approved_amount or 0
    if already + amount > approved:
        left = approved - already
        message = N_(
            "Only %(left)s of the approved %(approved)s remain to disburse.",
            left=rupiah(left),
            approved=rupiah(approved),
        )
        raise Conflict(message, code="beyond_approved_amount", errors={"amount": [message]})


def add_tranche(
    session: Session, actor: Actor, application_id: int, amount: int, on: dt.date | None = None
) -> LoanTranche:
    """Pay out one tranche on `on` (today when not given); never beyond the approved amount,
    never before the lender's approval or in the future. The schedule is rebuilt from its date
    (services/repayment.py); the last tranche starts repayment."""
    require_lender(actor, N_("pay out its tranches"))
    return _pay_tranche(session, actor, for_change(session, actor, application_id), amount, on)


def _pay_tranche(
    session: Session, actor: Actor, app: LoanApplication, amount: int, on: dt.date | None
) -> LoanTranche:
    """add_tranche on an application already locked."""
    locking.require_state(
        app,
        (LoanStatus.disbursing,),
        N_("A loan that is %(status)s cannot be disbursed.", status=i18n.status(app.status)),
        action="disbursed",
    )
    already = disbursed_total(session, app)
    _check_tranche(session, app, amount, already=already)
    on = on or today(session, app)
    check_tranche_date(session, app, on)
    tranche = LoanTranche(
        loan_application_id=app.id, amount=amount, disbursed_on=on, recorded_by_id=actor.user_id
    )
    session.add(tranche)
    session.flush()
    rebuild(session, app, on)
    audit.record(
        session,
        actor,
        "loan_tranche.disbursed",
        tranche,
        after={
            "loan_application_id": app.id,
            "amount": amount,
            "disbursed_on": tranche.disbursed_on.isoformat(),
            "disbursed_total": already + amount,
        },
    )
    decide(
        session,
        actor,
        app,
        DecisionKind.tranche,
        amount=amount,
        tranche_id=tranche.id,
        disbursed_on=tranche.disbursed_on.isoformat(),
        disbursed_total=already + amount,
    )
    if already + amount == app.approved_amount:
        move(
            session,
            actor,
            app,
            (LoanStatus.disbursing,),
            LoanStatus.repaying,
            "repaying",
            "loan_application.repayment_started",
        )
        settle(session, actor, app)
    return tranche
