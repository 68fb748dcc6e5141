"""What a loan application's reviewer reads: the plan on a timeline, the permits that do not
cover it, who decided what and when (issue 18's aggregator and lender pages; moved out of the
pages by issue 20, so that the API could serve the same).

- `plan_items`: the plan's bookings at their times; its production requests where the
  published schedule placed them, or as the window they must be made in while not yet placed.
- `plan_house`: the house whose time the plan is shown in (the cluster's, else a booking's).
- `permit_flags`: what keeps a planned product from being made over its planned time, as
  sentences (`Message`s the reader's edge translates).
- `decision_history`: every decision on record with the name of the person who took it.

Everything is loaded through the application's scope (loans.get): outside it is NotFound.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.access import Actor
from factoryshare.i18n import N_
from factoryshare.models import Member, Product, ProductionHouse, User
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import DecisionKind, LoanApplication
from factoryshare.models.permits import PermitType
from factoryshare.models.scheduling import ProductionRequest, RequestStatus
from factoryshare.services import loans, permits, solving


@dataclass
class PlanItem:
    """One piece of the plan on the timeline and in the table beside it.

    kind: booked | held (a booking of the plan), planned (placed by the published schedule),
    window (a request not yet placed: the time it must be made in)."""

    member_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    what: str
    product_id: int | None


def plan_items(session: Session, actor: Actor, application_id: int) -> list[PlanItem]:
    items: list[PlanItem] = []
    for link in loans.plan_links(session, actor, application_id):
        if link.booking_id is not None:
            booking = session.get(Booking, link.booking_id)
            if booking is None or booking.status is BookingStatus.cancelled:
                continue
            kind = "held" if booking.status is BookingStatus.held else "booked"
            items.append(
                PlanItem(
                    booking.member_id,
                    kind,
                    booking.start_at,
                    booking.end_at,
                    booking.machine.name,
                    booking.product_id,
                )
            )
        elif link.production_request_id is not None:
            req = session.get(ProductionRequest, link.production_request_id)
            if req is None or req.status is RequestStatus.cancelled:
                continue
            placed = solving.published_bookings(session, [op.id for op in req.operations])
            live = [b for b in placed.values() if b.status is not BookingStatus.cancelled]
            if live:
                for b in sorted(live, key=lambda b: b.start_at):
                    items.append(
                        PlanItem(
                            req.member_id,
                            "planned",
                            b.start_at,
                            b.end_at,
                            f"{req.product.name} · {b.machine.name}",
                            req.product_id,
                        )
                    )
            else:
                items.append(
                    PlanItem(
                        req.member_id,
                        "window",
                        req.earliest_start,
                        req.due,
                        N_(
                            "%(product)s × %(quantity)s, not yet placed",
                            product=req.product.name,
                            quantity=req.quantity,
                        ),
                        req.product_id,
                    )
                )
    items.sort(key=lambda i: (i.start, i.member_id))
    return items


def plan_house(session: Session, actor: Actor, application_id: int) -> ProductionHouse | None:
    """The cluster's house, else the house of one of the plan's bookings, else None."""
    app = loans.get(session, actor, application_id)
    if app.cluster.house_id is not None:
        return session.get(ProductionHouse, app.cluster.house_id)
    for link in loans.plan_links(session, actor, application_id):
        if link.booking_id is not None:
            booking = session.get(Booking, link.booking_id)
            if booking is not None:
                return booking.machine.house
    return None


def member_names(session: Session, actor: Actor, application_id: int) -> dict[int, str]:
    """The business names of the cluster's members and of every member with a share (one who
    has left the cluster since keeps its name on the application)."""
    app = loans.get(session, actor, application_id)
    names = {m.id: m.business_name for m in app.cluster.members}
    for share in loans.shares(session, actor, application_id):
        if share.member_id not in names:
            member = session.get(Member, share.member_id)
            names[share.member_id] = member.business_name if member else str(share.member_id)
    return names


def permit_flags(
    session: Session, actor: Actor, application_id: int, items: list[PlanItem] | None = None
) -> list[i18n.Message]:
    """What keeps a product of the plan from being made over its planned time, one sentence
    per member, product and missing permit."""
    items = plan_items(session, actor, application_id) if items is None else items
    names = member_names(session, actor, application_id)
    type_names = dict(session.execute(select(PermitType.code, PermitType.name)).all())
    flags: list[i18n.Message] = []
    seen: set[str] = set()
    for item in items:
        if item.product_id is None:
            continue
        product = session.get(Product, item.product_id)
        if product is None:
            continue
        who = f"{names.get(item.member_id, item.member_id)}, {product.name}"
        for gap in permits.gaps(session, product, item.start, item.end):
            which = i18n.join([type_names.get(code, code) for code in gap.types], separator=" / ")
            if gap.problem == "lapses" and gap.lapse_on is not None:
                words = N_(
                    "%(who)s: %(permit)s is valid only until %(day)s, before the planned "
                    "production ends.",
                    who=who,
                    permit=which,
                    day=i18n.day(gap.lapse_on),
                )
            elif gap.lapse_on is not None:
                words = N_(
                    "%(who)s: %(permit)s expired on %(day)s.",
                    who=who,
                    permit=which,
                    day=i18n.day(gap.lapse_on),
                )
            else:
                words = N_("%(who)s: no valid %(permit)s.", who=who, permit=which)
            if str(words) not in seen:
                seen.add(str(words))
                flags.append(words)
    return flags


@dataclass(frozen=True)
class DecisionEntry:
    """One decision on record, as a reviewer reads it."""

    kind: DecisionKind
    role: str
    decided_at: dt.datetime
    decided_by: str | None  # the person's name (a Message for a withheld one); None: the service
    note: str
    amount: int | None
    rate_percent: float | None
    tenor_months: int | None
    reference: str | None
    approval: int | None  # 1 or 2 of `approvals_needed` for an endorsement
    approvals_needed: int | None
    disbursed_on: dt.date | None  # a tranche's day
    terms: dict[str, Any]


def decision_history(session: Session, actor: Actor, application_id: int) -> list[DecisionEntry]:
    """Every decision on the application, oldest first, with who took it (scoped like it).

    A lender reads the members' own people as the cluster's chair, never by name: it sees
    nothing of the members beyond the application (factoryshare/access.py)."""
    from factoryshare.models import Role

    rows = loans.decisions(session, actor, application_id)
    ids = {
        d.decided_by_id
        for d in rows
        if d.decided_by_id is not None
        and not (actor.role is Role.lender and d.role == Role.member.value)
    }
    people = (
        dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    entries: list[DecisionEntry] = []
    for d in rows:
        terms = dict(d.terms or {})
        entries.append(
            DecisionEntry(
                kind=d.kind,
                role=d.role,
                decided_at=d.decided_at,
                decided_by=(
                    people.get(d.decided_by_id) or N_("the cluster's chair")
                    if d.decided_by_id is not None
                    else None
                ),
                note=d.note or "",
                amount=terms.get("amount"),
                rate_percent=terms.get("rate_percent"),
                tenor_months=terms.get("tenor_months"),
                reference=terms.get("reference"),
                approval=terms.get("approval"),
                approvals_needed=terms.get("approvals_needed"),
                disbursed_on=(
                    dt.date.fromisoformat(terms["disbursed_on"])
                    if isinstance(terms.get("disbursed_on"), str)
                    else None
                ),
                terms=terms,
            )
        )
    return entries


def applications_to_decide(
    session: Session, actor: Actor
) -> tuple[list[LoanApplication], list[LoanApplication]]:
    """The applications in scope waiting for this role's decision (the aggregator's: submitted;
    the lender's: endorsed by the aggregator, or approved and not yet disbursed), and the
    others, most recently changed first."""
    from factoryshare.models import Role
    from factoryshare.models.financing import LoanStatus

    waiting = (
        (LoanStatus.approved, LoanStatus.lender_approved, LoanStatus.disbursing)
        if actor.role is Role.lender
        else (LoanStatus.submitted,)
    )
    everything = list(session.scalars(loans.list_applications(session, actor)))
    to_decide = [a for a in everything if a.status in waiting]
    others = sorted(
        (a for a in everything if a.status not in waiting), key=lambda a: a.updated_at, reverse=True
    )
    return to_decide, others
