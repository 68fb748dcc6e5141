"""The checks a booking must pass before it is written: the times, the house's slot grid, the
calendar (holidays, closures, downtime, opening hours), the overlap with another live booking
and the member's weekly quota; `check_slot` runs them all, for every way a booking is made or
moved. What they read comes from one statement (`slot_facts`).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, NamedTuple

from sqlalchemy import Date, Integer, Select, String, bindparam, literal, null, select, union_all
from sqlalchemy.orm import Session

from factoryshare import i18n, locking
from factoryshare.db import UTCDateTime
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import (
    Capability,
    Downtime,
    HouseClosure,
    Machine,
    MachineStatus,
    Product,
    ProductionHouse,
    machine_capabilities,
)
from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingQuota, BookingStatus
from factoryshare.services import calendar, permits
from factoryshare.services.bookings.common import LONGEST_BOOKING, MAX_BOOKING_HOURS, house_moment


def _overlapping(machine_id: Any, start: Any, end: Any, earliest_start: Any = None) -> Select[Any]:
    """Live bookings of the machine overlapping [start, end). The search is bounded by the
    longest booking (none starts before `earliest_start`, start - LONGEST_BOOKING unless
    given: slot_facts passes it as a bound parameter), so it reads one range of the index on
    (machine, start)."""
    if earliest_start is None:
        earliest_start = start - LONGEST_BOOKING
    return select(Booking).where(
        Booking.machine_id == machine_id,
        Booking.status.in_(LIVE_STATUSES),
        Booking.start_at < end,
        Booking.start_at > earliest_start,
        Booking.end_at > start,
    )


def assert_machine_free(
    session: Session,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    exclude_booking_id: int | None = None,
    *,
    clash: bool | None = None,
) -> None:
    """Raise Conflict(booking_conflict) if a live booking of the machine overlaps [start, end).
    `clash`: what slot_facts found, when the caller read it already (nothing is read then)."""
    if clash is None:
        stmt = _overlapping(machine_id, start, end)
        if exclude_booking_id is not None:
            stmt = stmt.where(Booking.id != exclude_booking_id)
        clash = session.scalars(stmt.limit(1)).first() is not None
    if clash:
        _raise_booking_conflict(machine_id)


class Closed(NamedTuple):
    id: int
    start_on: dt.date
    end_on: dt.date
    reason: str


class Down(NamedTuple):
    id: int
    start_at: dt.datetime
    end_at: dt.datetime


class SlotFacts:
    """What the checks of one slot read from the database, in one statement (`slot_facts`):
    the house's closures on the slot's local days, the machine's downtimes in the slot, whether
    another live booking of the machine overlaps it, and the house's weekly quotas of the
    machine's capabilities (capability id, hours per week)."""

    def __init__(self) -> None:
        self.closures: list[Closed] = []
        self.downtimes: list[Down] = []
        self.clash = False
        self.quotas: list[tuple[int, int]] = []


@functools.cache
def _slot_facts_statement(excluding: bool) -> Any:
    """The UNION ALL of slot_facts, built once per shape (with or without a booking to leave
    out) with bound parameters: building a statement of this size costs more Python time than
    the database takes to answer it, and a built statement's cache key is computed once."""

    def no_day() -> Any:
        return null().cast(Date)

    def no_time() -> Any:
        return null().cast(UTCDateTime)

    def no_text() -> Any:
        return null().cast(String)

    def no_number() -> Any:
        return null().cast(Integer)

    house_id: Any = bindparam("house_id")
    machine_id: Any = bindparam("machine_id")
    start: Any = bindparam("start")
    end: Any = bindparam("end")
    closures = select(
        literal("closure").label("kind"),
        HouseClosure.id.label("id"),
        HouseClosure.start_on.label("d1"),
        HouseClosure.end_on.label("d2"),
        no_time().label("t1"),
        no_time().label("t2"),
        HouseClosure.reason.label("reason"),
        no_number().label("n"),
    ).where(
        HouseClosure.house_id == house_id,
        HouseClosure.start_on <= bindparam("last_day"),
        HouseClosure.end_on >= bindparam("first_day"),
    )
    downtimes = select(
        literal("downtime"),
        Downtime.id,
        no_day(),
        no_day(),
        Downtime.start_at,
        Downtime.end_at,
        no_text(),
        no_number(),
    ).where(Downtime.machine_id == machine_id, Downtime.start_at < end, Downtime.end_at > start)
    overlap = _overlapping(machine_id, start, end, bindparam("earliest_start"))
    if excluding:
        overlap = overlap.where(Booking.id != bindparam("exclude_booking_id"))
    clash = (
        overlap.with_only_columns(
            literal("booking").label("kind"),
            Booking.id.label("id"),
            no_day().label("d1"),
            no_day().label("d2"),
            no_time().label("t1"),
            no_time().label("t2"),
            no_text().label("reason"),
            no_number().label("n"),
        )
        .limit(1)
        .subquery()
    )
    quotas = (
        select(
            literal("quota"),
            BookingQuota.capability_id,
            no_day(),
            no_day(),
            no_time(),
            no_time(),
            no_text(),
            BookingQuota.hours_per_week,
        )
        .join(
            machine_capabilities, machine_capabilities.c.capability_id == BookingQuota.capability_id
        )
        .where(BookingQuota.house_id == house_id, machine_capabilities.c.machine_id == machine_id)
    )
    return union_all(closures, downtimes, select(clash), quotas)


