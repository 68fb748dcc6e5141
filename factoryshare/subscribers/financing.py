"""Financing: the cluster hears of its loan application's steps and of its loan's money.

An application submitted, approved, sent back or rejected, and a tranche released, reach the
cluster's chair and the members who accepted the cluster (a submission also the aggregator,
who decides it), never the person who took the step. Installments: a daily job tells the
chair, the members and the aggregator of each unpaid installment due within three days, and
of each one overdue, once per installment and kind (`remind_installments`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.messages import DEFAULT_TIMEZONE
from factoryshare.models.financing import Installment, InstallmentStatus, LoanApplication
from factoryshare.models.members import Cluster, cluster_members
from factoryshare.models.notifications import Notification
from factoryshare.services.notifications import notify
from factoryshare.subscribers import aggregator_users, by, member_users, people

# An installment is announced this many days before it is due.
DUE_SOON_DAYS = 3

# What the application's step is called in the message (loan_decision's `decision`).
_DECISIONS = {
    "approved": "approved",
    "endorsed": "approved",
    "rejected": "rejected",
    "changes_requested": "changes_requested",
    "sent_back": "changes_requested",
}


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def cluster_people(session: Session, cluster: Cluster, *, aggregator: bool = False) -> list[int]:
    """The users of the chair and of every member who accepted (and the aggregator's)."""
    members = list(
        session.scalars(
            select(cluster_members.c.member_id).where(cluster_members.c.cluster_id == cluster.id)
        )
    )
    users = member_users(session, [cluster.chair_member_id, *members])
    if aggregator:
        users += aggregator_users(session, cluster.aggregator_id)
    return users


def _timezone(cluster: Cluster) -> str:
    house = getattr(cluster, "house", None)
    return house.timezone if house is not None else DEFAULT_TIMEZONE


def _context(session: Session, app: LoanApplication, actor: Actor | None) -> dict[str, Any]:
    return {
        "application_id": app.id,
        "cluster": app.cluster.name,
        "loan": f"#{app.id}",
        "timezone": _timezone(app.cluster),
        **by(session, actor),
    }


def on_loan_decided(
    session: Session,
    *,
    application: LoanApplication,
    decision: Any = None,
    actor: Actor | None = None,
    kind: str | None = None,
    note: str | None = None,
    amount: int | None = None,
    **_: Any,
) -> None:
    """One step of an application (`decision`: a LoanDecision, or `kind`, `note`, `amount`)."""
    app = application
    terms: dict[str, Any] = {}
    if decision is not None:
        kind = _value(decision.kind)
        note = note or decision.note
        terms = decision.terms or {}
        amount = amount if amount is not None else terms.get("amount")
        if kind == "endorsed" and terms.get("approval", 1) < terms.get("approvals_needed", 1):
            return  # a first approval of two: nothing changed for the cluster yet
    kind = _value(kind)
    context = _context(session, app, actor)
    if kind == "submitted":
        recipients = cluster_people(session, app.cluster, aggregator=True)
        notify(
            session,
            user_ids=people(recipients, actor),
            template="loan_submitted",
            context={**context, "amount": amount if amount is not None else app.requested_amount},
        )
        return
    if kind == "tranche":
        on_tranche_released(
            session,
            application=app,
            amount=amount,
            actor=actor,
            on=terms.get("disbursed_on"),
            tranche_id=terms.get("tranche_id"),
        )
        return
    if kind not in _DECISIONS:
        return
    decided = _DECISIONS[kind]
    shown = app.approved_amount if decided == "approved" else None
    notify(
        session,
        user_ids=people(cluster_people(session, app.cluster), actor),
        template="loan_decision",
        context={
            **context,
            "decision": decided,
            "note": note or None,
            "amount": amount if decided == "approved" and amount is not None else shown,
        },
    )


def on_tranche_released(
    session: Session,
    *,
    application: LoanApplication,
    amount: int | None = None,
    tranche: Any = None,
    actor: Actor | None = None,
    on: Any = None,
    tranche_id: int | None = None,
    **_: Any,
) -> None:
    from factoryshare.services import loans

    app = application
    if tranche is not None:
        amount = tranche.amount if amount is None else amount
        on = on or tranche.disbursed_on
        tranche_id = tranche_id or tranche.id
    if amount is None:
        return
    context = {
        **_context(session, app, actor),
        "amount": amount,
        "disbursed_total": loans.disbursed_total(session, app),
        "approved": app.approved_amount,
        "on": on,
    }
    notify(
        session,
        user_ids=people(cluster_people(session, app.cluster, aggregator=True), actor),
        template="tranche_released",
        context=context,
        key=f"tranche:{tranche_id}" if tranche_id else None,
    )


def remind_installments(session: Session, now: dt.datetime) -> dict[str, int]:
    """Tell of each unpaid installment due within DUE_SOON_DAYS, and of each overdue one,
    once per installment and kind (the message's key); running it again tells nothing new."""
    due_soon = overdue = 0
    rows = session.execute(
        select(Installment, LoanApplication)
        .join(LoanApplication, LoanApplication.id == Installment.loan_application_id)
        .where(Installment.status != InstallmentStatus.paid)
        .order_by(Installment.due_date, Installment.id)
    ).all()
    for inst, app in rows:
        zone = _timezone(app.cluster)
        today = now.astimezone(ZoneInfo(zone)).date()
        days = (inst.due_date - today).days
        if 0 <= days <= DUE_SOON_DAYS:
            template, key = "installment_due", f"installment:{inst.id}:due"
            extra: dict[str, Any] = {"days_left": days}
        elif days < 0:
            template, key = "installment_overdue", f"installment:{inst.id}:overdue"
            extra = {"days_overdue": -days}
        else:
            continue
        recipients = cluster_people(session, app.cluster, aggregator=True)
        if not recipients:
            continue
        told = _told(session, key)
        notify(
            session,
            user_ids=recipients,
            template=template,
            key=key,
            context={
                **_context(session, app, None),
                "due_on": inst.due_date,
                "amount": inst.amount - inst.paid,
                **extra,
            },
        )
        if _told(session, key) > told:
            if template == "installment_due":
                due_soon += 1
            else:
                overdue += 1
    return {"due_soon": due_soon, "overdue": overdue}


def _told(session: Session, key: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.key == key)
        )
        or 0
    )
