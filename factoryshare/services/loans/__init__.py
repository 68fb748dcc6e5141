"""KUR Klaster loan applications: guarded, audited workflow.

draft -> submitted (the aggregator or the cluster's chair submits; checked against the scheme)
submitted -> approved | rejected | changes_requested (the cluster's aggregator endorses;
    above the aggregator's approval limit two different people must approve)
changes_requested -> submitted
approved -> lender_approved | lender_declined (the lender the application is put to decides,
    through one of its officers, with its reference, amount, rate and term)
lender_approved -> disbursing (the lender; each tranche too)

Each step is a decision on record (`loan_decisions`: who, in which role, when, note, terms);
the applicant's notes stay as the applicant wrote them. A production request or a booking
finances at most one live application or loan (`LIVE_FINANCING`), only at the cluster's
house and only of members who accepted the cluster; every rule a plan breaks is named at once.

Every step loads the application with its row locked and its status read after the lock
(factoryshare/locking.py): of two decisions at once (an approval and a rejection) one wins and
the other answers 409 `invalid_transition` naming the status the first one left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from factoryshare import audit, events, i18n, locking, validation
from factoryshare.access import Actor, get_scoped, register_scope, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Machine, Member, ProductionHouse, Role, machine_capabilities
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import (
    DecisionKind,
    Installment,
    InstallmentStatus,
    KurScheme,
    KurSchemeCode,
    LoanApplication,
    LoanDecision,
    LoanPlanLink,
    LoanPrepayment,
    LoanShare,
    LoanStatus,
    LoanTranche,
    PrepaymentMode,
    Repayment,
    RepaymentSource,
)
from factoryshare.models.members import Cluster, cluster_members
from factoryshare.models.scheduling import ProductionRequest, RequestStatus
from factoryshare.services import clusters, kur, lenders, repayment
from factoryshare.services.repayment import annuity_schedule


def _scope(actor: Actor) -> Any:
    if actor.role is Role.lender:
        # The applications put to its institution, once the applicant sent them.
        return (LoanApplication.lender_id == (actor.lender_id or 0)) & (
            LoanApplication.status != LoanStatus.draft)
    if actor.role is Role.aggregator:
        return LoanApplication.cluster_id.in_(
            select(Cluster.id).where(Cluster.aggregator_id == actor.aggregator_id)
        )
    if actor.role is Role.member:
        return LoanApplication.cluster_id.in_(
            select(cluster_members.c.cluster_id).where(
                cluster_members.c.member_id == actor.member_id
            )
        )
    if actor.role is Role.manager:
        # The clusters producing in the manager's houses, and any loan funding a booking there.
        return or_(
            LoanApplication.cluster_id.in_(
                select(Cluster.id).where(Cluster.house_id.in_(actor.house_ids))
            ),
            LoanApplication.id.in_(
                select(LoanPlanLink.loan_application_id)
                .join(Booking, Booking.id == LoanPlanLink.booking_id)
                .join(Machine, Machine.id == Booking.machine_id)
                .where(Machine.house_id.in_(actor.house_ids))
            ),
        )
    return LoanApplication.id.is_(None)


register_scope(LoanApplication, _scope)

_FIELDS = ("requested_amount", "tenor_months", "grace_months")


def _snapshot(app: LoanApplication) -> dict[str, Any]:
    return {
        "status": app.status.value,
        "requested_amount": app.requested_amount,
        "tenor_months": app.tenor_months,
        "grace_months": app.grace_months,
        "approved_amount": app.approved_amount,
        "lender_id": app.lender_id,
    }


def _check_terms(scheme: KurScheme, amount: Any, tenor: Any, grace: Any, *,
                 per_member: bool = False) -> None:
    """The terms against the scheme; with `per_member` the ceiling is checked per member share."""
    errors = _term_errors(scheme, amount, tenor, grace, per_member=per_member)
    if errors:
        raise ValidationFailed(N_("The loan terms break the scheme's rules."), errors=errors)


def _term_errors(scheme: KurScheme, amount: Any, tenor: Any, grace: Any, *,
                 per_member: bool = False) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or amount <= 0:
        errors["requested_amount"] = [N_("Must be a positive whole number of rupiah.")]
    elif amount > scheme.ceiling and not per_member:
        errors["requested_amount"] = [f"{scheme.name} lends at most Rp{scheme.ceiling:,}.".replace(",", ".")]
    limit = max(scheme.max_tenor_working_capital_months, scheme.max_tenor_investment_months)
    if not isinstance(tenor, int) or tenor < 1 or tenor > limit:
        errors["tenor_months"] = [N_("Must be between 1 and %(limit)s months.", limit=limit)]
    if not isinstance(grace, int) or grace < 0:
        errors["grace_months"] = [N_("Must be zero or more months.")]
    elif isinstance(tenor, int) and grace >= tenor:
        errors["grace_months"] = [N_("Must be shorter than the tenor.")]
    return errors


def _may_apply_for(actor: Actor, cluster: Cluster) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.aggregator:
        return cluster.aggregator_id == actor.aggregator_id
    if actor.role is Role.member:
        return cluster.chair_member_id is not None and cluster.chair_member_id == actor.member_id
    return False


def create(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int,
    requested_amount: int,
    tenor_months: int,
    grace_months: int = 0,
    notes: str = "",
    on: dt.date | None = None,
    lender_id: int | None = None,
) -> LoanApplication:
    actor.require(Role.admin, Role.aggregator, Role.member)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    if not _may_apply_for(actor, cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may apply for its loan."))
    scheme = kur.scheme_in_force(session, KurSchemeCode.khusus, on or dt.date.today())
    _check_terms(scheme, requested_amount, tenor_months, grace_months)
    if lender_id is not None:
        lenders.require_lender(session, lender_id)
    app = LoanApplication(
        lender_id=lender_id,
        cluster_id=cluster.id,
        scheme_id=scheme.id,
        status=LoanStatus.draft,
        requested_amount=requested_amount,
        tenor_months=tenor_months,
        grace_months=grace_months,
        notes=notes,
        created_by_id=actor.user_id,
    )
    session.add(app)
    session.flush()
    audit.record(session, actor, "loan_application.created", app, after=_snapshot(app))
    return app


def get(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    return get_scoped(session, actor, LoanApplication, application_id)


def _for_change(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    """The application in the caller's scope, its row locked and its status read after the lock."""
    return locking.for_update(session, actor, LoanApplication, application_id)


def list_applications(session: Session, actor: Actor) -> list[LoanApplication]:
    return list(session.scalars(scoped(actor, LoanApplication).order_by(LoanApplication.id)))