def slot_facts(
    session: Session,
    house: ProductionHouse,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    exclude_booking_id: int | None = None,
) -> SlotFacts:
    """One UNION ALL of four small index reads instead of a statement per check; read after
    the house's calendar is held (calendar.hold_calendar), so a closure written meanwhile is
    seen. Rows are (kind, id, first day, last day, from, to, reason, number); the overlap
    search is _overlapping's."""
    zone = calendar.house_zone(house)
    params: dict[str, Any] = {
        "house_id": house.id,
        "machine_id": machine_id,
        "start": start,
        "end": end,
        "earliest_start": start - LONGEST_BOOKING,
        "first_day": start.astimezone(zone).date(),
        "last_day": (end - dt.timedelta(microseconds=1)).astimezone(zone).date(),
    }
    if exclude_booking_id is not None:
        params["exclude_booking_id"] = exclude_booking_id
    facts = SlotFacts()
    stmt = _slot_facts_statement(exclude_booking_id is not None)
    for kind, id_, d1, d2, t1, t2, reason, n in session.execute(stmt, params):
        if kind == "closure":
            facts.closures.append(Closed(id_, d1, d2, reason))
        elif kind == "downtime":
            facts.downtimes.append(Down(id_, t1, t2))
        elif kind == "booking":
            facts.clash = True
        else:
            facts.quotas.append((id_, n))
    facts.closures.sort(key=lambda c: (c.start_on, c.id))
    facts.downtimes.sort(key=lambda d: (d.start_at, d.id))
    facts.quotas.sort()
    return facts


def _raise_booking_conflict(machine_id: int) -> None:
    raise Conflict(
        N_("This machine is already booked at that time. Please choose another slot."),
        code="booking_conflict",
        details={"machine_id": machine_id},
    )


def check_times(start: dt.datetime, end: dt.datetime) -> None:
    errors: dict[str, list[str]] = {}
    if start.tzinfo is None:
        errors["start"] = [N_("Give the time with its UTC offset, e.g. 2026-12-01T09:00:00+07:00.")]
    if end.tzinfo is None:
        errors["end"] = [N_("Give the time with its UTC offset, e.g. 2026-12-01T10:00:00+07:00.")]
    if errors:
        raise ValidationFailed(N_("Times must carry a UTC offset."), errors=errors)
    if end <= start:
        raise ValidationFailed(
            N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]}
        )
    if end - start > dt.timedelta(hours=MAX_BOOKING_HOURS):
        raise ValidationFailed(
            N_(
                "A booking may last at most %(max_booking_hours)s hours.",
                max_booking_hours=MAX_BOOKING_HOURS,
            ),
            errors={
                "end": [
                    N_(
                        "At most %(max_booking_hours)s hours after start.",
                        max_booking_hours=MAX_BOOKING_HOURS,
                    )
                ]
            },
        )


