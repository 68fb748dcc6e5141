"""Reading bookings in the caller's scope: one, a filtered list, a page (upcoming first), and
the overlap count the benchmarks assert is 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Select,
    case,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, joinedload

from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.models import Machine
from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingStatus
from factoryshare.paging import Page, capped_count, capped_total, check_depth
from factoryshare.services.bookings.common import LONGEST_BOOKING


def get_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    return get_scoped(session, actor, Booking, booking_id)


def _filtered(
    actor: Actor,
    *,
    house_id: int | None = None,
    machine_id: int | None = None,
    member_id: int | None = None,
    status: BookingStatus | str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Select[Any]:
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
    return stmt


def booking_query(actor: Actor, **filters: Any) -> Select[Any]:
    """Bookings in the caller's scope, filtered, ordered by start."""
    # Every reader shows the machine and its house's zone: loaded with the page, not per row.
    stmt = _filtered(actor, **filters).options(
        joinedload(Booking.machine).joinedload(Machine.house)
    )
    return stmt.order_by(Booking.start_at, Booking.id)


# The list's three parts, in the order they are listed: the bookings under way (started, not
# over), the ones still to start (both soonest first), then the past ones (latest first).
UNDER_WAY, FUTURE, PAST = 0, 1, 2
PARTS = (UNDER_WAY, FUTURE, PAST)


def _in_part(session: Session, base: Select[Any], part: int, now: dt.datetime) -> Select[Any]:
    """The bookings of one part, each a bounded range of an index: the ones to start and the
    past ones are the ranges of (start_at, id) after and before now. The ones under way are
    the periods holding now: on PostgreSQL the GiST index on the period
    (ix_bookings_period) finds just those; elsewhere the (start_at, id) range of the longest
    booking before now (they all started then), which is fine for a small data set."""
    if part == FUTURE:
        return base.where(Booking.start_at > now)
    if part == PAST:
        return base.where(Booking.end_at <= now, Booking.start_at < now)
    stmt = base.where(Booking.start_at <= now, Booking.end_at > now)
    if session.get_bind().dialect.name == "postgresql":
        # The index's own expression, word for word, so the planner matches it.
        period = func.tstzrange(Booking.start_at, Booking.end_at, literal_column("'[)'"))
        return stmt.where(period.op("@>")(literal(now, Booking.start_at.type)))
    return stmt.where(Booking.start_at > now - LONGEST_BOOKING)


def _keys(
    stmt: Select[Any], part: int, *, offset: int, limit: int, after: tuple[Any, Any] | None
) -> Select[int, int, dt.datetime]:
    """The ids of one part's page in the part's order, after `after` or `offset` rows in."""
    key = tuple_(Booking.start_at, Booking.id)
    if part == PAST:
        order: tuple[Any, ...] = (Booking.start_at.desc(), Booking.id.desc())
        if after is not None:
            stmt = stmt.where(key < tuple_(*after))
    else:
        order = (Booking.start_at, Booking.id)
        if after is not None:
            stmt = stmt.where(key > tuple_(*after))
    return (
        stmt.with_only_columns(
            Booking.id.label("id"), literal(part).label("part"), Booking.start_at.label("start_at")
        )
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )


def page_of_bookings(
    session: Session,
    actor: Actor,
    *,
    page: int = 1,
    page_size: int = 20,
    after: tuple[Any, ...] | None = None,
    now: dt.datetime | None = None,
    **filters: Any,
) -> Page[Booking]:
    """One page of the bookings in the caller's scope: upcoming first (not over yet, soonest
    first), then the past ones, latest first. By page number (with the count, see
    factoryshare.paging) or after the position `next` of the page before.

    A position is (now, part, start_at, id): a walk keeps the `now` of its first page, so a
    booking that ends while a caller pages on is listed once, in the part it was in then.
    The page's items are one statement reading at most page_size + 1 entries of each part's
    index range it touches (a page by number also reads the entries it skips, and counts
    in one more statement: the total up to TOTAL_CAP, the parts only as far as the page)."""
    base = _filtered(actor, **filters)
    limit = page_size + 1
    total: int | None = None
    capped = False
    branches: list[Select[int, int, dt.datetime]] = []
    if after is not None:
        now, at_part, start, booking_id = after
        for part in PARTS[PARTS.index(at_part) :]:
            in_part = _in_part(session, base, part, now)
            position = (start, booking_id) if part == at_part else None
            branches.append(_keys(in_part, part, offset=0, limit=limit, after=position))
    else:
        now = now or utcnow()
        offset = check_depth(page, page_size)
        # A part is counted only as far as this page reaches: where the next part starts
        # matters only when it starts on this page.
        counted, *sizes = session.execute(
            select(
                capped_count(Booking.id, base),
                *(
                    capped_count(Booking.id, _in_part(session, base, part, now), offset + page_size)
                    for part in PARTS[:-1]
                ),
            )
        ).one()
        total, capped = capped_total(counted)
        before = 0  # the items of the parts before this one
        for part, size in zip(PARTS, [*sizes, None]):
            if before >= offset + limit:
                break
            skip = max(0, offset - before)
            if size is None or size > skip:
                in_part = _in_part(session, base, part, now)
                branches.append(_keys(in_part, part, offset=skip, limit=limit, after=None))
            before += size or 0
    keys = (
        branches[0] if len(branches) == 1 else union_all(*(select(b.subquery()) for b in branches))
    ).subquery("page_keys")
    ascending, descending = keys.c.part != PAST, keys.c.part == PAST
    rows = session.execute(
        select(Booking, keys.c.part)
        .join(keys, keys.c.id == Booking.id)
        .options(joinedload(Booking.machine).joinedload(Machine.house))
        .order_by(
            keys.c.part,
            case((ascending, keys.c.start_at)),
            case((ascending, keys.c.id)),
            case((descending, keys.c.start_at)).desc(),
            case((descending, keys.c.id)).desc(),
        )
        .limit(limit)
    ).all()
    items = [booking for booking, _part in rows[:page_size]]
    next_position = None
    if len(rows) > page_size:
        last, last_part = rows[page_size - 1]
        next_position = (now, last_part, last.start_at, last.id)
    return Page(items, total, capped, next_position)


def list_bookings(session: Session, actor: Actor, **filters: Any) -> list[Booking]:
    return list(session.scalars(booking_query(actor, **filters)))


def upcoming_and_recent(
    session: Session, actor: Actor, *, recent: int = 20, now: dt.datetime | None = None
) -> tuple[list[Booking], list[Booking]]:
    """The caller's bookings not over yet (soonest first) and the `recent` last ones that are
    (latest first): a member's own bookings page. A booking is over once its end has passed."""
    now = now or utcnow()
    upcoming = session.scalars(booking_query(actor).where(Booking.end_at > now))
    past = session.scalars(
        booking_query(actor)
        .where(Booking.end_at <= now)
        .order_by(None)
        .order_by(Booking.start_at.desc(), Booking.id.desc())
        .limit(recent)
    )
    return list(upcoming), list(past)


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
