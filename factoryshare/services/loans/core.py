"""The loans package's shared ground: the applications' scope, the clock, the locked read and
the audited status move every step takes, the decision on record, and what makes an
application a loan. Sibling modules use these public names, never each other's private helpers.

The clock is the product's one clock (`db.utcnow`, which reads `factoryshare.clock`), read
through `now()`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare import audit, events, i18n, locking
from factoryshare.access import Actor, get_scoped
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, NotFound
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.financing import (
    DecisionKind,
    LoanApplication,
    LoanDecision,
    LoanStatus,
    LoanTranche,
)
from factoryshare.models.members import Cluster


def snapshot(app: LoanApplication) -> dict[str, Any]:
    return {
        "status": app.status.value,
        "requested_amount": app.requested_amount,
        "tenor_months": app.tenor_months,
        "grace_months": app.grace_months,
        "approved_amount": app.approved_amount,
        "lender_id": app.lender_id,
    }


def get(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    return get_scoped(session, actor, LoanApplication, application_id)


def for_change(session: Session, actor: Actor, application_id: int) -> LoanApplication:
    """The application in the caller's scope, its row locked and its status read after the lock."""
    return locking.for_update(session, actor, LoanApplication, application_id)


def may_apply_for(actor: Actor, cluster: Cluster) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.aggregator:
        return cluster.aggregator_id == actor.aggregator_id
    if actor.role is Role.member:
        return cluster.chair_member_id is not None and cluster.chair_member_id == actor.member_id
    return False


def move(
    session: Session,
    actor: Actor,
    app: LoanApplication,
    allowed: tuple[LoanStatus, ...],
    target: LoanStatus,
    action: str,
    audited: str | None = None,
) -> LoanApplication:
    """Move the application from `allowed` to `target`: `action` names the step in a refusal
    (the API's `details.action`), `audited` its audit action, `loan_application.<action>`
    unless the step is named otherwise in the past tense."""
    locking.require_state(
        app,
        allowed,
        N_(
            "An application that is %(status)s cannot be %(action)s.",
            status=i18n.status(app.status),
            action=i18n.status(action),
        ),
        action=action,
    )
    before = snapshot(app)
    app.status = target
    session.flush()
    audit.record(
        session,
        actor,
        audited or f"loan_application.{action}",
        app,
        before=before,
        after=snapshot(app),
    )
    return app


def decide(
    session: Session,
    actor: Actor,
    app: LoanApplication,
    kind: DecisionKind,
    note: str = "",
    **terms: Any,
) -> LoanDecision:
    """Put one decision on record: who (user and role), when, what, why and on which terms."""
    decision = LoanDecision(
        loan_application_id=app.id,
        kind=kind,
        decided_by_id=actor.user_id,
        role=actor.role.value,
        decided_at=now(),
        note=note or "",
        terms={k: v for k, v in terms.items() if v is not None},
    )
    session.add(decision)
    session.flush()
    events.publish(session, "loan_decided", application=app, decision=decision, actor=actor)
    return decision


def require_lender(actor: Actor, what: str) -> None:
    """Only the lender's officers (and the service itself: scheduler, CLI, demo) may; an
    admin or an aggregator may not take the bank's decisions. The application's scope then
    limits an officer to the applications put to its own institution (404 otherwise)."""
    if actor.role is not Role.lender and not actor.is_system:
        raise Forbidden(N_("Only the lender the application is put to may %(what)s.", what=what))


DEFAULT_ZONE = "Asia/Jakarta"


def now() -> dt.datetime:
    """The clock of every loan step: the product's one clock."""
    return utcnow()


def zone(session: Session, app: LoanApplication) -> ZoneInfo:
    """The zone the loan's dates are read in: its cluster's house, else WIB."""
    return cluster_zone(session, app.cluster)


def cluster_zone(session: Session, cluster: Cluster | None) -> ZoneInfo:
    """The zone of the cluster's house, else WIB."""
    house_id = cluster.house_id if cluster is not None else None
    house = session.get(ProductionHouse, house_id) if house_id else None
    return ZoneInfo(house.timezone if house is not None and house.timezone else DEFAULT_ZONE)


def zones(session: Session, apps: list[LoanApplication]) -> dict[int, ZoneInfo]:
    """`zone` of each of these applications by id, in one statement whatever their number."""
    rows = session.execute(
        select(LoanApplication.id, ProductionHouse.timezone)
        .outerjoin(Cluster, Cluster.id == LoanApplication.cluster_id)
        .outerjoin(ProductionHouse, ProductionHouse.id == Cluster.house_id)
        .where(LoanApplication.id.in_([a.id for a in apps]))
    )
    found = {app_id: timezone for app_id, timezone in rows}
    return {a.id: ZoneInfo(found.get(a.id) or DEFAULT_ZONE) for a in apps}


def today(session: Session, app: LoanApplication) -> dt.date:
    """Today where the loan is (the clock is `now`, fixed in tests)."""
    return now().astimezone(zone(session, app)).date()


def lock(session: Session, app: LoanApplication) -> None:
    """Serialise money movements on one loan (PostgreSQL row lock; SQLite has one writer),
    reading the application's status and amounts again after the lock."""
    locking.refresh_for_update(session, app)


def disbursed_total(session: Session, app: LoanApplication) -> int:
    return disbursed_totals(session, [app])[app.id]


def disbursed_totals(session: Session, apps: list[LoanApplication]) -> dict[int, int]:
    """`disbursed_total` of each of these applications by id, in one statement."""
    rows = session.execute(
        select(LoanTranche.loan_application_id, func.sum(LoanTranche.amount))
        .where(LoanTranche.loan_application_id.in_([a.id for a in apps]))
        .group_by(LoanTranche.loan_application_id)
    )
    found = {app_id: int(total or 0) for app_id, total in rows}
    return {a.id: found.get(a.id, 0) for a in apps}


LOAN_STATUSES = (LoanStatus.disbursing, LoanStatus.repaying, LoanStatus.closed)


def require_loan(app: LoanApplication) -> LoanApplication:
    """The application if money has been paid out on it (a loan), else 404."""
    if app.status not in LOAN_STATUSES:
        raise NotFound(N_("Loan %(loan_id)s was not found.", loan_id=app.id))
    return app


def loan(session: Session, actor: Actor, loan_id: int) -> LoanApplication:
    return require_loan(get(session, actor, loan_id))
