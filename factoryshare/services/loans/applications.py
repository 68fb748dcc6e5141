"""A cluster's loan application before the aggregator decides: created, edited and submitted
(checked against the KUR scheme's terms and, when it has one, the production plan's rules).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, locking
from factoryshare.access import Actor, get_scoped
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Role
from factoryshare.models.financing import (
    DecisionKind,
    KurScheme,
    KurSchemeCode,
    LoanApplication,
    LoanShare,
    LoanStatus,
)
from factoryshare.models.members import Cluster
from factoryshare.services import kur, lenders
from factoryshare.services.loans.core import (
    cluster_zone,
    decide,
    for_change,
    may_apply_for,
    move,
    now,
    snapshot,
)
from factoryshare.services.loans.plan import linked_item_errors, plan_problems

_FIELDS = ("requested_amount", "tenor_months", "grace_months")


def _check_terms(
    scheme: KurScheme, amount: Any, tenor: Any, grace: Any, *, per_member: bool = False
) -> None:
    """The terms against the scheme; with `per_member` the ceiling is checked per member share."""
    errors = _term_errors(scheme, amount, tenor, grace, per_member=per_member)
    if errors:
        raise ValidationFailed(N_("The loan terms break the scheme's rules."), errors=errors)


def _term_errors(
    scheme: KurScheme, amount: Any, tenor: Any, grace: Any, *, per_member: bool = False
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or amount <= 0:
        errors["requested_amount"] = [N_("Must be a positive whole number of rupiah.")]
    elif amount > scheme.ceiling and not per_member:
        errors["requested_amount"] = [
            N_(
                "%(scheme)s lends at most %(ceiling)s.",
                scheme=scheme.name,
                ceiling=rupiah(scheme.ceiling),
            )
        ]
    limit = max(scheme.max_tenor_working_capital_months, scheme.max_tenor_investment_months)
    if not isinstance(tenor, int) or tenor < 1 or tenor > limit:
        errors["tenor_months"] = [N_("Must be between 1 and %(limit)s months.", limit=limit)]
    if not isinstance(grace, int) or grace < 0:
        errors["grace_months"] = [N_("Must be zero or more months.")]
    elif isinstance(tenor, int) and grace >= tenor:
        errors["grace_months"] = [N_("Must be shorter than the tenor.")]
    return errors


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
    if not may_apply_for(actor, cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may apply for its loan."))
    scheme = kur.scheme_in_force(
        session, KurSchemeCode.khusus, on or now().astimezone(cluster_zone(session, cluster)).date()
    )
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
    audit.record(session, actor, "loan_application.created", app, after=snapshot(app))
    return app


def update(session: Session, actor: Actor, application_id: int, **changes: Any) -> LoanApplication:
    app = for_change(session, actor, application_id)
    if not may_apply_for(actor, app.cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may edit its application."))
    locking.require_state(
        app,
        (LoanStatus.draft, LoanStatus.changes_requested),
        N_("Only a draft or an application sent back for changes can be edited."),
        action="updated",
    )
    before = snapshot(app)
    values = {f: changes.get(f, getattr(app, f)) for f in _FIELDS}
    planned = (
        session.scalar(select(LoanShare.id).where(LoanShare.loan_application_id == app.id))
        is not None
    )
    _check_terms(
        app.scheme,
        values["requested_amount"],
        values["tenor_months"],
        values["grace_months"],
        per_member=planned,
    )
    for name, value in values.items():
        setattr(app, name, value)
    if "notes" in changes:
        app.notes = changes["notes"]
    if "lender_id" in changes:
        if changes["lender_id"] is not None:
            lenders.require_lender(session, changes["lender_id"])
        app.lender_id = changes["lender_id"]
    session.flush()
    audit.record(
        session, actor, "loan_application.updated", app, before=before, after=snapshot(app)
    )
    return app


def submit(
    session: Session, actor: Actor, application_id: int, *, lender_id: int | None = None
) -> LoanApplication:
    """Send the application to the aggregator (naming the lender it is put to, if given).

    The terms, the plan's per-member rules and its requests and bookings (financed by no
    other live application, at the cluster's house, of members who accepted) are checked
    again under the application's and the bookings' row locks; every broken rule is named."""
    app = for_change(session, actor, application_id)
    if not may_apply_for(actor, app.cluster):
        raise Forbidden(
            N_("Only the cluster's aggregator or its chair may submit its application.")
        )
    locking.require_state(
        app,
        (LoanStatus.draft, LoanStatus.changes_requested),
        N_(
            "An application that is %(status)s cannot be submitted.", status=i18n.status(app.status)
        ),
        action="submitted",
    )
    plan = list(session.scalars(select(LoanShare).where(LoanShare.loan_application_id == app.id)))
    errors = _term_errors(
        app.scheme, app.requested_amount, app.tenor_months, app.grace_months, per_member=bool(plan)
    )
    if lender_id is not None:
        try:
            lenders.require_lender(session, lender_id)
        except ValidationFailed as err:
            errors.update(err.errors)
    if plan:
        errors.update(linked_item_errors(session, app))
        for field, problems in plan_problems(session, app, plan).items():
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationFailed(N_("The application breaks the KUR rules."), errors=errors)
    if lender_id is not None:
        app.lender_id = lender_id
    move(
        session,
        actor,
        app,
        (LoanStatus.draft, LoanStatus.changes_requested),
        LoanStatus.submitted,
        "submitted",
    )
    decide(
        session,
        actor,
        app,
        DecisionKind.submitted,
        amount=app.requested_amount,
        tenor_months=app.tenor_months,
        grace_months=app.grace_months,
        lender_id=app.lender_id,
    )
    return app