def update(session: Session, actor: Actor, application_id: int, **changes: Any) -> LoanApplication:
    app = _for_change(session, actor, application_id)
    if not _may_apply_for(actor, app.cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may edit its application."))
    locking.require_state(app, (LoanStatus.draft, LoanStatus.changes_requested),
                          N_("Only a draft or an application sent back for changes can be edited."),
                          action="updated")
    before = _snapshot(app)
    values = {f: changes.get(f, getattr(app, f)) for f in _FIELDS}
    planned = session.scalar(select(LoanShare.id).where(LoanShare.loan_application_id == app.id)) is not None
    _check_terms(app.scheme, values["requested_amount"], values["tenor_months"], values["grace_months"],
                 per_member=planned)
    for name, value in values.items():
        setattr(app, name, value)
    if "notes" in changes:
        app.notes = changes["notes"]
    if "lender_id" in changes:
        if changes["lender_id"] is not None:
            lenders.require_lender(session, changes["lender_id"])
        app.lender_id = changes["lender_id"]
    session.flush()
    audit.record(session, actor, "loan_application.updated", app, before=before, after=_snapshot(app))
    return app


def _move(session: Session, actor: Actor, app: LoanApplication, allowed: tuple[LoanStatus, ...],
          target: LoanStatus, action: str) -> LoanApplication:
    locking.require_state(app, allowed,
                          N_("An application that is %(status)s cannot be %(action)s.",
                             status=i18n.status(app.status), action=i18n.status(action)),
                          action=action)
    before = _snapshot(app)
    app.status = target
    session.flush()
    audit.record(session, actor, f"loan_application.{_AUDIT_VERBS.get(action, action)}", app,
                 before=before, after=_snapshot(app))
    return app


# Steps named by the status they enter, and their audit action in the past tense.
_AUDIT_VERBS = {"disbursing": "disbursement_started", "repaying": "repayment_started"}


def _decide(session: Session, actor: Actor, app: LoanApplication, kind: DecisionKind,
            note: str = "", **terms: Any) -> LoanDecision:
    """Put one decision on record: who (user and role), when, what, why and on which terms."""
    decision = LoanDecision(
        loan_application_id=app.id, kind=kind, decided_by_id=actor.user_id,
        role=actor.role.value, decided_at=utcnow(), note=note or "",
        terms={k: v for k, v in terms.items() if v is not None})
    session.add(decision)
    session.flush()
    events.publish(session, "loan_decided", application=app, decision=decision, actor=actor)
    return decision


def _check_note(note: Any, field: str) -> str:
    if not isinstance(note, str):
        raise ValidationFailed(N_("The note is not text."), errors={field: [N_("Must be text.")]})
    if len(note) > 1000:
        raise ValidationFailed(N_("The note is too long."), errors={field: [N_("At most 1000 characters.")]})
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
    return list(session.scalars(select(LoanDecision).where(
        LoanDecision.loan_application_id == app.id).order_by(LoanDecision.decided_at, LoanDecision.id)))


def submit(session: Session, actor: Actor, application_id: int, *,
           lender_id: int | None = None) -> LoanApplication:
    """Send the application to the aggregator (naming the lender it is put to, if given).

    The terms, the plan's per-member rules and its requests and bookings (financed by no
    other live application, at the cluster's house, of members who accepted) are checked
    again under the application's and the bookings' row locks; every broken rule is named."""
    app = _for_change(session, actor, application_id)
    if not _may_apply_for(actor, app.cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may submit its application."))
    locking.require_state(app, (LoanStatus.draft, LoanStatus.changes_requested),
                          N_("An application that is %(status)s cannot be submitted.",
                             status=i18n.status(app.status)),
                          action="submitted")
    plan = list(session.scalars(select(LoanShare).where(LoanShare.loan_application_id == app.id)))
    errors = _term_errors(app.scheme, app.requested_amount, app.tenor_months, app.grace_months,
                          per_member=bool(plan))
    if lender_id is not None:
        try:
            lenders.require_lender(session, lender_id)
        except ValidationFailed as err:
            errors.update(err.errors)
    if plan:
        errors.update(_linked_item_errors(session, app))
        for field, problems in plan_problems(session, app, plan).items():
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationFailed(N_("The application breaks the KUR rules."), errors=errors)
    if lender_id is not None:
        app.lender_id = lender_id
    _move(session, actor, app, (LoanStatus.draft, LoanStatus.changes_requested),
          LoanStatus.submitted, "submitted")
    _decide(session, actor, app, DecisionKind.submitted, amount=app.requested_amount,
            tenor_months=app.tenor_months, grace_months=app.grace_months,
            lender_id=app.lender_id)
    return app


def _endorser(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    actor.require(Role.admin, Role.aggregator)
    return _for_change(session, actor, application_id)


def approve(session: Session, actor: Actor, application_id: int,
            approved_amount: int | None = None) -> LoanApplication:
    app = _endorser(session, actor, application_id)
    locking.require_state(app, (LoanStatus.submitted,),
                          N_("An application that is %(status)s cannot be approved.",
                             status=i18n.status(app.status)),
                          action="approved")
    amount = app.requested_amount if approved_amount is None else approved_amount
    if not isinstance(amount, int) or amount <= 0 or amount > app.requested_amount:
        raise ValidationFailed(N_("The approved amount is not possible."), errors={
            "approved_amount": [N_("Must be positive and at most the requested amount.")]})
    limit = app.cluster.aggregator.approval_limit
    if app.approved_by_id is None:
        app.approved_by_id = actor.user_id
        app.approved_amount = amount
        if amount > limit:
            session.flush()
            audit.record(session, actor, "loan_application.first_approved", app,
                         after=_snapshot(app))
            _decide(session, actor, app, DecisionKind.endorsed, amount=amount,
                    approvals_needed=2, approval=1)
            return app  # a second, different approver is needed
    else:
        if app.approved_by_id == actor.user_id:
            raise Conflict(N_("The second approval must come from someone else."),
                           code="same_approver")
        app.second_approved_by_id = actor.user_id
        app.approved_amount = min(amount, app.approved_amount or amount)
        _move(session, actor, app, (LoanStatus.submitted,), LoanStatus.approved, "approved")
        _decide(session, actor, app, DecisionKind.endorsed, amount=app.approved_amount,
                approvals_needed=2, approval=2)
        return app
    _move(session, actor, app, (LoanStatus.submitted,), LoanStatus.approved, "approved")
    _decide(session, actor, app, DecisionKind.endorsed, amount=amount, approvals_needed=1,
            approval=1)
    return app


def reject(session: Session, actor: Actor, application_id: int, reason: str = "") -> LoanApplication:
    """Reject; the reason is the decision's note (the applicant's notes stay as written)."""
    app = _endorser(session, actor, application_id)
    reason = _check_reason(reason, "reason",
                           N_("Write a note saying why the application is rejected."))
    _move(session, actor, app, (LoanStatus.submitted,), LoanStatus.rejected, "rejected")
    _decide(session, actor, app, DecisionKind.rejected, note=reason, amount=app.requested_amount)
    return app


def request_changes(session: Session, actor: Actor, application_id: int,
                    reason: str = "") -> LoanApplication:
    """Send back for changes; the reason is the decision's note, not the applicant's notes."""
    app = _endorser(session, actor, application_id)
    reason = _check_reason(reason, "reason", N_("Write a note saying what should change."))
    locking.require_state(app, (LoanStatus.submitted,),
                          N_("An application that is %(status)s cannot be sent back.",
                             status=i18n.status(app.status)),
                          action="sent_back")
    app.approved_by_id = None
    app.approved_amount = None
    _move(session, actor, app, (LoanStatus.submitted,), LoanStatus.changes_requested, "sent_back")
    _decide(session, actor, app, DecisionKind.changes_requested, note=reason,
            amount=app.requested_amount)
    return app


def _require_lender(actor: Actor, what: str) -> None:
    """Only the lender's officers (and the service itself: scheduler, CLI, demo) may; an
    admin or an aggregator may not take the bank's decisions. The application's scope then
    limits an officer to the applications put to its own institution (404 otherwise)."""
    if actor.role is not Role.lender and not actor.is_system:
        raise Forbidden(N_("Only the lender the application is put to may %(what)s.", what=what))


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


def lender_decision(session: Session, actor: Actor, application_id: int, approved: bool, *,
                    reference: str | None = None, approved_amount: int | None = None,
                    rate_percent: Any = None, tenor_months: int | None = None,
                    note: str = "") -> LoanApplication:
    """The lender's credit decision on an endorsed application, with the bank's reference
    number and, when it approves, the amount (at most the endorsed one), the yearly rate and
    the term it grants (the endorsed amount, the scheme's rate and the applied-for term when
    not given). Every field that is wrong is named at once."""
    _require_lender(actor, N_("record its decision"))
    app = _for_change(session, actor, application_id)
    action = "lender_approved" if approved else "lender_declined"
    locking.require_state(app, (LoanStatus.approved,),
                          N_("An application that is %(status)s cannot be %(action)s.",
                             status=i18n.status(app.status), action=i18n.status(action)),
                          action=action)
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
                N_("Must be between Rp1 and the endorsed %(endorsed)s.", endorsed=rupiah(endorsed))]
        if bps is None:
            errors["rate_percent"] = [N_("Must be a yearly rate between 0 and 100 percent, "
                                      "with at most two decimals.")]
        limit = max(app.scheme.max_tenor_working_capital_months,
                    app.scheme.max_tenor_investment_months)
        if isinstance(tenor, bool) or not isinstance(tenor, int) or not 0 < tenor <= limit:
            errors["tenor_months"] = [N_("Must be between 1 and %(limit)s months.", limit=limit)]
        elif tenor <= app.grace_months:
            errors["tenor_months"] = [N_("Must be longer than the %(grace_months)s months of "
                                         "grace.",
                                         grace_months=app.grace_months)]
    if errors:
        raise ValidationFailed(N_("The lender's decision cannot be recorded as given."), errors=errors)
    app.lender_reference = reference or None
    if approved:
        app.approved_amount = amount
        app.lender_rate_bps = bps
        app.lender_tenor_months = tenor
    target = LoanStatus.lender_approved if approved else LoanStatus.lender_declined
    _move(session, actor, app, (LoanStatus.approved,), target, action)
    if approved:
        _decide(session, actor, app, DecisionKind.lender_approved, note=note, amount=amount,
                rate_bps=bps, rate_percent=float(Decimal(bps) / 100), tenor_months=tenor,
                reference=reference or None, lender_id=app.lender_id)
    else:
        _decide(session, actor, app, DecisionKind.lender_declined, note=note,
                reference=reference or None, lender_id=app.lender_id)
    return app


def disburse(session: Session, actor: Actor, application_id: int,
             on: dt.date | None = None, amount: int | None = None) -> LoanApplication:
    """Start disbursing. Nothing is owed until money is paid out: the first tranche (with
    `amount`, paid out at once on `on`; the whole loan when it is the approved amount) builds
    the schedule, its installments due monthly from a month after it (services/repayment.py).
    """
    _require_lender(actor, N_("disburse its loan"))
    app = _for_change(session, actor, application_id)
    start = on or today(session, app)
    if amount is not None:
        _check_tranche(session, app, amount, already=0)
        _check_tranche_date(session, app, start)
    _move(session, actor, app, (LoanStatus.lender_approved,), LoanStatus.disbursing, "disbursing")
    if amount is not None:
        add_tranche(session, actor, app.id, amount, on=start)
    return app


def lock(session: Session, app: LoanApplication) -> None:
    """Serialise money movements on one loan (PostgreSQL row lock; SQLite has one writer),
    reading the application's status and amounts again after the lock."""
    locking.refresh_for_update(session, app)


def disbursed_total(session: Session, app: LoanApplication) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LoanTranche.amount), 0)).where(
        LoanTranche.loan_application_id == app.id)) or 0)