def check_alignment(house: ProductionHouse, start: dt.datetime, end: dt.datetime) -> None:
    zone = calendar.house_zone(house)
    errors: dict[str, list[str]] = {}
    for name, value in (("start", start), ("end", end)):
        local = value.astimezone(zone)
        minutes = local.hour * 60 + local.minute
        if local.second or local.microsecond or minutes % house.slot_minutes:
            errors[name] = [
                N_(
                    "Must be on a %(slot_minutes)s-minute boundary.",
                    slot_minutes=house.slot_minutes,
                )
            ]
    if errors:
        raise ValidationFailed(
            N_(
                "Bookings at this house start and end on %(slot_minutes)s-minute boundaries.",
                slot_minutes=house.slot_minutes,
            ),
            code="not_aligned",
            errors=errors,
        )


def check_calendar(
    session: Session,
    house: ProductionHouse,
    machine: Machine,
    start: dt.datetime,
    end: dt.datetime,
    facts: SlotFacts | None = None,
) -> None:
    """Holidays, closures, downtime and opening hours; with `facts` (slot_facts, read once for
    the whole check) nothing more is read."""
    zone = calendar.house_zone(house)
    day = start.astimezone(zone).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        name = calendar.holiday_name(day)
        if name is not None:
            raise Conflict(
                N_(
                    "The house is closed on %(day)s for a public holiday (%(name)s).",
                    day=i18n.day(day),
                    name=name,
                ),
                code="holiday",
                details={"date": day.isoformat(), "holiday": name},
            )
        if facts is None:
            closure: Any = calendar.closure_on(session, house, day)
        else:
            closure = next((c for c in facts.closures if c.start_on <= day <= c.end_on), None)
        if closure is not None:
            raise Conflict(
                N_(
                    "The house is closed on %(day)s (%(reason)s).",
                    day=i18n.day(day),
                    reason=closure.reason,
                )
                if closure.reason
                else N_("The house is closed on %(day)s.", day=i18n.day(day)),
                code="house_closed",
                details={"date": day.isoformat()},
            )
        day += dt.timedelta(days=1)
    downtimes: list[Any] = (
        calendar.machine_downtimes(session, machine.id, start, end)
        if facts is None
        else facts.downtimes
    )
    if downtimes:
        d = downtimes[0]
        raise Conflict(
            N_(
                "The machine is out of service from %(when)s to %(when2)s.",
                when=house_moment(house, d.start_at),
                when2=house_moment(house, d.end_at),
            ),
            code="machine_downtime",
            details={"downtime_id": d.id},
        )
    windows = calendar.open_windows(
        session, house, start, end, closures=None if facts is None else facts.closures
    )
    if not any(w_start <= start and end <= w_end for w_start, w_end in windows):
        raise Conflict(
            N_("That time is outside the house's opening hours."),
            code="outside_opening_hours",
            details={"opening_hours": house.opening_hours},
        )


