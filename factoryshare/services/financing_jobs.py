"""The scheduled jobs that tie bookings to KUR Klaster loans (run by factoryshare.jobs).

- `link_financing`: a booking of a cluster member, for a product the loan's plan finances,
  made while the loan is endorsed, lender-approved or being paid out/repaid, is attached to
  that loan (once: a booking already financed by a loan is left alone).
  A loan being disbursed also gets its production milestones paid: the part of the approved
  amount that the completed linked bookings represent (by booked minutes) is released as a
  tranche when more is due than was paid out.
- `release_unfunded_holds`: a held booking in the plan of an application that was rejected by
  the aggregator or declined by the lender is cancelled (through the bookings service, so the
  slot is freed the usual way) and its member is told why.

Both are idempotent: a second run finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from factoryshare import audit, zones
from factoryshare.access import Actor
from factoryshare.i18n import N_
from factoryshare.models import Machine, ProductionHouse, User, cluster_members
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import LoanApplication, LoanPlanLink, LoanStatus
from factoryshare.models.scheduling import ProductionRequest
from factoryshare.services import bookings, calendar, loans, notifications

FINANCED = (
    LoanStatus.approved,
    LoanStatus.lender_approved,
    LoanStatus.disbursing,
    LoanStatus.repaying,
)
UNFUNDED = (LoanStatus.rejected, LoanStatus.lender_declined)
LINKABLE_BOOKINGS = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.completed)
RELEASE_REASON = N_("financing was not granted")


def _plan_products(session: Session, app: LoanApplication) -> set[int]:
    from_requests = (
        select(ProductionRequest.product_id)
        .join(LoanPlanLink, LoanPlanLink.production_request_id == ProductionRequest.id)
        .where(LoanPlanLink.loan_application_id == app.id)
    )
    from_bookings = (
        select(Booking.product_id)
        .join(LoanPlanLink, LoanPlanLink.booking_id == Booking.id)
        .where(LoanPlanLink.loan_application_id == app.id, Booking.product_id.is_not(None))
    )
    return set(session.scalars(from_requests)) | set(session.scalars(from_bookings))


def link_financing(session: Session, now: dt.datetime) -> dict[str, Any]:
    linked = 0
    loans_seen = 0
    already_financed = select(LoanPlanLink.booking_id).where(LoanPlanLink.booking_id.is_not(None))
    for app in session.scalars(
        select(LoanApplication)
        .where(LoanApplication.status.in_(FINANCED))
        .order_by(LoanApplication.id)
    ):
        loans_seen += 1
        products = _plan_products(session, app)
        if not products:
            continue
        members = select(cluster_members.c.member_id).where(
            cluster_members.c.cluster_id == app.cluster_id
        )
        candidates = session.scalars(
            select(Booking.id)
            .where(
                Booking.member_id.in_(members),
                Booking.product_id.in_(products),
                Booking.status.in_(LINKABLE_BOOKINGS),
                Booking.id.not_in(already_financed),
            )
            .order_by(Booking.id)
        ).all()
        for booking_id in candidates:
            session.add(
                LoanPlanLink(loan_application_id=app.id, booking_id=booking_id, linked_by="job")
            )
            linked += 1
        session.flush()
        if candidates:
            audit.record(
                session,
                Actor.system(),
                "loan_application.bookings_linked",
                app,
                after={"booking_ids": list(candidates)},
            )
    released = 0
    for app in session.scalars(
        select(LoanApplication)
        .where(LoanApplication.status == LoanStatus.disbursing)
        .order_by(LoanApplication.id)
    ):
        amount = milestone_due(session, app)
        if amount > 0:
            loans.add_tranche(session, Actor.system(), app.id, amount, on=now.date())
            released += 1
    return {"loans": loans_seen, "linked": linked, "tranches_released": released}


def milestone_due(session: Session, app: LoanApplication) -> int:
    """What the completed linked bookings have earned and was not yet paid out."""
    rows = session.execute(
        select(Booking.status, Booking.start_at, Booking.end_at)
        .join(LoanPlanLink, LoanPlanLink.booking_id == Booking.id)
        .where(LoanPlanLink.loan_application_id == app.id, Booking.status.in_(LINKABLE_BOOKINGS))
    ).all()
    total = sum(int((e - s).total_seconds()) for _, s, e in rows)
    done = sum(int((e - s).total_seconds()) for st, s, e in rows if st is BookingStatus.completed)
    if not total or not app.approved_amount:
        return 0
    earned = app.approved_amount * done // total
    return max(0, earned - loans.disbursed_total(session, app))


def _tell_member(
    session: Session, booking: Booking, app: LoanApplication, decided: bool = True
) -> int:
    user_ids = list(
        session.scalars(
            select(User.id).where(User.member_id == booking.member_id, User.is_active.is_(True))
        )
    )
    if not user_ids:
        return 0
    house = booking.machine.house
    zone = calendar.house_zone(house)
    notifications.notify(
        session,
        user_ids=user_ids,
        template="booking_cancelled",
        context={
            "booking_id": booking.id,
            "machine": booking.machine.name,
            "start": booking.start_at.astimezone(zone).isoformat(),
            "end": booking.end_at.astimezone(zone).isoformat(),
            "zone": zones.abbreviation(house.timezone),
            # The messages show every time in this zone (WIB, WITA or WIT).
            "timezone": house.timezone,
            "reason": (
                f"the financing (loan application {app.id}) was {app.status.value.replace('_', ' ')}"
                if decided
                else f"the financing (loan application {app.id}) was not decided by the house's deadline"
            ),
        },
        key=f"unfunded:{app.id}:booking:{booking.id}",
    )
    return len(user_ids)


def release_unfunded_holds(session: Session, now: dt.datetime) -> dict[str, Any]:
    system = Actor.system()
    released = notified = 0
    rows = session.execute(
        select(Booking, LoanApplication)
        .join(LoanPlanLink, LoanPlanLink.booking_id == Booking.id)
        .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
        .where(LoanApplication.status.in_(UNFUNDED), Booking.status == BookingStatus.held)
        .order_by(Booking.id)
    ).all()
    done: set[int] = set()
    for booking, app in rows:
        if booking.id in done:
            continue
        # A hold that another, still-live application finances is not released.
        other = session.scalar(
            select(LoanPlanLink.id)
            .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
            .where(
                LoanPlanLink.booking_id == booking.id,
                or_(
                    LoanApplication.status.in_(FINANCED),
                    LoanApplication.status.in_(
                        (LoanStatus.draft, LoanStatus.submitted, LoanStatus.changes_requested)
                    ),
                ),
            )
        )
        if other is not None:
            continue
        done.add(booking.id)
        bookings.cancel_booking(session, system, booking.id, reason=RELEASE_REASON)
        released += 1
        notified += _tell_member(session, booking, app)
    late = _release_undecided(session, system, now, done)
    return {"released": released + late[0], "notified": notified + late[1]}


UNDECIDED = (LoanStatus.draft, LoanStatus.submitted, LoanStatus.changes_requested)
UNDECIDED_REASON = N_("financing was not decided in time")


def _release_undecided(
    session: Session, system: Actor, now: dt.datetime, done: set[int]
) -> tuple[int, int]:
    """Held slots whose only financing is still undecided when the house's deadline
    (`financing_decision_days` before the slot) has passed are freed for others."""
    released = notified = 0
    rows = session.execute(
        select(Booking, LoanApplication, ProductionHouse)
        .join(LoanPlanLink, LoanPlanLink.booking_id == Booking.id)
        .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
        .join(Machine, Machine.id == Booking.machine_id)
        .join(ProductionHouse, ProductionHouse.id == Machine.house_id)
        .where(
            LoanApplication.status.in_(UNDECIDED),
            Booking.status == BookingStatus.held,
            ProductionHouse.financing_decision_days.is_not(None),
        )
        .order_by(Booking.id)
    ).all()
    for booking, app, house in rows:
        days = house.financing_decision_days or 0  # the query keeps houses that set it
        if booking.id in done or booking.start_at - dt.timedelta(days=days) > now:
            continue
        financed = session.scalar(
            select(LoanPlanLink.id)
            .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
            .where(LoanPlanLink.booking_id == booking.id, LoanApplication.status.in_(FINANCED))
        )
        if financed is not None:
            continue
        done.add(booking.id)
        bookings.cancel_booking(session, system, booking.id, reason=UNDECIDED_REASON)
        released += 1
        notified += _tell_member(session, booking, app, decided=False)
    return released, notified
