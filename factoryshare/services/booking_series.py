"""Weekly booking series: the same machine, weekday and local time every week over a range.

Every occurrence goes through the same checks as a single booking (opening hours, holidays,
closures, downtimes, overlaps, quota, permits, how far ahead). When some occurrences cannot be
booked, the caller chooses: without `skip_conflicts` nothing is booked and the answer lists
each conflicting date with its reason; with it, the others are booked and the skipped dates
are kept on the series.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import (
    Actor,
    get_scoped,
    scoped,
)
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Machine, Role
from factoryshare.models.booking_extras import BookingSeries, SeriesStatus
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings, calendar

# A series covers at most a year of weeks; longer plans are renewed.
MAX_WEEKS = 52


@dataclass(frozen=True)
class Occurrence:
    day: dt.date
    start: dt.datetime
    end: dt.datetime


def occurrences(
    zone: dt.tzinfo, first_start: dt.datetime, first_end: dt.datetime, until: dt.date
) -> list[Occurrence]:
    """Every weekly occurrence from the first one to `until` (a house-local date, included),
    at the same local wall-clock time each week."""
    local_start = first_start.astimezone(zone)
    local_end = first_end.astimezone(zone)
    span = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    out: list[Occurrence] = []
    day = local_start.date()
    while day <= until:
        start = dt.datetime.combine(day, local_start.timetz().replace(tzinfo=None), tzinfo=zone)
        end = (start.replace(tzinfo=None) + span).replace(tzinfo=zone)
        out.append(Occurrence(day, start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
        day += dt.timedelta(weeks=1)
    return out


def _validate(zone: dt.tzinfo, start: dt.datetime, end: dt.datetime, until: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    if start.tzinfo is None:
        errors["start"] = [N_("Give the time with its UTC offset, e.g. 2026-12-01T09:00:00+07:00.")]
    if end.tzinfo is None:
        errors["end"] = [N_("Give the time with its UTC offset, e.g. 2026-12-01T10:00:00+07:00.")]
    if errors:
        raise ValidationFailed(N_("Times must carry a UTC offset."), errors=errors)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if end <= start:
        raise ValidationFailed(
            N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]}
        )
    if local_end.date() != local_start.date():
        raise ValidationFailed(
            N_("Each occurrence of a series starts and ends on the same day."),
            errors={"end": [N_("Must be on the same day as start (house time).")]},
        )
    first = local_start.date()
    if until < first:
        raise ValidationFailed(
            N_("The series must end on or after its first day."),
            errors={"until": [N_("Must not be before the first occurrence.")]},
        )
    if (until - first).days // 7 + 1 > MAX_WEEKS:
        raise ValidationFailed(
            N_("A series covers at most %(max_weeks)s weeks.", max_weeks=MAX_WEEKS),
            errors={
                "until": [
                    N_(
                        "At most %(max_weeks)s weeks after the first occurrence.",
                        max_weeks=MAX_WEEKS,
                    )
                ]
            },
        )


def create_series(
    session: Session,
    actor: Actor,
    *,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    until: dt.date,
    member_id: int | None = None,
    product_id: int | None = None,
    note: str | None = None,
    skip_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> tuple[BookingSeries, list[Booking]]:
    """Book `start`–`end` every week up to `until`; see the module docstring for conflicts."""
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    machine = get_scoped(session, actor, Machine, machine_id)
    house = machine.house
    zone = calendar.house_zone(house)
    _validate(zone, start, end, until)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    series = BookingSeries(
        machine_id=machine.id,
        member_id=0,  # set below, once create_booking has resolved whom it is for
        product_id=product_id,
        first_date=local_start.date(),
        last_date=until,
        start_time=local_start.time().replace(tzinfo=None),
        end_time=local_end.time().replace(tzinfo=None),
        note=note or "",
        skip_conflicts=skip_conflicts,
        skipped=[],
        created_by_id=actor.user_id,
        created_at=now,
    )
    booked: list[Booking] = []
    skipped: list[dict[str, Any]] = []
    for occ in occurrences(zone, start, end, until):
        try:
            # A refused occurrence leaves nothing behind: the checks write nothing, and the
            # insert has a SAVEPOINT of its own (bookings.flush_guarded), so a week lost to a
            # concurrent booking rolls back just that week and the transaction goes on.
            booking = bookings.create_booking(
                session,
                actor,
                machine_id=machine.id,
                start=occ.start,
                end=occ.end,
                member_id=member_id,
                product_id=product_id,
                note=note,
                now=now,
            )
        except Conflict as exc:
            skipped.append(
                {
                    "date": occ.day.isoformat(),
                    "start": occ.start.astimezone(zone).isoformat(),
                    "end": occ.end.astimezone(zone).isoformat(),
                    "code": exc.code,
                    "message": exc.message,
                }
            )
            continue
        booked.append(booking)
    if skipped and not skip_conflicts:
        raise Conflict(
            N_(
                "%(count)s of %(value)s weekly slots cannot be booked; nothing was booked. "
                "Choose another time, or ask to skip the slots that conflict.",
                count=len(skipped),
                value=len(skipped) + len(booked),
            ),
            code="series_conflicts",
            details={"conflicts": skipped},
        )
    if not booked:
        raise Conflict(
            N_("None of the weekly slots can be booked; nothing was booked."),
            code="series_conflicts",
            details={"conflicts": skipped},
        )
    series.member_id = booked[0].member_id
    series.skipped = skipped
    session.add(series)
    session.flush()
    for booking in booked:
        booking.series_id = series.id
    session.flush()
    audit.record(
        session,
        actor,
        "booking_series.created",
        series,
        after=audit.snapshot(series, extra={"booking_ids": [b.id for b in booked]}),
    )
    return series, booked


def get_series(session: Session, actor: Actor, series_id: int) -> BookingSeries:
    return get_scoped(session, actor, BookingSeries, series_id)


def list_series(
    session: Session, actor: Actor, *, member_id: int | None = None, machine_id: int | None = None
) -> Any:
    stmt = scoped(actor, BookingSeries)
    if member_id is not None:
        stmt = stmt.where(BookingSeries.member_id == member_id)
    if machine_id is not None:
        stmt = stmt.where(BookingSeries.machine_id == machine_id)
    # The schema gives each series its house's zone: machines and houses read with the page.
    return stmt.order_by(BookingSeries.id).options(
        selectinload(BookingSeries.machine).selectinload(Machine.house)
    )


def series_bookings(session: Session, series: BookingSeries) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking).where(Booking.series_id == series.id).order_by(Booking.start_at)
        )
    )


def cancel_series(
    session: Session,
    actor: Actor,
    series_id: int,
    *,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[BookingSeries, list[Booking]]:
    """Cancel every live occurrence that has not started yet; past ones stay as they were."""
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    series = get_series(session, actor, series_id)
    if series.status is SeriesStatus.cancelled:
        raise Conflict(N_("This series is already cancelled."), code="invalid_transition")
    cancelled: list[Booking] = []
    for booking in series_bookings(session, series):
        if booking.status in LIVE_STATUSES and booking.start_at > now:
            cancelled.append(
                bookings.cancel_booking(
                    session, actor, booking.id, reason=reason or N_("series cancelled")
                )
            )
    before = audit.snapshot(series)
    series.status = SeriesStatus.cancelled
    session.flush()
    audit.record(
        session,
        actor,
        "booking_series.cancelled",
        series,
        before=before,
        after=audit.snapshot(series),
    )
    return series, cancelled