def tranches(session: Session, actor: Actor, application_id: int) -> list[LoanTranche]:
    app = get(session, actor, application_id)
    return list(session.scalars(select(LoanTranche).where(
        LoanTranche.loan_application_id == app.id).order_by(LoanTranche.disbursed_on, LoanTranche.id)))


def _check_tranche(session: Session, app: LoanApplication, amount: Any, *, already: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(N_("The tranche is not possible."), errors={
            "amount": [N_("Must be a positive whole number of rupiah.")]})
    approved = app.approved_amount or 0
    if already + amount > approved:
        left = approved - already
        message = N_("Only %(left)s of the approved %(approved)s remain to disburse.",
                     left=rupiah(left), approved=rupiah(approved))
        raise Conflict(message, code="beyond_approved_amount", errors={"amount": [message]})


def add_tranche(session: Session, actor: Actor, application_id: int, amount: int,
                on: dt.date | None = None) -> LoanTranche:
    """Pay out one tranche on `on` (today when not given); never beyond the approved amount,
    never before the lender's approval or in the future. The schedule is rebuilt from its date
    (services/repayment.py); the last tranche starts repayment."""
    _require_lender(actor, N_("pay out its tranches"))
    app = _for_change(session, actor, application_id)
    locking.require_state(app, (LoanStatus.disbursing,),
                          N_("A loan that is %(status)s cannot be disbursed.",
                             status=i18n.status(app.status)),
                          action="disbursed")
    already = disbursed_total(session, app)
    _check_tranche(session, app, amount, already=already)
    on = on or today(session, app)
    _check_tranche_date(session, app, on)
    tranche = LoanTranche(loan_application_id=app.id, amount=amount,
                          disbursed_on=on, recorded_by_id=actor.user_id)
    session.add(tranche)
    session.flush()
    _rebuild(session, app, on)
    audit.record(session, actor, "loan_tranche.disbursed", tranche, after={
        "loan_application_id": app.id, "amount": amount,
        "disbursed_on": tranche.disbursed_on.isoformat(), "disbursed_total": already + amount})
    _decide(session, actor, app, DecisionKind.tranche, amount=amount, tranche_id=tranche.id,
            disbursed_on=tranche.disbursed_on.isoformat(), disbursed_total=already + amount)
    if already + amount == app.approved_amount:
        _move(session, actor, app, (LoanStatus.disbursing,), LoanStatus.repaying, "repaying")
        _settle(session, actor, app)
    return tranche


def installments(session: Session, actor: Actor, application_id: int) -> list[Installment]:
    app = get(session, actor, application_id)
    return list(session.scalars(
        select(Installment).where(Installment.loan_application_id == app.id)
        .order_by(Installment.number)
    ))


def mark_installments_due(session: Session, today: dt.date) -> dict[str, int]:
    """Unpaid installments past their due date become overdue with their days in arrears.

    Idempotent: running it again on the same day changes nothing.
    """
    changed = 0
    for inst in session.scalars(select(Installment).where(
        Installment.status != InstallmentStatus.paid, Installment.due_date < today
    )):
        days = (today - inst.due_date).days
        if inst.status is not InstallmentStatus.overdue or inst.days_in_arrears != days:
            if inst.status is not InstallmentStatus.overdue:
                changed += 1
            inst.status = InstallmentStatus.overdue
            inst.days_in_arrears = days
    session.flush()
    return {"newly_overdue": changed}


def schedule(app: LoanApplication, first_due: dt.date | None = None):  # type: ignore[no-untyped-def]
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


def record_repayment(session: Session, actor: Actor, application_id: int, number: int,
                     amount: int, source: str = "direct", on: dt.date | None = None) -> Installment:
    """Record money received on `on` (today when not given) for installment `number`; fully
    paid installments become paid. Not dated in the future, nor before the loan's first
    tranche (422 naming `on`)."""
    actor.require(Role.admin, Role.aggregator)
    app = get(session, actor, application_id)
    lock(session, app)
    inst = session.scalars(select(Installment).where(
        Installment.loan_application_id == app.id, Installment.number == number)
        .execution_options(populate_existing=True)).first()
    if inst is None:
        raise ValidationFailed(N_("No such installment."), errors={"number": [N_("No installment with this number.")]})
    outstanding = inst.amount - inst.paid
    if not isinstance(amount, int) or amount <= 0 or amount > outstanding:
        raise ValidationFailed(N_("The amount is not possible."), errors={
            "amount": [f"Must be between 1 and the outstanding Rp{outstanding:,}.".replace(",", ".")]})
    on = on or today(session, app)
    _check_repayment_date(session, app, on)
    return apply_repayment(session, actor, app, inst, amount, RepaymentSource(source), paid_on=on)


def apply_repayment(session: Session, actor: Actor, app: LoanApplication, inst: Installment,
                    amount: int, source: RepaymentSource, *,
                    offtake_purchase_id: int | None = None,
                    paid_on: dt.date | None = None) -> Installment:
    """Book `amount` (already checked against what is outstanding) on one installment.

    A fully paid installment becomes paid; the loan is repaying from its first repayment and
    closed once every installment is paid and the approved amount is fully disbursed.
    """
    before = {"paid": inst.paid, "status": inst.status.value}
    session.add(Repayment(installment_id=inst.id, amount=amount, source=source,
                          recorded_by_id=actor.user_id, offtake_purchase_id=offtake_purchase_id,
                          paid_on=paid_on or today(session, app)))
    inst.paid += amount
    if inst.paid == inst.amount:
        inst.status = InstallmentStatus.paid
        inst.days_in_arrears = 0
    session.flush()
    audit.record(session, actor, "installment.repaid", inst, before=before,
                 after={"paid": inst.paid, "status": inst.status.value, "source": source.value})
    _settle(session, actor, app)
    return inst


def _settle(session: Session, actor: Actor, app: LoanApplication) -> None:
    unpaid = session.scalar(select(func.count()).select_from(Installment).where(
        Installment.loan_application_id == app.id, Installment.status != InstallmentStatus.paid))
    if unpaid == 0 and disbursed_total(session, app) >= (app.approved_amount or 0):
        if app.status is not LoanStatus.closed:
            _move(session, actor, app, (LoanStatus.disbursing, LoanStatus.repaying),
                  LoanStatus.closed, "closed")

# --- Loan accounting: dates, the schedule rebuilt at each tranche, early repayment ----------
# The rules and a worked example are in services/repayment.py's docstring.

DEFAULT_ZONE = "Asia/Jakarta"


def _zone(session: Session, app: LoanApplication) -> ZoneInfo:
    """The zone the loan's dates are read in: its cluster's house, else WIB."""
    house_id = app.cluster.house_id if app.cluster is not None else None
    house = session.get(ProductionHouse, house_id) if house_id else None
    return ZoneInfo(house.timezone if house is not None and house.timezone else DEFAULT_ZONE)


def today(session: Session, app: LoanApplication) -> dt.date:
    """Today where the loan is (the clock is `utcnow`, fixed in tests)."""
    return utcnow().astimezone(_zone(session, app)).date()


def loan_terms(app: LoanApplication) -> tuple[int, int]:
    """The yearly rate (basis points) and term (months) the loan runs on: the lender's, else
    the scheme's rate and the applied-for term."""
    rate = app.lender_rate_bps if app.lender_rate_bps is not None else app.scheme.annual_rate_bps
    return rate, app.lender_tenor_months or app.tenor_months


def approved_on(session: Session, app: LoanApplication) -> dt.date | None:
    """The day (where the loan is) of the lender's approval on record, if there is one."""
    at = session.scalar(select(func.max(LoanDecision.decided_at)).where(
        LoanDecision.loan_application_id == app.id,
        LoanDecision.kind == DecisionKind.lender_approved))
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(_zone(session, app)).date()


def _balance_changes(session: Session, app: LoanApplication) -> list[tuple[dt.date, int]]:
    """Every change of the principal outstanding but the installments': (date, +tranche or
    -early repayment's principal), in date order."""
    changes = [(t.disbursed_on, t.amount) for t in session.scalars(
        select(LoanTranche).where(LoanTranche.loan_application_id == app.id))]
    changes += [(p.paid_on, -p.principal) for p in session.scalars(
        select(LoanPrepayment).where(LoanPrepayment.loan_application_id == app.id))]
    return sorted(changes)


def first_tranche_on(session: Session, app: LoanApplication) -> dt.date | None:
    return session.scalar(select(func.min(LoanTranche.disbursed_on)).where(
        LoanTranche.loan_application_id == app.id))


def _last_change_on(session: Session, app: LoanApplication) -> dt.date | None:
    changes = _balance_changes(session, app)
    return changes[-1][0] if changes else None


def _rows(session: Session, app: LoanApplication) -> list[Installment]:
    return list(session.scalars(select(Installment).where(
        Installment.loan_application_id == app.id).order_by(Installment.number)
        .execution_options(populate_existing=True)))


def _periods(rows: list[Installment], first_on: dt.date) -> list[tuple[dt.date, dt.date]]:
    starts = [first_on] + [r.due_date for r in rows[:-1]]
    return list(zip(starts, [r.due_date for r in rows]))


def _frozen(rows: list[Installment], on: dt.date) -> int:
    """How many installments stay as they are on `on`: those due by then and those paid (even
    in part) in advance, with every one before them."""
    return max((r.number for r in rows if r.due_date <= on or r.paid > 0), default=0)


def _as_row(inst: Installment, start: dt.date) -> repayment.Row:
    return repayment.Row(number=inst.number, start=start, due=inst.due_date,
                         principal=inst.principal, interest=inst.interest)


def _date_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def _check_date(value: Any, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _date_error(field, N_("Give a date."))
    return value


def _check_tranche_date(session: Session, app: LoanApplication, on: Any) -> None:
    """A tranche is dated on or after the lender's approval and the loan's last money
    movement, not in the future, and before the last installment falls due."""
    on = _check_date(on, "on")
    now = today(session, app)
    if on > now:
        raise _date_error("on", N_("A tranche cannot be dated in the future (today is %(now)s).",
                                   now=now))
    approved = approved_on(session, app)
    if approved is not None and on < approved:
        raise _date_error("on", N_("A tranche cannot predate the lender's approval on "
                                   "%(approved)s.",
                                   approved=approved))
    last = _last_change_on(session, app)
    if last is not None and on < last:
        raise _date_error("on", N_("A tranche cannot predate the loan's last tranche or early "
                                   "repayment, on %(last)s.",
                                   last=last))
    rows = _rows(session, app)
    if rows and _frozen(rows, on) >= rows[-1].number:
        raise _date_error("on", N_("The loan's last installment falls due on %(due_date)s: no "
                                   "installment is left to repay a tranche from that day.",
                                   due_date=rows[-1].due_date))


def _check_repayment_date(session: Session, app: LoanApplication, on: Any,
                          field: str = "on") -> None:
    """Money is received on or after the loan's first tranche and not in the future."""
    on = _check_date(on, field)
    now = today(session, app)
    if on > now:
        raise _date_error(field, N_("A repayment cannot be dated in the future (today is "
                                    "%(now)s).", now=now))
    first = first_tranche_on(session, app)
    if first is None or on < first:
        when = f"on {first}" if first else "yet"
        raise _date_error(field, N_("A repayment cannot predate the loan's disbursement (its "
                                    "first tranche was paid out %(when)s).",
                                    when=when))


def _rebuild(session: Session, app: LoanApplication, on: dt.date, *,
             level: int | None = None) -> list[Installment]:
    """Rebuild the open installments after a balance change on `on` (repayment.reschedule)."""
    rows = _rows(session, app)
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
    new, _level = repayment.reschedule(periods=periods, frozen=frozen, changes=changes,
                                       annual_rate_bps=rate, grace_months=app.grace_months,
                                       level=level)
    by_number = {r.number: r for r in rows}
    kept: list[Installment] = []
    for row in new:
        inst = by_number.pop(row.number, None)
        if inst is None:
            inst = Installment(loan_application_id=app.id, number=row.number, due_date=row.due,
                               paid=0, status=InstallmentStatus.due, days_in_arrears=0)
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


def _payoff(session: Session, app: LoanApplication, on: dt.date,
            rows: list[Installment]) -> tuple[Payoff, int]:
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


def payoff(session: Session, actor: Actor, application_id: int,
           on: dt.date | None = None) -> Payoff:
    """What closes the loan on `on`: the principal outstanding and the interest accrued."""
    app = _loan(session, actor, application_id)
    on = on or today(session, app)
    return _payoff(session, app, on, _rows(session, app))[0]


def prepay(session: Session, actor: Actor, application_id: int, amount: int, *,
           on: dt.date | None = None, mode: str = "shorten_term") -> LoanPrepayment:
    """Early repayment on `on` (today when not given), the aggregator's choice recorded:

    - `shorten_term`: principal only; the level installment stays and the last installments go;
    - `lower_installment`: principal only; as many installments, each lower;
    - `full` (or an amount equal to the payoff, whatever the mode): the principal outstanding
      and the interest accrued to that day; the loan is closed.

    Installments already due must be paid first (409 `installments_due_first`), and one paid in
    part in advance finished (409 `installment_partly_paid`).
    """
    actor.require(Role.admin, Role.aggregator)
    app = _require_loan(_for_change(session, actor, application_id))
    locking.require_state(app, (LoanStatus.disbursing, LoanStatus.repaying),
                          N_("A loan that is %(status)s cannot be repaid early.",
                             status=i18n.status(app.status)),
                          action="prepaid")
    modes = [m.value for m in PrepaymentMode]
    if mode not in modes:
        raise ValidationFailed(N_("The mode is not known."), errors={
            "mode": [N_("Must be one of %(modes)s.", modes=', '.join(modes))]})
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(N_("The amount is not possible."), errors={
            "amount": [N_("Must be a positive whole number of rupiah.")]})
    on = on or today(session, app)
    _check_repayment_date(session, app, on)
    last = _last_change_on(session, app)
    if last is not None and on < last:
        raise _date_error("on", N_("An early repayment cannot predate the loan's last tranche "
                                   "or early repayment, on %(last)s.",
                                   last=last))
    rows = _rows(session, app)
    due = [r for r in rows if r.due_date <= on and r.paid < r.amount]
    if due:
        owed = sum(r.amount - r.paid for r in due)
        raise Conflict(N_("Installments already due must be paid first: %(amount)s.",
                          amount=rupiah(owed)), code="installments_due_first",
                       details={"numbers": [r.number for r in due], "amount": owed})
    partly = [r for r in rows if r.due_date > on and 0 < r.paid < r.amount]
    if partly:
        raise Conflict(N_("Installment %(number)s is paid in part: finish paying it first.",
                          number=partly[0].number),
                       code="installment_partly_paid", details={"number": partly[0].number})
    quote, f = _payoff(session, app, on, rows)
    if quote.principal <= 0 or f >= len(rows):
        raise Conflict(N_("Nothing is left to repay early."), code="nothing_outstanding")
    full = mode == PrepaymentMode.full.value or amount == quote.amount
    if full and amount != quote.amount:
        raise ValidationFailed(N_("The amount does not close the loan."), errors={"amount": [(
            N_("Repaying the loan in full on %(on)s takes %(amount)s (%(principal)s principal, "
               "%(interest)s interest).",
               on=on, amount=rupiah(quote.amount), principal=rupiah(quote.principal), interest=rupiah(quote.interest)))]})
    if not full and amount >= quote.principal:
        raise ValidationFailed(N_("The amount is not possible."), errors={"amount": [(
            N_("An early repayment is less than the principal outstanding, %(principal)s; "
               "%(amount)s on %(on)s closes the loan.",
               principal=rupiah(quote.principal), amount=rupiah(quote.amount), on=on))]})
    before = {"status": app.status.value,
              "installments": [[r.number, r.principal, r.interest] for r in rows[f:]]}
    if full:
        prepayment = LoanPrepayment(loan_application_id=app.id, paid_on=on, amount=amount,
                                    principal=quote.principal, interest=quote.interest,
                                    mode=PrepaymentMode.full, recorded_by_id=actor.user_id)
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
        prepayment = LoanPrepayment(loan_application_id=app.id, paid_on=on, amount=amount,
                                    principal=amount, interest=0, mode=PrepaymentMode(mode),
                                    recorded_by_id=actor.user_id)
        session.add(prepayment)
        session.flush()
        after = [[r.number, r.principal, r.interest] for r in _rebuild(session, app, on, level=level)]
    audit.record(session, actor, "loan.prepaid", prepayment, before=before, after={
        **audit.snapshot(prepayment), "installments": after})
    if full:
        _move(session, actor, app, (LoanStatus.disbursing, LoanStatus.repaying),
              LoanStatus.closed, "closed")
    return prepayment


def prepayments(session: Session, actor: Actor, application_id: int) -> list[LoanPrepayment]:
    app = get(session, actor, application_id)
    return list(session.scalars(select(LoanPrepayment).where(
        LoanPrepayment.loan_application_id == app.id).order_by(LoanPrepayment.paid_on,
                                                               LoanPrepayment.id)))


def installment_days_past_due(session: Session, app: LoanApplication, rows: list[Installment],
                              on: dt.date) -> dict[int, int]:
    """Days past due of each installment on `on`: days since its due date while the money
    received for it by then is less than its amount (0 when paid by then or not yet due)."""
    ids = [r.id for r in rows]
    paid_by: dict[int, int] = {}
    if ids:
        for inst_id, amount, paid_on, recorded_at in session.execute(select(
                Repayment.installment_id, Repayment.amount, Repayment.paid_on,
                Repayment.recorded_at).where(Repayment.installment_id.in_(ids))):
            day = paid_on or recorded_at.astimezone(_zone(session, app)).date()
            if day <= on:
                paid_by[inst_id] = paid_by.get(inst_id, 0) + amount
    return {r.number: ((on - r.due_date).days
                       if r.due_date < on and paid_by.get(r.id, 0) < r.amount else 0)
            for r in rows}


# --- The application built from the cluster's production plan -------------------------------

MAX_PLAN_ITEMS = 500
PLAN_BOOKING_STATUSES = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.completed)
PLAN_REQUEST_STATUSES = (RequestStatus.open, RequestStatus.scheduled)


def _request_minutes_and_cost(session: Session, request: ProductionRequest) -> tuple[int, int]:
    """A request's machine minutes and their cost at the cheapest capable machine of its house."""
    minutes = cost = 0
    for op in request.operations:
        rate = session.scalar(
            select(func.min(Machine.hourly_rate))
            .join(machine_capabilities, machine_capabilities.c.machine_id == Machine.id)
            .where(Machine.house_id == request.house_id,
                   machine_capabilities.c.capability_id == op.capability_id)
        ) or 0
        minutes += op.minutes
        cost += (op.minutes * rate + 30) // 60
    return minutes, cost


def _valid_npwp(value: str | None) -> bool:
    if not value:
        return False
    try:
        validation.npwp(value)
    except ValidationFailed:
        return False
    return True


def plan_problems(session: Session, app: LoanApplication, shares: list[LoanShare]) -> dict[str, list[str]]:
    """Every KUR rule the per-member shares break, keyed `shares[<member id>].<field>`."""
    scheme = app.scheme
    errors: dict[str, list[str]] = {}
    accepted = clusters.accepted_member_ids(app.cluster)
    pending = clusters.pending_member_names(session, app.cluster_id)
    for share in shares:
        member = session.get(Member, share.member_id)
        where = f"shares[{share.member_id}]"
        if member is None:
            continue
        if member.id not in accepted:  # a plan made before the member had to accept
            errors.setdefault(f"{where}.member_id", []).append(
                clusters.not_accepted_message(member.id, pending)
                or f"{member.business_name} (member {member.id}) is not in the cluster.")
        if share.amount > scheme.ceiling:
            errors.setdefault(f"{where}.amount", []).append(
                f"{member.business_name} may borrow at most Rp{scheme.ceiling:,} under {scheme.name}."
                .replace(",", "."))
        if scheme.npwp_required_above is not None and share.amount > scheme.npwp_required_above:
            if not member.npwp:
                errors.setdefault(f"{where}.npwp", []).append(
                    f"{member.business_name} needs an NPWP to borrow more than "
                    f"Rp{scheme.npwp_required_above:,}.".replace(",", "."))
            elif not _valid_npwp(member.npwp):
                errors.setdefault(f"{where}.npwp", []).append(
                    N_("%(business_name)s's NPWP is not valid.", business_name=member.business_name))
        if member.annual_turnover is not None and member.annual_turnover > scheme.turnover_cap:
            errors.setdefault(f"{where}.annual_turnover", []).append(
                f"{member.business_name}'s turnover is above the KUR cap of "
                f"Rp{scheme.turnover_cap:,} a year.".replace(",", "."))
    return errors


# A request or a booking finances one application or loan at a time: one that is not rejected,
# declined by the lender or closed ("withdrawn" is not a status of this workflow).
ENDED_FINANCING = (LoanStatus.rejected, LoanStatus.lender_declined, LoanStatus.closed)


def _financed_elsewhere(session: Session, app: LoanApplication, request_ids: list[int],
                        booking_ids: list[int]) -> tuple[dict[int, LoanApplication],
                                                         dict[int, LoanApplication]]:
    """The other live applications or loans already financing these requests and bookings."""
    by_request: dict[int, LoanApplication] = {}
    by_booking: dict[int, LoanApplication] = {}
    if not request_ids and not booking_ids:
        return by_request, by_booking
    rows = session.execute(
        select(LoanPlanLink.production_request_id, LoanPlanLink.booking_id, LoanApplication)
        .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
        .where(LoanApplication.id != app.id, LoanApplication.status.not_in(ENDED_FINANCING),
               or_(LoanPlanLink.production_request_id.in_(request_ids),
                   LoanPlanLink.booking_id.in_(booking_ids)))
        .order_by(LoanApplication.id))
    for request_id, booking_id, other in rows:
        if request_id is not None:
            by_request.setdefault(request_id, other)
        if booking_id is not None:
            by_booking.setdefault(booking_id, other)
    return by_request, by_booking


def _elsewhere_message(what: str, app: LoanApplication, other: LoanApplication) -> str:
    if other.status in LOAN_STATUSES:
        return N_("%(what)s is already financed by loan %(other)s (%(status)s); it cannot be "
                  "financed by loan application %(app)s as well.", what=what, other=other.id,
                  status=i18n.status(other.status), app=app.id)
    return N_("%(what)s is already financed by loan application %(other)s (%(status)s); it "
              "cannot be financed by loan application %(app)s as well.", what=what,
              other=other.id, status=i18n.status(other.status), app=app.id)


def _item_errors(session: Session, app: LoanApplication, request_ids: list[int],
                 booking_ids: list[int], *, check_status: bool = True,
                 ) -> tuple[dict[str, list[str]], dict[int, int], dict[int, int]]:
    """Every rule the plan's requests and bookings break, keyed `production_request_ids[i]` /
    `booking_ids[i]`, and the machine minutes and cost per member of the valid ones.

    The requests' and bookings' rows are locked first (in id order), so that two plans
    reaching for the same booking are serialised: the second one sees the first one's link.
    """
    cluster = app.cluster
    members = {m.id for m in cluster.members}  # those who accepted
    pending = clusters.pending_member_names(session, app.cluster_id)
    house = cluster.house_id
    errors: dict[str, list[str]] = {}
    minutes: dict[int, int] = {}
    machine_cost: dict[int, int] = {}
    requests = {r.id: r for r in locking.rows_for_update(session, ProductionRequest, request_ids)}
    bookings = {b.id: b for b in locking.rows_for_update(session, Booking, booking_ids)}
    by_request, by_booking = _financed_elsewhere(session, app, list(requests), list(bookings))

    def house_name(house_id: int) -> str:
        found = session.get(ProductionHouse, house_id)
        return found.name if found is not None else f"house {house_id}"

    for i, rid in enumerate(request_ids):
        request = requests.get(rid)
        where = f"production_request_ids[{i}]"
        if request is None or request.member_id not in members:
            # Absent or another business's: the same answer, so ids outside scope leak nothing.
            errors[where] = [(request and clusters.not_accepted_message(request.member_id, pending))
                             or N_("Production request %(id)s is not one of the cluster members'.",
                                   id=rid)]
            continue
        problems = []
        if check_status and request.status not in PLAN_REQUEST_STATUSES:
            problems.append(N_("Production request %(rid)s is %(status)s.",
                               rid=rid, status=i18n.status(request.status)))
        if house is not None and request.house_id != house:
            problems.append(N_("Production request %(rid)s is made at %(house_id)s, not at the "
                               "cluster's house %(house)s.",
                               rid=rid, house_id=house_name(request.house_id), house=house_name(house)))
        if rid in by_request:
            problems.append(_elsewhere_message(N_("Production request %(id)s", id=rid), app,
                                               by_request[rid]))
        if problems:
            errors[where] = problems
            continue
        m, c = _request_minutes_and_cost(session, request)
        minutes[request.member_id] = minutes.get(request.member_id, 0) + m
        machine_cost[request.member_id] = machine_cost.get(request.member_id, 0) + c

    for i, bid in enumerate(booking_ids):
        booking = bookings.get(bid)
        where = f"booking_ids[{i}]"
        if booking is None or booking.member_id not in members:
            errors[where] = [(booking and clusters.not_accepted_message(booking.member_id, pending))
                             or N_("Booking %(id)s is not one of the cluster members'.", id=bid)]
            continue
        problems = []
        if check_status and booking.status not in PLAN_BOOKING_STATUSES:
            problems.append(N_("Booking %(bid)s is %(status)s.",
                               bid=bid, status=i18n.status(booking.status)))
        if house is not None and booking.machine.house_id != house:
            problems.append(N_("Booking %(bid)s is at %(house_id)s, not at the cluster's house "
                               "%(house)s.",
                               bid=bid, house_id=house_name(booking.machine.house_id), house=house_name(house)))
        if bid in by_booking:
            problems.append(_elsewhere_message(N_("Booking %(id)s", id=bid), app, by_booking[bid]))
        if problems:
            errors[where] = problems
            continue
        m = int((booking.end_at - booking.start_at).total_seconds() // 60)
        minutes[booking.member_id] = minutes.get(booking.member_id, 0) + m
        machine_cost[booking.member_id] = machine_cost.get(booking.member_id, 0) + booking.price
    return errors, minutes, machine_cost


def _linked_item_errors(session: Session, app: LoanApplication) -> dict[str, list[str]]:
    """At submit: the plan's requests and bookings, checked again under their row locks."""
    links = list(session.scalars(select(LoanPlanLink).where(
        LoanPlanLink.loan_application_id == app.id, LoanPlanLink.linked_by == "plan")
        .order_by(LoanPlanLink.id)))
    request_ids = [link.production_request_id for link in links if link.production_request_id]
    booking_ids = [link.booking_id for link in links if link.booking_id]
    errors, _, _ = _item_errors(session, app, request_ids, booking_ids, check_status=False)
    return errors


def set_plan(session: Session, actor: Actor, application_id: int, *,
             production_request_ids: list[int] | None = None, booking_ids: list[int] | None = None,
             material_costs: dict[int, int] | None = None) -> LoanApplication:
    """Bundle the cluster's requests and bookings into the application (replacing its plan).

    Each member's share is its machine cost (booked hours x the machine's rate, requests at the
    cheapest capable machine) plus its declared material cost; the requested amount becomes
    their sum. Every broken rule is named at once.
    """
    # Locked like every other change of the application, so a plan edit racing a submit
    # either lands before it or finds the application submitted.
    app = _for_change(session, actor, application_id)
    if not _may_apply_for(actor, app.cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may build its plan."))
    if app.status not in (LoanStatus.draft, LoanStatus.changes_requested):
        raise Conflict(N_("Only a draft or an application sent back for changes can be edited."),
                       code="invalid_transition",
                       details={"action": "set_plan", "status": app.status.value})
    request_ids = list(dict.fromkeys(production_request_ids or []))
    booking_ids = list(dict.fromkeys(booking_ids or []))
    materials = dict(material_costs or {})
    members = {m.id for m in app.cluster.members}  # those who accepted
    pending = clusters.pending_member_names(session, app.cluster_id)
    if len(request_ids) + len(booking_ids) > MAX_PLAN_ITEMS:
        raise ValidationFailed(N_("The plan is too large."), errors={
            "production_request_ids": [N_("At most %(max_plan_items)s requests and bookings.",
                                          max_plan_items=MAX_PLAN_ITEMS)]})
    errors, minutes, machine_cost = _item_errors(session, app, request_ids, booking_ids)
    if not request_ids and not booking_ids:
        errors["production_request_ids"] = [N_("Give at least one production request or booking.")]

    for member_id, cost in materials.items():
        where = f"material_costs[{member_id}]"
        if member_id not in members:
            errors[where] = [clusters.not_accepted_message(member_id, pending)
                             or f"Member {member_id} is not in the cluster."]
        elif not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
            errors[where] = [N_("Must be zero or more whole rupiah.")]
            materials[member_id] = 0

    # The per-member rules are checked on what is valid of the plan, so that one 422 names
    # every rule broken: the items' and the ceilings, NPWP and turnover of the shares.
    shares = [
        LoanShare(member_id=mid, machine_minutes=minutes.get(mid, 0),
                  machine_cost=machine_cost.get(mid, 0), material_cost=materials.get(mid, 0),
                  amount=machine_cost.get(mid, 0) + materials.get(mid, 0))
        for mid in sorted((set(minutes) | set(materials)) & members)
    ]
    shares = [s for s in shares if s.amount > 0]
    for field, problems in plan_problems(session, app, shares).items():
        errors.setdefault(field, []).extend(problems)
    total = sum(s.amount for s in shares)
    if total <= 0 and not errors:
        errors.setdefault("requested_amount", []).append(N_("The plan costs nothing to finance."))
    if errors:
        raise ValidationFailed(N_("The production plan cannot be financed as given."), errors=errors)

    before = _snapshot(app)
    session.execute(delete(LoanShare).where(LoanShare.loan_application_id == app.id))
    session.execute(delete(LoanPlanLink).where(LoanPlanLink.loan_application_id == app.id,
                                               LoanPlanLink.linked_by == "plan"))
    for share in shares:
        share.loan_application_id = app.id
        session.add(share)
    for rid in request_ids:
        session.add(LoanPlanLink(loan_application_id=app.id, production_request_id=rid, linked_by="plan"))
    for bid in booking_ids:
        session.add(LoanPlanLink(loan_application_id=app.id, booking_id=bid, linked_by="plan"))
    app.requested_amount = total
    session.flush()
    audit.record(session, actor, "loan_application.plan_set", app, before=before, after={
        **_snapshot(app), "production_request_ids": request_ids, "booking_ids": booking_ids,
        "shares": {s.member_id: s.amount for s in shares}})
    return app


def shares(session: Session, actor: Actor, application_id: int) -> list[LoanShare]:
    """The per-member shares; a member sees its own share only."""
    app = get(session, actor, application_id)
    stmt = select(LoanShare).where(LoanShare.loan_application_id == app.id).order_by(LoanShare.member_id)
    if actor.role is Role.member:
        stmt = stmt.where(LoanShare.member_id == actor.member_id)
    return list(session.scalars(stmt))


def cost_estimate(session: Session, actor: Actor, application_id: int) -> int:
    """The whole plan's cost (machine time plus materials), which every reader may see."""
    app = get(session, actor, application_id)
    return int(session.scalar(select(func.coalesce(func.sum(LoanShare.amount), 0)).where(
        LoanShare.loan_application_id == app.id)) or 0)


def plan_links(session: Session, actor: Actor, application_id: int) -> list[LoanPlanLink]:
    """The requests and bookings the application finances; a member sees its own only."""
    app = get(session, actor, application_id)
    stmt = select(LoanPlanLink).where(LoanPlanLink.loan_application_id == app.id).order_by(LoanPlanLink.id)
    if actor.role is Role.member:
        own_requests = select(ProductionRequest.id).where(ProductionRequest.member_id == actor.member_id)
        own_bookings = select(Booking.id).where(Booking.member_id == actor.member_id)
        stmt = stmt.where(or_(LoanPlanLink.production_request_id.in_(own_requests),
                              LoanPlanLink.booking_id.in_(own_bookings)))
    return list(session.scalars(stmt))


# --- Loans: applications whose money has been (or is being) paid out -------------------------

LOAN_STATUSES = (LoanStatus.disbursing, LoanStatus.repaying, LoanStatus.closed)


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


def _view(session: Session, actor: Actor, app: LoanApplication,
          on: dt.date | None = None) -> LoanView:
    on = on or today(session, app)
    rows = list(session.scalars(select(Installment).where(
        Installment.loan_application_id == app.id).order_by(Installment.number)))
    early = list(session.scalars(select(LoanPrepayment).where(
        LoanPrepayment.loan_application_id == app.id).order_by(LoanPrepayment.paid_on,
                                                               LoanPrepayment.id)))
    unpaid = [r for r in rows if r.status is not InstallmentStatus.paid]
    links = session.scalars(select(LoanPlanLink.booking_id).where(
        LoanPlanLink.loan_application_id == app.id, LoanPlanLink.booking_id.is_not(None))
        .order_by(LoanPlanLink.booking_id))
    booking_ids = list(links)
    share = None
    if actor.role is Role.member:
        share = session.scalar(select(LoanShare.amount).where(
            LoanShare.loan_application_id == app.id, LoanShare.member_id == actor.member_id))
        own = set(session.scalars(select(Booking.id).where(
            Booking.id.in_(booking_ids), Booking.member_id == actor.member_id))) if booking_ids else set()
        booking_ids = [b for b in booking_ids if b in own]
    disbursed = disbursed_total(session, app)
    # A payment covers its installment's interest first, then its principal.
    principal_repaid = (sum(min(r.principal, max(0, r.paid - r.interest)) for r in rows)
                        + sum(p.principal for p in early))
    interest_paid = (sum(min(r.paid, r.interest) for r in rows) + sum(p.interest for p in early))
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
        installments=[InstallmentView(number=r.number, due_date=r.due_date, principal=r.principal,
                                      interest=r.interest, amount=r.amount, paid=r.paid,
                                      status=r.status.value, days_past_due=late[r.number])
                      for r in rows],
        prepayments=early,
    )


def list_loans(session: Session, actor: Actor, *, status: str | None = None,
               on: dt.date | None = None) -> list[LoanView]:
    """Disbursing, repaying and closed loans in scope (managers: those funding their houses),
    their days past due and collectability as of `on` (today where each loan is)."""
    stmt = scoped(actor, LoanApplication).where(LoanApplication.status.in_(LOAN_STATUSES))
    if status is not None:
        stmt = stmt.where(LoanApplication.status == LoanStatus(status))
    return [_view(session, actor, app, on) for app in session.scalars(stmt.order_by(LoanApplication.id))]


def _require_loan(app: LoanApplication) -> LoanApplication:
    """The application if money has been paid out on it (a loan), else 404."""
    if app.status not in LOAN_STATUSES:
        raise NotFound(N_("Loan %(loan_id)s was not found.", loan_id=app.id))
    return app


def _loan(session: Session, actor: Actor, loan_id: int) -> LoanApplication:
    return _require_loan(get(session, actor, loan_id))


def get_loan(session: Session, actor: Actor, loan_id: int, *, on: dt.date | None = None) -> LoanView:
    """One loan as of `on` (today where it is when not given)."""
    return _view(session, actor, _loan(session, actor, loan_id), on)
