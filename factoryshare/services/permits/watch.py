"""Watching permits: a changed product puts its halal certificate in review, the overview
of a house or cluster, the daily watch (states, reminders, bookings and loans at risk).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden
from factoryshare.i18n import N_
from factoryshare.models import Cluster, Member, Product, ProductionHouse, Role, User
from factoryshare.models.permits import (
    Permit,
    PermitFlag,
    PermitStatus,
    PermitType,
    PermitVerification,
)
from factoryshare.services import calendar, products
from factoryshare.services.permits.core import house_of, manager_ids, member_user_ids
from factoryshare.services.permits.gate import Gap, gaps, type_names
from factoryshare.services.permits.state import STATES, VERIFICATIONS, state, state_on

REMINDER_DAYS = (90, 30, 7)
# The watch acts from this house-local hour on (the scheduler runs it hourly).
WATCH_LOCAL_HOUR = 7


# -- domain event: a product changed ----------------------------------------------------------


def on_product_changed(
    session: Session,
    product: Product,
    before: dict[str, Any] | None = None,
    actor: Actor | None = None,
    **_: Any,
) -> None:
    """A changed routing or family puts the product's halal certificate in needs review."""
    if before is None:
        return
    after = products.snapshot(product)
    changed = [k for k in ("routing", "family") if before.get(k) != after.get(k)]
    if not changed:
        return
    halal = session.scalars(
        select(Permit)
        .join(PermitType)
        .where(
            Permit.product_id == product.id,
            PermitType.code == "halal",
            Permit.status == PermitStatus.active,
        )
    )
    for permit in halal:
        snap = audit.snapshot(permit)
        permit.status = PermitStatus.needs_review
        permit.review_reason = N_(
            "The product's %(fields)s changed.", fields=" and ".join(changed)
        )[:300]
        permit.last_state = "needs_review"
        session.flush()
        audit.record(
            session,
            actor or Actor.system(),
            "permit.review_requested",
            permit,
            before=snap,
            after=audit.snapshot(permit),
        )
        from factoryshare.services.notifications import notify

        house = house_of(session, permit.member_id)
        notify(
            session,
            user_ids=member_user_ids(session, permit.member_id) + manager_ids(session, house.id),
            template="permit_needs_review",
            context={"product": product.name, "number": permit.number, "timezone": house.timezone},
            key=f"permit-review-{permit.id}-{permit.updated_at.isoformat()}",
        )


# -- overview ---------------------------------------------------------------------------------


