"""Reading bookings in the caller's scope: one, a filtered list, a page (upcoming first), and
the overlap count the benchmarks assert is 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, joinedload

from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.models import Machine
from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingStatus
from factoryshare.services.bookings.common import LONGEST_BOOKING


def get_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    return get_scoped(session, actor, Booking, booking_id)


def booking_query(
    actor: Actor,
    *,
    house_id: int | None = None,
    machine_id: int | None = None,
    member_id: int | None = None,
    status: BookingStatus | str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Select[Any]:
    """Bookings in the caller's scope, filtered, ordered by start."""
    stmt = scoped(actor, Booking)
    if house_id is not None:
        stmt = stmt.where(
            Booking.machine_id.in_(select(Machine.id).where(Machine.house_id == house_id))
        )
    if machine_id is not None:
        stmt = stmt.where(Booking.machine_id == machine_id)
    if member_id is not None:
        stmt = stmt.where(Booking.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Booking.status == BookingStatus(status))
    if end is not None:
        stmt = stmt.where(Booking.start_at < end)
    if start is not None:
        stmt = stmt.where(Booking.end_at > start)
    # Every reader shows the machine and its house's zone: loaded with the page, not per row.
    stmt = stmt.options(joinedload(Booking.machine).joinedload(Machine.house))
    return stmt.order_by(Booking.start_at, Booking.id)


def page_of_bookings(
    session: Session,
    actor: Actor,
    *,
    page: int = 1,
    page_size: int = 20,
    now: dt.datetime | None = None,
    **filters: Any,
) -> tuple[list[Booking], int]:
    """One page of the bookings in the caller's scope and how many there are: upcoming first
    (not over yet, soonest first), then the past ones, latest first.

    Each part is read in the order of the index on (start_at, id), from `now` on: a booking
    not over yet started at most MAX_BOOKING_HOURS ago, one over started before now. So a page,
    however deep, is a bounded index read, never a sort of every booking in scope; three
    statements (the counts, one or two parts) whatever the page."""
    now = now or utcnow()
    stmt = booking_query(actor, **filters).order_by(None)
    upcoming = Booking.end_at > now
    listed = stmt.subquery()
    total, ahead = session.execute(
        select(func.count(), func.count(case((listed.c.end_at > now, 1))))
    ).one()
    offset = (page - 1) * page_size
    items: list[Booking] = []
    if offset < ahead:
        items = list(
            session.scalars(
                stmt.where(upcoming, Booking.start_at > now - LONGEST_BOOKING)
                .order_by(Booking.start_at, Booking.id)
                .offset(offset)
                .limit(page_size)
            )
        )
    if len(items) < page_size and offset + len(items) < total:
        items += session.scalars(
            stmt.where(~upcoming, Booking.start_at < now)
            .order_by(Booking.start_at.desc(), Booking.id.desc())
            .offset(max(0, offset - ahead))
            .limit(page_size - len(items))
        )
    return items, int(total or 0)


def list_bookings(session: Session, actor: Actor, **filters: Any) -> list[Booking]:
    return list(session.scalars(booking_query(actor, **filters)))


def count_overlapping_live(session: Session) -> int:
    """How many pairs of live bookings of one machine overlap (must always be 0)."""
    other = Booking.__table__.alias("other")
    stmt = (
        select(func.count())
        .select_from(
            Booking.__table__.join(
                other,
                (other.c.machine_id == Booking.__table__.c.machine_id)
                & (other.c.id > Booking.__table__.c.id)
                & (other.c.start_at < Booking.__table__.c.end_at)
                & (other.c.end_at > Booking.__table__.c.start_at),
            )
        )
        .where(
            Booking.__table__.c.status.in_([s.value for s in LIVE_STATUSES]),
            other.c.status.in_([s.value for s in LIVE_STATUSES]),
        )
    )
    return int(session.scalar(stmt) or 0)