def _week_bounds(house: ProductionHouse, when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    zone = calendar.house_zone(house)
    local_day = when.astimezone(zone).date()
    monday = local_day - dt.timedelta(days=local_day.weekday())
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    return start, end.astimezone(dt.UTC)


def hours_booked(
    session: Session,
    member_id: int,
    capability_id: int,
    week_start: dt.datetime,
    week_end: dt.datetime,
    exclude_booking_id: int | None = None,
) -> float:
    stmt = (
        select(Booking)
        .join(machine_capabilities, machine_capabilities.c.machine_id == Booking.machine_id)
        .where(
            machine_capabilities.c.capability_id == capability_id,
            Booking.member_id == member_id,
            Booking.status.in_((*LIVE_STATUSES, BookingStatus.completed)),
            Booking.start_at >= week_start,
            Booking.start_at < week_end,
        )
    )
    if exclude_booking_id is not None:
        stmt = stmt.where(Booking.id != exclude_booking_id)
    # The times as the database has them now, not as bookings loaded earlier remember them.
    rows = session.execute(stmt.with_only_columns(Booking.start_at, Booking.end_at))
    return sum((end - start).total_seconds() for start, end in rows) / 3600


def _check_quota(
    session: Session,
    house: ProductionHouse,
    machine: Machine,
    member_id: int,
    start: dt.datetime,
    end: dt.datetime,
    exclude_booking_id: int | None = None,
    quotas: list[tuple[int, int]] | None = None,
) -> None:
    """`quotas`: the house's (capability id, hours per week) of the machine's capabilities, when
    the caller read them already (slot_facts); a house without quotas costs nothing more."""
    if quotas is None:
        cap_ids = [c.id for c in machine.capabilities]
        if not cap_ids:
            return
        quotas = [
            (q.capability_id, q.hours_per_week)
            for q in session.scalars(
                select(BookingQuota)
                .where(BookingQuota.house_id == house.id, BookingQuota.capability_id.in_(cap_ids))
                .order_by(BookingQuota.capability_id)
            )
        ]
    if not quotas:
        return
    week_start, week_end = _week_bounds(house, start)
    # Count and insert one at a time per member and week: a booking of the same member and
    # week made meanwhile waits here until this transaction ends, then counts this one too.
    year, week, _ = week_start.astimezone(calendar.house_zone(house)).isocalendar()
    locking.advisory_lock(session, "booking_quota", member_id, year, week)
    wanted = (end - start).total_seconds() / 3600
    for capability_id, hours_per_week in quotas:
        used = hours_booked(
            session, member_id, capability_id, week_start, week_end, exclude_booking_id
        )
        if used + wanted > hours_per_week + 1e-9:
            left = max(0.0, hours_per_week - used)
            cap = session.get(Capability, capability_id)
            code = cap.code if cap else str(capability_id)
            raise Conflict(
                N_(
                    "You may book at most %(hours_per_week)s hours of %(code)s per week; "
                    "%(left)s hours are left this week.",
                    hours_per_week=hours_per_week,
                    code=code,
                    left=format(left, "g"),
                ),
                code="quota_exceeded",
                details={
                    "capability": code,
                    "hours_per_week": hours_per_week,
                    "hours_used": round(used, 2),
                    "hours_left": round(left, 2),
                },
            )


def check_slot(
    session: Session,
    machine: Machine,
    member_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime,
    product: Product | None = None,
    exclude_booking_id: int | None = None,
    placed_by_plan: bool = False,
    on_grid: bool = True,
    held: bool = False,
) -> None:
    """Every check a booking of `machine` over [start, end) must pass, in one place for every
    way a booking is made or moved: a member's or a manager's booking, a move, and a published
    schedule run (factoryshare/services/scheduling/publishing.py). The times themselves, not in
    the past, the machine in service, the house's calendar (holidays, closures, downtime,
    opening hours), the product's permits, and no overlap with another live booking.

    The house's slot grid too, unless `on_grid` is false: a plan solved without the grid
    (the problem's `grid` is 1) places whole minutes. A member's own limits hold for what a
    member or manager books by hand: how far ahead, and the weekly quota; `placed_by_plan`
    leaves them to the plan the house's manager published (neither its horizon nor the quota
    is a member's choice there).

    `held`: the caller loaded the machine with its house's row share-locked and read after
    the lock (as create_booking loads it), the lock hold_calendar takes. The calendar, the downtimes,
    the overlap and the quotas are read after the lock in one statement (slot_facts).
    """
    # Shared lock on the house's row, its calendar read after it: a closure or a change of
    # its hours, slot grid or zone made meanwhile is either seen here or sees this booking.
    house = machine.house if held else calendar.hold_calendar(session, machine.house)
    check_times(start, end)
    if on_grid:
        check_alignment(house, start, end)
    if start < now:
        raise Conflict(N_("That time has already passed."), code="in_the_past")
    if not placed_by_plan and start > now + dt.timedelta(days=house.max_days_ahead):
        raise Conflict(
            N_(
                "You can book at most %(max_days_ahead)s days ahead at this house.",
                max_days_ahead=house.max_days_ahead,
            ),
            code="too_far_ahead",
            details={"max_days_ahead": house.max_days_ahead},
        )
    if machine.status is not MachineStatus.active:
        raise Conflict(
            N_(
                "Machine %(machine)s is not available for booking (%(status)s).",
                machine=machine.name,
                status=i18n.status(machine.status),
            ),
            code="machine_unavailable",
        )
    facts = slot_facts(session, house, machine.id, start, end, exclude_booking_id)
    check_calendar(session, house, machine, start, end, facts)
    if not placed_by_plan:
        _check_quota(
            session, house, machine, member_id, start, end, exclude_booking_id, quotas=facts.quotas
        )
    if product is not None:
        permits.require_permits(session, product, start, end)
    assert_machine_free(session, machine.id, start, end, exclude_booking_id, clash=facts.clash)