def overview(
    session: Session,
    actor: Actor,
    *,
    house_id: int | None = None,
    cluster_id: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Counts of permits by state and by verification, and the products blocked now (only
    permits that count open the gate), per house or cluster."""
    members = scoped(actor, Member)
    if house_id is not None:
        house = get_scoped(session, actor, ProductionHouse, house_id)
        if actor.role is Role.member or (
            actor.role is Role.manager and not actor.manages(house.id)
        ):
            raise Forbidden(N_("Only the house's managers see its permit overview."))
        members = members.where(Member.house_id == house.id)
    elif cluster_id is not None:
        cluster = get_scoped(session, actor, Cluster, cluster_id)
        members = members.where(Member.id.in_([m.id for m in cluster.members]))
    elif not actor.is_admin:
        actor.require(Role.admin, Role.manager, Role.aggregator)
    member_ids = [m.id for m in session.scalars(members)]
    by_state = {s: 0 for s in STATES}
    by_verification = {v: 0 for v in VERIFICATIONS}
    now = now or utcnow()
    for permit in session.scalars(
        select(Permit).where(Permit.member_id.in_(member_ids))
        if member_ids
        else select(Permit).where(false())
    ):
        by_state[state(session, permit, now)] += 1
        by_verification[permit.verification.value] += 1
    blocked = []
    products: Iterable[Product] = (
        session.scalars(
            select(Product).where(Product.member_id.in_(member_ids)).order_by(Product.id)
        )
        if member_ids
        else []
    )
    for product in products:
        found = gaps(session, product, now, now + dt.timedelta(minutes=1))
        if found:
            blocked.append(
                {
                    "product_id": product.id,
                    "member_id": product.member_id,
                    "name": product.name,
                    "missing": [g.as_dict() for g in found],
                }
            )
    return {
        "house_id": house_id,
        "cluster_id": cluster_id,
        "members": len(member_ids),
        **by_state,
        "verification": by_verification,
        "blocked_products": blocked,
    }


# -- the daily watch --------------------------------------------------------------------------


def _flag(
    session: Session, subject: str, subject_id: int, key: str, gap: Gap, product_id: int
) -> bool:
    """Store the flag once; False when it was stored before."""
    exists = session.scalar(
        select(PermitFlag.id).where(
            PermitFlag.subject == subject,
            PermitFlag.subject_id == subject_id,
            PermitFlag.key == key,
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                PermitFlag(
                    subject=subject,
                    subject_id=subject_id,
                    key=key,
                    permit_id=gap.permit_id,
                    product_id=product_id,
                    lapse_on=gap.lapse_on,
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def run_watch(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    """Statuses, 90/30/7-day reminders (each once), bookings and loans at risk (each flagged once).

    The scheduler runs it at 07:00 in each of Indonesia's zones (jobs.registry.DAILY_AT) and
    once after it starts; a house is looked at from 07:00 house time on, and since each step
    only does what was not done yet, further runs the same day change nothing.
    """
    from factoryshare.models.bookings import Booking, BookingStatus
    from factoryshare.services.notifications import notify

    now = now or utcnow()
    result = {
        "houses": 0,
        "states_changed": 0,
        "reminders": 0,
        "bookings_flagged": 0,
        "loans_flagged": 0,
    }
    for house in session.scalars(select(ProductionHouse).order_by(ProductionHouse.id)):
        local = now.astimezone(calendar.house_zone(house))
        if local.hour < WATCH_LOCAL_HOUR:
            continue
        result["houses"] += 1
        today = local.date()
        managers = manager_ids(session, house.id)
        permits = session.scalars(
            select(Permit)
            .where(Permit.member_id.in_(select(Member.id).where(Member.house_id == house.id)))
            .order_by(Permit.id)
        )
        for permit in permits:
            current = state_on(permit, today)
            if current != permit.last_state:
                permit.last_state = current
                result["states_changed"] += 1
            if (
                permit.status is not PermitStatus.active
                or permit.expires_on is None
                or permit.verification is PermitVerification.rejected
            ):
                continue
            left = (permit.expires_on - today).days
            sent = set(permit.reminders_sent or [])
            due = [d for d in REMINDER_DAYS if 0 <= left <= d and d not in sent]
            if not due:
                continue
            product = session.get(Product, permit.product_id) if permit.product_id else None
            member = session.get(Member, permit.member_id)
            notify(
                session,
                user_ids=member_user_ids(session, permit.member_id) + managers,
                template="permit_expiring",
                context={
                    "product": product.name if product else member.business_name,  # type: ignore[union-attr]
                    "permit": permit.permit_type.name,
                    "number": permit.number,
                    "expires_on": permit.expires_on,
                    "days_left": left,
                    "timezone": house.timezone,
                },
                key=f"permit-{permit.id}-{permit.expires_on.isoformat()}-{min(due)}",
            )
            permit.reminders_sent = sorted(sent | set(due), reverse=True)
            result["reminders"] += 1
        # Future bookings that a missing or lapsing permit no longer covers.
        bookings = session.scalars(
            select(Booking)
            .where(
                Booking.product_id.is_not(None),
                Booking.end_at > now,
                Booking.status.in_([BookingStatus.held, BookingStatus.confirmed]),
                Booking.member_id.in_(select(Member.id).where(Member.house_id == house.id)),
            )
            .order_by(Booking.start_at)
        )
        for booking in bookings:
            product = session.get(Product, booking.product_id)
            if product is None:
                continue
            for gap in gaps(session, product, booking.start_at, booking.end_at):
                key = f"{gap.group}:{gap.lapse_on.isoformat() if gap.lapse_on else 'none'}"
                if not _flag(session, "booking", booking.id, key, gap, product.id):
                    continue
                result["bookings_flagged"] += 1
                notify(
                    session,
                    user_ids=member_user_ids(session, booking.member_id) + managers,
                    template="permit_booking_at_risk",
                    context={
                        "product": product.name,
                        "permit": type_names(session, gap.types),
                        "machine": booking.machine.name,
                        "start": booking.start_at,
                        "end": booking.end_at,
                        "expires_on": gap.lapse_on,
                        "timezone": house.timezone,
                    },
                    key=f"permit-booking-{booking.id}-{key}",
                )
        result["loans_flagged"] += _watch_loans(session, house, now)
    return result


_OPEN_LOANS = (
    "draft",
    "submitted",
    "changes_requested",
    "approved",
    "lender_approved",
    "disbursing",
)


def _watch_loans(session: Session, house: ProductionHouse, now: dt.datetime) -> int:
    """Loan applications financing production that a permit does not cover: tell the aggregator."""
    from factoryshare.models.bookings import Booking
    from factoryshare.models.financing import LoanApplication, LoanPlanLink, LoanStatus
    from factoryshare.models.scheduling import ProductionRequest
    from factoryshare.services.notifications import notify

    flagged = 0
    links = session.scalars(
        select(LoanPlanLink)
        .join(LoanApplication)
        .where(LoanApplication.status.in_([LoanStatus(s) for s in _OPEN_LOANS]))
        .order_by(LoanPlanLink.id)
    )
    for link in links:
        if link.production_request_id is not None:
            request = session.get(ProductionRequest, link.production_request_id)
            if request is None or request.house_id != house.id or request.due <= now:
                continue
            product_id, start, end = (
                request.product_id,
                max(request.earliest_start, now),
                request.due,
            )
        else:
            booking = session.get(Booking, link.booking_id)
            if (
                booking is None
                or booking.product_id is None
                or booking.end_at <= now
                or booking.machine.house_id != house.id
            ):
                continue
            product_id, start, end = booking.product_id, booking.start_at, booking.end_at
        product = session.get(Product, product_id)
        if product is None:
            continue
        loan = session.get(LoanApplication, link.loan_application_id)
        assert loan is not None
        for gap in gaps(session, product, start, end):
            key = f"{link.id}:{gap.group}:{gap.lapse_on.isoformat() if gap.lapse_on else 'none'}"
            if not _flag(session, "loan_application", loan.id, key, gap, product.id):
                continue
            flagged += 1
            aggregator_users = list(
                session.scalars(
                    select(User.id).where(
                        User.aggregator_id == loan.cluster.aggregator_id, User.is_active.is_(True)
                    )
                )
            )
            notify(
                session,
                user_ids=aggregator_users,
                template="permit_loan_at_risk",
                context={
                    "cluster": loan.cluster.name,
                    "loan": f"#{loan.id}",
                    "product": product.name,
                    "permit": type_names(session, gap.types),
                    "expires_on": gap.lapse_on,
                    "timezone": house.timezone,
                },
                key=f"permit-loan-{loan.id}-{key}",
            )
    return flagged
