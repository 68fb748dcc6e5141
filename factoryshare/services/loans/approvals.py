"""The decisions on an application: the aggregator's endorsement (two different approvers
above its approval limit), rejection and send-back with their reasons, and the lender's credit
decision with its reference, amount, rate and term; each a decision on record.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, locking
from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Role
from factoryshare.models.financing import (
    DecisionKind,
    LoanApplication,
    LoanDecision,
    LoanStatus,
)
from factoryshare.services.loans.core import (
    decide,
    for_change,
    get,
    move,
    require_lender,
    snapshot,
)


def _check_note(note: Any, field: str) -> str:
    if not isinstance(note, str):
        raise ValidationFailed(N_("The note is not text."), errors={field: [N_("Must be text.")]})
    if len(note) > 1000:
        raise ValidationFailed(
            N_("The note is too long."), errors={field: [N_("At most 1000 characters.")]}
        )
    return note


def _check_reason(reason: Any, field: str, missing: i18n.Message) -> str:
    """A refusal's or a send-back's reason: the cluster's members read it to learn why, so it
    may not be blank."""
    reason = _check_note(reason, field).strip()
    if not reason:
        raise ValidationFailed(missing, errors={field: [missing]})
    return reason


def decisions(session: Session, actor: Actor, application_id: int) -> list[LoanDecision]:
    """Every decision taken on the application, oldest first (scoped like the application)."""
    app = get(session, actor, application_id)
    return decisions_of(session, app)


def decisions_of(session: Session, app: LoanApplication) -> list[LoanDecision]:
    return list(
        session.scalars(
            select(LoanDecision)
            .where(LoanDecision.loan_application_id == app.id)
            .order_by(LoanDecision.decided_at, LoanDecision.id)
        )
    )


def _endorser(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    actor.require(Role.admin, Role.aggregator)
    return for_change(session, actor, application_id)


def approve(
    session: Session, actor: Actor, application_id: int, approved_amount: int | None = None
) -> LoanApplication:
    app = _endorser(session, actor, application_id)
    locking.require_state(
        app,
        (LoanStatus.submitted,),
        N_("An application that is %(status)s cannot be approved.", status=i18n.status(app.status)),
        action="approved",
    )
    amount = app.requested_amount if approved_amount is None else approved_amount
    if not isinstance(amount, int) or amount <= 0 or amount > app.requested_amount:
        raise ValidationFailed(
            N_("The approved amount is not possible."),
            errors={"approved_amount": [N_("Must be positive and at most the requested amount.")]},
        )
    limit = app.cluster.aggregator.approval_limit
    if app.approved_by_id is None:
        app.approved_by_id = actor.user_id
        app.approved_amount = amount
        if amount > limit:
            session.flush()
            audit.record(
                session, actor, "loan_application.first_approved", app, after=snapshot(app)
            )
            decide(
                session,
                actor,
                app,
                DecisionKind.endorsed,
                amount=amount,
                approvals_needed=2,
                approval=1,
            )
            return app  # a second, different approver is needed
    else:
        if app.approved_by_id == actor.user_id:
            raise Conflict(
                N_("The second approval must come from someone else."), code="same_approver"
            )
        app.second_approved_by_id = actor.user_id
        app.approved_amount = min(amount, app.approved_amount or amount)
        move(session, actor, app, (LoanStatus.submitted,), LoanStatus.approved, "approved")
        decide(
            session,
            actor,
            app,
            DecisionKind.endorsed,
            amount=app.approved_amount,
            approvals_needed=2,
            approval=2,
        )
        return app
    move(session, actor, app, (LoanStatus.submitted,), LoanStatus.approved, "approved")
    decide(
        session, actor, app, DecisionKind.endorsed, amount=amount, approvals_needed=1, approval=1
    )
    return app


def reject(
    session: Session, actor: Actor, application_id: int, reason: str = ""
) -> LoanApplication:
    """Reject; the reason is the decision's note (the applicant's notes stay as written)."""
    app = _endorser(session, actor, application_id)
    reason = _check_reason(
        reason, "reason", N_("Write a note saying why the application is rejected.")
    )
    move(session, actor, app, (LoanStatus.submitted,), LoanStatus.rejected, "rejected")
    decide(session, actor, app, DecisionKind.rejected, note=reason, amount=app.requested_amount)
    return app


def request_changes(
    session: Session, actor: Actor, application_id: int, reason: str = ""
) -> LoanApplication:
    """Send back for changes; the reason is the decision's note, not the applicant's notes."""
    app = _endorser(session, actor, application_id)
    reason = _check_reason(reason, "reason", N_("Write a note saying what should change."))
    locking.require_state(
        app,
        (LoanStatus.submitted,),
        N_(
            "An application that is %(status)s cannot be sent back.", status=i18n.status(app.status)
        ),
        action="sent_back",
    )
    app.approved_by_id = None
    app.approved_amount = None
    move(session, actor, app, (LoanStatus.submitted,), LoanStatus.changes_requested, "sent_back")
    decide(
        session,
        actor,
        app,
        DecisionKind.changes_requested,
        note=reason,
        amount=app.requested_amount,
    )
    return app


def _rate_bps(rate_percent: Any) -> int | None:
    """A rate in percent a year (at most two decimals) as basis points, None if not one."""
    if isinstance(rate_percent, bool) or not isinstance(rate_percent, (int, float, Decimal, str)):
        return None
    try:
        bps = Decimal(str(rate_percent)) * 100
    except InvalidOperation:
        return None
    if not bps.is_finite() or bps != bps.to_integral_value() or not 0 <= bps <= 10_000:
        return None
    return int(bps)


def lender_decision(
    session: Session,
    actor: Actor,
    application_id: int,
    approved: bool,
    *,
    reference: str | None = None,
    approved_amount: int | None = None,
    rate_percent: Any = None,
    tenor_months: int | None = None,
    note: str = "",
) -> LoanApplication:
    """The lender's credit decision on an endorsed application, with the bank's reference
    number and, when it approves, the amount (at most the endorsed one), the yearly rate and
    the term it grants (the endorsed amount, the scheme's rate and the applied-for term when
    not given). Every field that is wrong is named at once."""
    require_lender(actor, N_("record its decision"))
    app = for_change(session, actor, application_id)
    action = "lender_approved" if approved else "lender_declined"
    locking.require_state(
        app,
        (LoanStatus.approved,),
        N_(
            "An application that is %(status)s cannot be %(action)s.",
            status=i18n.status(app.status),
            action=i18n.status(action),
        ),
        action=action,
    )
    errors: dict[str, list[str]] = {}
    reference = reference.strip() if isinstance(reference, str) else reference
    if reference is not None and (not isinstance(reference, str) or len(reference) > 60):
        errors["reference"] = [N_("Must be text of at most 60 characters.")]
    elif not reference and not actor.is_system:
        errors["reference"] = [N_("Give the lender's reference number of the decision.")]
    if not isinstance(note, str) or len(note) > 1000:
        errors["note"] = [N_("Must be text of at most 1000 characters.")]
    elif not approved and not note.strip() and not actor.is_system:
        # The cluster and its aggregator read it to learn why.
        errors["note"] = [N_("Write the reason the loan is declined.")]
    endorsed = app.approved_amount or app.requested_amount
    amount = endorsed if approved_amount is None else approved_amount
    bps = app.scheme.annual_rate_bps if rate_percent is None else _rate_bps(rate_percent)
    tenor = app.tenor_months if tenor_months is None else tenor_months
    if approved:
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= endorsed:
            errors["approved_amount"] = [
                N_("Must be between Rp1 and the endorsed %(endorsed)s.", endorsed=rupiah(endorsed))
            ]
        if bps is None:
            errors["rate_percent"] = [
                N_("Must be a yearly rate between 0 and 100 percent, with at most two decimals.")
            ]
        limit = max(
            app.scheme.max_tenor_working_capital_months, app.scheme.max_tenor_investment_months
        )
        if isinstance(tenor, bool) or not isinstance(tenor, int) or not 0 < tenor <= limit:
            errors["tenor_months"] = [N_("Must be between 1 and %(limit)s months.", limit=limit)]
        elif tenor <= app.grace_months:
            errors["tenor_months"] = [
                N_(
                    "Must be longer than the %(grace_months)s months of grace.",
                    grace_months=app.grace_months,
                )
            ]
    if errors:
        raise ValidationFailed(
            N_("The lender's decision cannot be recorded as given."), errors=errors
        )
    app.lender_reference = reference or None
    if approved:
        app.approved_amount = amount
        app.lender_rate_bps = bps
        app.lender_tenor_months = tenor
    target = LoanStatus.lender_approved if approved else LoanStatus.lender_declined
    move(session, actor, app, (LoanStatus.approved,), target, action)
    if approved:
        decide(
            session,
            actor,
            app,
            DecisionKind.lender_approved,
            note=note,
            amount=amount,
            rate_bps=bps,
            rate_percent=float(Decimal(bps or 0) / 100),  # set whenever approved
            tenor_months=tenor,
            reference=reference or None,
            lender_id=app.lender_id,
        )
    else:
        decide(
            session,
            actor,
            app,
            DecisionKind.lender_declined,
            note=note,
            reference=reference or None,
            lender_id=app.lender_id,
        )
    return app
