"""Booking machine time: the checks a booking must pass, holds, prices, quotas, moves,
cancellation and the manager's confirm / complete / no-show.

Two live bookings of one machine never overlap. On PostgreSQL an exclusion constraint makes
the database refuse the second one whatever the timing (a violation becomes the same 409
`booking_conflict`); on SQLite every write transaction starts with BEGIN IMMEDIATE, so the
overlap check (`slot_facts`) and the insert run serialised. The insert runs in a SAVEPOINT
of its own (`flush_guarded`), so a booking that loses its slot undoes only itself.

A member's weekly quota has no row to lock: the count and the insert run one at a time per
member and week (`locking.advisory_lock` in `_check_quota`, before counting).

Error codes (all 409 unless noted): booking_conflict, outside_opening_hours, holiday,
house_closed, machine_downtime, machine_unavailable, quota_exceeded, too_far_ahead,
in_the_past, invalid_transition, too_early (complete before the start, no-show before the start
plus the house's grace); `not_aligned` is a 422 (the input itself is malformed for the
house: times off the house's slot grid), as is an end not after its start.

Every change of state (move, cancel, confirm, complete, no-show, a hold expiring) first locks
the booking's row and reads its state again (factoryshare/locking.py): of two conflicting
changes at once, one wins and the other answers 409 `invalid_transition` with the state the
winner left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    case,
    false,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload

from factoryshare import audit, i18n, locking
from factoryshare.access import (
    Actor,
    cluster_member_ids,
    get_scoped,
    register_scope,
    scope_filter,
    scoped,
)
from factoryshare.db import MAX_ID, UTCDateTime, utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.events import publish
from factoryshare.i18n import N_
from factoryshare.models import (
    Capability,
    Downtime,
    HouseClosure,
    Machine,
    MachineStatus,
    Member,
    Product,
    ProductionHouse,
    Role,
    machine_capabilities,
)
from factoryshare.models.bookings import (
    LIVE_STATUSES,
    Booking,
    BookingQuota,
    BookingSource,
    BookingStatus,
)
from factoryshare.services import calendar, permits

# Longest single booking; longer work is several bookings. Every booking passes check_times
# (check_slot), so a booking that overlaps [start, end) starts after start - MAX_BOOKING_HOURS:
# the overlap search reads the index on (machine_id, start_at) over that window only.
MAX_BOOKING_HOURS = 24 * 7
LONGEST_BOOKING = dt.timedelta(hours=MAX_BOOKING_HOURS)


def _booking_scope(actor: Actor) -> Any:
    if actor.role is Role.member:
        return Booking.member_id == actor.member_id
    if actor.role is Role.manager:
        return Booking.machine_id.in_(
            select(Machine.id).where(Machine.house_id.in_(actor.house_ids))
        )
    if actor.role is Role.aggregator:
        return Booking.member_id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


register_scope(Booking, _booking_scope)


def house_moment(house: ProductionHouse, value: dt.datetime) -> str:
    """`value` inside a sentence, in the house's time zone: `Sel 3 Mar 2026 10:00 WITA`."""
    return i18n.moment(value, house.timezone)


def price_for(machine: Machine, start: dt.datetime, end: dt.datetime) -> int:
    """Hourly rate times duration, in integer rupiah rounded half-even."""
    seconds = Decimal(int((end - start).total_seconds()))
    amount = Decimal(machine.hourly_rate) * seconds / Decimal(3600)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _overlapping(machine_id: int, start: dt.datetime, end: dt.datetime) -> Select[Any]:
    return select(Booking).where(
        Booking.machine_id == machine_id,
        Booking.status.in_(LIVE_STATUSES),
        Booking.start_at < end,
        Booking.start_at > start - LONGEST_BOOKING,
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
    seen. Rows are (kind, id, first day, last day, from, to, reason, number)."""
    zone = calendar.house_zone(house)
    first_day = start.astimezone(zone).date()
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    def no_day() -> Any:
        return null().cast(Date)

    def no_time() -> Any:
        return null().cast(UTCDateTime)

    def no_text() -> Any:
        return null().cast(String)

    def no_number() -> Any:
        return null().cast(Integer)

    closures = select(
        literal("closure").label("kind"), HouseClosure.id.label("id"), HouseClosure.start_on.label("d1"),
        HouseClosure.end_on.label("d2"), no_time().label("t1"), no_time().label("t2"),
        HouseClosure.reason.label("reason"), no_number().label("n"),
    ).where(HouseClosure.house_id == house.id, HouseClosure.start_on <= last_day,
            HouseClosure.end_on >= first_day)
    downtimes = select(
        literal("downtime"), Downtime.id, no_day(), no_day(), Downtime.start_at, Downtime.end_at,
        no_text(), no_number(),
    ).where(Downtime.machine_id == machine_id, Downtime.start_at < end, Downtime.end_at > start)
    overlap = _overlapping(machine_id, start, end)
    if exclude_booking_id is not None:
        overlap = overlap.where(Booking.id != exclude_booking_id)
    clash = overlap.with_only_columns(
        literal("booking").label("kind"), Booking.id.label("id"), no_day().label("d1"),
        no_day().label("d2"), no_time().label("t1"), no_time().label("t2"),
        no_text().label("reason"), no_number().label("n"),
    ).limit(1).subquery()
    quotas = select(
        literal("quota"), BookingQuota.capability_id, no_day(), no_day(), no_time(), no_time(),
        no_text(), BookingQuota.hours_per_week,
    ).join(machine_capabilities, machine_capabilities.c.capability_id == BookingQuota.capability_id
           ).where(BookingQuota.house_id == house.id, machine_capabilities.c.machine_id == machine_id)
    facts = SlotFacts()
    stmt = union_all(closures, downtimes, select(clash), quotas)
    for kind, id_, d1, d2, t1, t2, reason, n in session.execute(stmt):
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
        raise ValidationFailed(N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]})
    if end - start > dt.timedelta(hours=MAX_BOOKING_HOURS):
        raise ValidationFailed(
            N_("A booking may last at most %(max_booking_hours)s hours.",
               max_booking_hours=MAX_BOOKING_HOURS),
            errors={"end": [N_("At most %(max_booking_hours)s hours after start.",
                               max_booking_hours=MAX_BOOKING_HOURS)]},
        )


def check_alignment(house: ProductionHouse, start: dt.datetime, end: dt.datetime) -> None:
    zone = calendar.house_zone(house)
    errors: dict[str, list[str]] = {}
    for name, value in (("start", start), ("end", end)):
        local = value.astimezone(zone)
        minutes = local.hour * 60 + local.minute
        if local.second or local.microsecond or minutes % house.slot_minutes:
            errors[name] = [N_("Must be on a %(slot_minutes)s-minute boundary.",
                               slot_minutes=house.slot_minutes)]
    if errors:
        raise ValidationFailed(
            N_("Bookings at this house start and end on %(slot_minutes)s-minute boundaries.",
               slot_minutes=house.slot_minutes),
            code="not_aligned",
            errors=errors,
        )


def check_calendar(
    session: Session, house: ProductionHouse, machine: Machine, start: dt.datetime, end: dt.datetime,
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
                N_("The house is closed on %(day)s for a public holiday (%(name)s).",
                   day=i18n.day(day), name=name),
                code="holiday",
                details={"date": day.isoformat(), "holiday": name},
            )
        if facts is None:
            closure: Any = calendar.closure_on(session, house, day)
        else:
            closure = next((c for c in facts.closures if c.start_on <= day <= c.end_on), None)
        if closure is not None:
            raise Conflict(
                N_("The house is closed on %(day)s (%(reason)s).", day=i18n.day(day),
                   reason=closure.reason) if closure.reason
                else N_("The house is closed on %(day)s.", day=i18n.day(day)),
                code="house_closed",
                details={"date": day.isoformat()},
            )
        day += dt.timedelta(days=1)
    downtimes: list[Any] = (calendar.machine_downtimes(session, machine.id, start, end)
                            if facts is None else facts.downtimes)
    if downtimes:
        d = downtimes[0]
        raise Conflict(
            N_("The machine is out of service from %(when)s to %(when2)s.",
               when=house_moment(house, d.start_at), when2=house_moment(house, d.end_at)),
            code="machine_downtime",
            details={"downtime_id": d.id},
        )
    windows = calendar.open_windows(session, house, start, end,
                                    closures=None if facts is None else facts.closures)
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
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    return start, end.astimezone(dt.timezone.utc)


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
        quotas = [(q.capability_id, q.hours_per_week) for q in session.scalars(
            select(BookingQuota).where(
                BookingQuota.house_id == house.id, BookingQuota.capability_id.in_(cap_ids)
            ).order_by(BookingQuota.capability_id)
        )]
    if not quotas:
        return
    week_start, week_end = _week_bounds(house, start)
    # Count and insert one at a time per member and week: a booking of the same member and
    # week made meanwhile waits here until this transaction ends, then counts this one too.
    year, week, _ = week_start.astimezone(calendar.house_zone(house)).isocalendar()
    locking.advisory_lock(session, "booking_quota", member_id, year, week)
    wanted = (end - start).total_seconds() / 3600
    for capability_id, hours_per_week in quotas:
        used = hours_booked(session, member_id, capability_id, week_start, week_end,
                            exclude_booking_id)
        if used + wanted > hours_per_week + 1e-9:
            left = max(0.0, hours_per_week - used)
            cap = session.get(Capability, capability_id)
            code = cap.code if cap else str(capability_id)
            raise Conflict(
                N_("You may book at most %(hours_per_week)s hours of %(code)s per week; "
                   "%(left)s hours are left this week.",
                   hours_per_week=hours_per_week, code=code, left=format(left, 'g')),
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
    schedule run (factoryshare/services/scheduling.py). The times themselves, not in the past,
    the machine in service, the house's calendar (holidays, closures, downtime, opening
    hours), the product's permits, and no overlap with another live booking.

    The house's slot grid too, unless `on_grid` is false: a plan solved without the grid
    (the problem's `grid` is 1) places whole minutes. A member's own limits hold for what a
    member or manager books by hand: how far ahead, and the weekly quota; `placed_by_plan`
    leaves them to the plan the house's manager published (neither its horizon nor the quota
    is a member's choice there).

    `held`: the caller loaded the machine with its house's row share-locked and read after
    the lock (`_machine_held`), the lock hold_calendar takes. The calendar, the downtimes,
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
            N_("You can book at most %(max_days_ahead)s days ahead at this house.",
               max_days_ahead=house.max_days_ahead),
            code="too_far_ahead",
            details={"max_days_ahead": house.max_days_ahead},
        )
    if machine.status is not MachineStatus.active:
        raise Conflict(
            N_("Machine %(machine)s is not available for booking (%(status)s).",
               machine=machine.name, status=i18n.status(machine.status)),
            code="machine_unavailable",
        )
    facts = slot_facts(session, house, machine.id, start, end, exclude_booking_id)
    check_calendar(session, house, machine, start, end, facts)
    if not placed_by_plan:
        _check_quota(session, house, machine, member_id, start, end, exclude_booking_id,
                     quotas=facts.quotas)
    if product is not None:
        permits.require_permits(session, product, start, end)
    assert_machine_free(session, machine.id, start, end, exclude_booking_id, clash=facts.clash)


def flush_guarded(session: Session, stage: Callable[[], object] | None = None, *,
                  savepoint: bool = True) -> None:
    """Write a booking in a SAVEPOINT of its own, so that a lost race undoes only that write
    and the caller's transaction goes on (a series skips just that week).

    `stage` makes the change: adds the new booking, or sets a moved one's machine and times.
    It runs after the SAVEPOINT is open and without autoflush, so the INSERT or UPDATE reaches
    the database inside it. (`begin_nested()` flushes whatever is pending *before* it emits the
    SAVEPOINT: a change staged before this call is written outside it, and a violation there
    aborts the whole transaction.) On PostgreSQL the exclusion constraint turns a booking that
    lost the race for its slot into `booking_conflict`.

    `savepoint=False` (a caller whose transaction ends with the refusal): a plain flush, the
    same booking_conflict for a lost race.
    """
    try:
        with session.begin_nested() if savepoint else nullcontext():
            if stage is not None:
                with session.no_autoflush:
                    stage()
            session.flush()
    except IntegrityError as exc:
        if "excl_bookings_machine_overlap" in str(exc.orig) or "exclusion" in str(exc.orig).lower():
            raise Conflict(
                N_("This machine is already booked at that time. Please choose another slot."),
                code="booking_conflict",
            ) from None
        raise


def _resolve_member(session: Session, actor: Actor, machine: Machine, member_id: int | None) -> int:
    if actor.role is Role.member:
        if member_id is not None and member_id != actor.member_id:
            raise Forbidden(N_("Members book for themselves only."))
        assert actor.member_id is not None
        return actor.member_id
    if actor.role not in (Role.manager, Role.admin):
        raise Forbidden(N_("Your role may not book machines."))
    if not actor.manages(machine.house_id):
        raise Forbidden(N_("You may only book machines of houses you manage."))
    if member_id is None:
        raise ValidationFailed(
            N_("Say which member the booking is for."), errors={"member_id": [N_("Required for managers.")]}
        )
    member = session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None or member.house_id != machine.house_id:
        raise ValidationFailed(
            N_("That member is not registered with this machine's house."),
            errors={"member_id": [N_("Not a member of this house.")]},
        )
    return member.id


def create_booking(
    session: Session,
    actor: Actor,
    *,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    member_id: int | None = None,
    product_id: int | None = None,
    note: str | None = None,
    source: BookingSource = BookingSource.direct,
    series_id: int | None = None,
    now: dt.datetime | None = None,
    savepoint: bool = True,
) -> Booking:
    """`savepoint`: the insert runs in a SAVEPOINT of its own (`flush_guarded`), so that a
    caller booking several slots goes on after one lost to a concurrent booking. A caller
    whose transaction ends with the refusal anyway (one booking per request) passes False:
    a lost race still answers booking_conflict, and the whole transaction is rolled back."""
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    machine = _machine_held(session, actor, machine_id)
    member = _resolve_member(session, actor, machine, member_id)
    if product_id is not None:
        product = session.get(Product, product_id) if isinstance(product_id, int) else None
        if product is None or product.member_id != member:
            raise ValidationFailed(
                N_("That product does not belong to the member."),
                errors={"product_id": [N_("Unknown product for this member.")]},
            )
    check_slot(session, machine, member, start, end, now=now,
               product=product if product_id is not None else None, held=True)
    house = machine.house
    held = house.requires_confirmation and actor.role is Role.member
    booking = Booking(
        machine_id=machine.id,
        machine=machine,
        member_id=member,
        product_id=product_id,
        start_at=start,
        end_at=end,
        status=BookingStatus.held if held else BookingStatus.confirmed,
        source=source,
        hourly_rate=machine.hourly_rate,
        price=price_for(machine, start, end),
        note=note or "",
        # A hold never outlives the start of the slot it holds.
        hold_expires_at=min(now + dt.timedelta(minutes=house.hold_minutes), start) if held else None,
        created_by_id=actor.user_id,
        series_id=series_id,
        created_at=now,
        updated_at=now,
    )
    flush_guarded(session, lambda: session.add(booking), savepoint=savepoint)
    audit.record(session, actor, "booking.created", booking, after=audit.snapshot(booking))
    publish(session, "booking_created", booking=booking, actor=actor)
    return booking


def _machine_held(session: Session, actor: Actor, machine_id: int) -> Machine:
    """The machine in the caller's scope (NotFound otherwise) with its house, the house's row
    share-locked and read after the lock (calendar.hold_calendar's lock) in the same statement."""
    name = i18n.label(Machine)
    if not isinstance(machine_id, int) or not 0 < machine_id <= MAX_ID:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=machine_id))
    machine: Machine | None = session.scalars(
        select(Machine).where(scope_filter(actor, Machine)).join(Machine.house)
        .where(Machine.id == machine_id)
        .options(contains_eager(Machine.house))
        .with_for_update(read=True, of=ProductionHouse)
        .execution_options(populate_existing=True)
    ).first()
    if machine is None:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=machine_id))
    return machine


def get_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    return get_scoped(session, actor, Booking, booking_id)


def _booking_for_change(session: Session, actor: Actor, booking_id: int) -> Booking:
    """The booking in the caller's scope, its row locked and its state read after the lock."""
    return locking.for_update(session, actor, Booking, booking_id)


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
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 20,
    now: dt.datetime | None = None, **filters: Any,
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
        select(func.count(), func.count(case((listed.c.end_at > now, 1))))).one()
    offset = (page - 1) * page_size
    items: list[Booking] = []
    if offset < ahead:
        items = list(session.scalars(
            stmt.where(upcoming, Booking.start_at > now - LONGEST_BOOKING)
            .order_by(Booking.start_at, Booking.id).offset(offset).limit(page_size)))
    if len(items) < page_size and offset + len(items) < total:
        items += session.scalars(
            stmt.where(~upcoming, Booking.start_at < now)
            .order_by(Booking.start_at.desc(), Booking.id.desc())
            .offset(max(0, offset - ahead)).limit(page_size - len(items)))
    return items, int(total or 0)


def list_bookings(session: Session, actor: Actor, **filters: Any) -> list[Booking]:
    return list(session.scalars(booking_query(actor, **filters)))


def _may_change(actor: Actor, booking: Booking) -> None:
    if actor.role is Role.member and booking.member_id == actor.member_id:
        return
    if actor.manages(booking.machine.house_id):
        return
    raise Forbidden(N_("You may not change this booking."))


def _free(session: Session, booking: Booking, start: dt.datetime, end: dt.datetime) -> None:
    publish(session, "booking_freed", booking=booking, start=start, end=end)


def move_booking(
    session: Session,
    actor: Actor,
    booking_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    machine_id: int | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    booking = _booking_for_change(session, actor, booking_id)
    _may_change(actor, booking)
    locking.require_state(booking, LIVE_STATUSES,
                          N_("A %(status)s booking cannot be changed.",
                             status=i18n.status(booking.status)), action="move")
    before = audit.snapshot(booking)
    new_start = start or booking.start_at
    new_end = end or booking.end_at
    machine = booking.machine
    if machine_id is not None and machine_id != booking.machine_id:
        machine = get_scoped(session, actor, Machine, machine_id)
        if machine.house_id != booking.machine.house_id:
            raise ValidationFailed(
                N_("A booking can only move to a machine of the same house."),
                errors={"machine_id": [N_("Must be a machine of the same house.")]},
            )
    return move_loaded_booking(session, actor, booking, machine, new_start, new_end, now=now,
                               note=note, before=before)


def move_loaded_booking(
    session: Session,
    actor: Actor,
    booking: Booking,
    machine: Machine,
    new_start: dt.datetime,
    new_end: dt.datetime,
    *,
    now: dt.datetime,
    note: str | None = None,
    before: dict[str, Any] | None = None,
    placed_by_plan: bool = False,
    on_grid: bool = True,
    reason: str | None = None,
    status: BookingStatus | None = None,
) -> Booking:
    """Move a live booking (locked by the caller) after the same checks as a new booking:
    one audit event `booking.move`, and the events `booking_freed` (its old slot) and
    `booking_moved` (to tell the member). A move_booking and a published plan both come here.

    A held booking keeps waiting for the manager's answer: its hold lasts the house's
    `hold_minutes` again from the move, as when the slot was first asked for, and never
    outlives the new start (a hold is the house's time to say yes to *this* slot).

    `status`: the state the booking takes with its new slot (a published plan parks the
    bookings it moves outside the live states while it applies, so that one may take
    another's old slot).
    """
    before = before if before is not None else audit.snapshot(booking)
    moved = (new_start, new_end, machine.id) != (booking.start_at, booking.end_at, booking.machine_id)
    if moved:
        product = session.get(Product, booking.product_id) if booking.product_id is not None else None
        check_slot(session, machine, booking.member_id, new_start, new_end, now=now,
                   product=product, exclude_booking_id=booking.id, placed_by_plan=placed_by_plan,
                   on_grid=on_grid)
    old = (booking.machine_id, booking.start_at, booking.end_at)

    def stage() -> None:
        # Set inside the SAVEPOINT, so a move that loses its new slot undoes only itself.
        if status is not None:
            booking.status = status
        if moved:
            booking.start_at, booking.end_at = new_start, new_end
            booking.machine_id = machine.id
            booking.machine = machine
            booking.hourly_rate = machine.hourly_rate
            booking.price = price_for(machine, new_start, new_end)
            if booking.status is BookingStatus.held:
                booking.hold_expires_at = min(
                    now + dt.timedelta(minutes=machine.house.hold_minutes), new_start)
        if note is not None:
            booking.note = note
        booking.updated_at = now

    flush_guarded(session, stage)
    if moved:
        _free(session, booking, old[1], old[2])
    audit.record(session, actor, "booking.moved", booking, before=before, after=audit.snapshot(booking))
    if moved:
        publish(session, "booking_moved", booking=booking, actor=actor, old_machine_id=old[0],
                old_start=old[1], old_end=old[2], reason=reason)
    return booking


def cancel_booking(
    session: Session, actor: Actor, booking_id: int, *, reason: str | None = None
) -> Booking:
    actor.require(Role.member, Role.manager, Role.admin)
    booking = _booking_for_change(session, actor, booking_id)
    _may_change(actor, booking)
    return cancel_loaded_booking(session, actor, booking, reason or N_("cancelled"))


def reject_booking(session: Session, actor: Actor, booking_id: int, *, reason: str) -> Booking:
    """A house's manager turns down a held booking: it is cancelled with the reason given.

    Only a hold can be rejected (a confirmed booking is cancelled); the state is checked after
    the row lock, so a booking confirmed a moment earlier is not rejected behind its back.
    """
    actor.require(Role.manager, Role.admin)
    booking = _booking_for_change(session, actor, booking_id)
    if not actor.manages(booking.machine.house_id):
        raise Forbidden(N_("Only the house's managers may do this."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(N_("Say why the booking is rejected."),
                               errors={"reason": [N_("Give a reason for the member.")]})
    locking.require_state(booking, (BookingStatus.held,),
                          N_("A %(status)s booking cannot be rejected; only a held one can.",
                             status=i18n.status(booking.status)),
                          action="reject")
    cancel_loaded_booking(session, actor, booking, reason)
    # The member hears why (factoryshare/events.py routes it to the notifications).
    publish(session, "booking_rejected", booking=booking, reason=reason, actor=actor)
    return booking


def cancel_loaded_booking(session: Session, actor: Actor, booking: Booking,
                          reason: str) -> Booking:
    """Cancel a booking the caller has loaded already (a downtime's, a re-plan's): audited,
    event `booking_cancelled`; one no longer live is refused (InvalidTransition)."""
    # Callers may hand in a booking they read without a lock (a downtime, a re-plan): lock it
    # and look again, so that a booking cancelled or finished meanwhile is not cancelled twice.
    locking.refresh_for_update(session, booking)
    locking.require_state(booking, LIVE_STATUSES,
                          N_("A %(status)s booking cannot be cancelled.",
                             status=i18n.status(booking.status)), action="cancel")
    before = audit.snapshot(booking)
    booking.status = BookingStatus.cancelled
    booking.cancelled_reason = reason[:300]
    booking.hold_expires_at = None
    booking.updated_at = utcnow()
    session.flush()
    _free(session, booking, booking.start_at, booking.end_at)
    audit.record(session, actor, "booking.cancelled", booking, before=before, after=audit.snapshot(booking))
    publish(session, "booking_cancelled", booking=booking, actor=actor, reason=reason)
    return booking


# A refused transition names the step tried (the API's `details.action`), not its audit action.
_ATTEMPTED = {"booking.confirmed": "confirm", "booking.completed": "complete",
              "booking.marked_no_show": "no_show"}


def _transition(
    session: Session,
    actor: Actor,
    booking_id: int,
    allowed_from: tuple[BookingStatus, ...],
    to: BookingStatus,
    action: str,
    *,
    now: dt.datetime | None = None,
    not_before: Callable[[Booking], dt.datetime] | None = None,
) -> Booking:
    actor.require(Role.manager, Role.admin)
    now = now or utcnow()
    booking = _booking_for_change(session, actor, booking_id)
    if not actor.manages(booking.machine.house_id):
        raise Forbidden(N_("Only the house's managers may do this."))
    locking.require_state(booking, allowed_from,
                          N_("A %(status)s booking cannot become %(to)s.",
                             status=i18n.status(booking.status), to=i18n.status(to)),
                          action=_ATTEMPTED[action])
    if not_before is not None and now < (earliest := not_before(booking)):
        house = booking.machine.house
        raise Conflict(
            N_("This booking cannot be marked %(value)s before %(when)s.",
               value=i18n.status(to), when=house_moment(house, earliest)),
            code="too_early",
            details={"earliest": earliest.astimezone(calendar.house_zone(house)).isoformat(),
                     "status": booking.status.value},
        )
    before = audit.snapshot(booking)
    booking.status = to
    booking.hold_expires_at = None
    booking.updated_at = now
    session.flush()
    audit.record(session, actor, action, booking, before=before, after=audit.snapshot(booking))
    return booking


def confirm_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    booking = _transition(session, actor, booking_id, (BookingStatus.held,),
                          BookingStatus.confirmed, "booking.confirmed")
    publish(session, "booking_confirmed", booking=booking, actor=actor)
    return booking


def complete_booking(session: Session, actor: Actor, booking_id: int, *,
                     now: dt.datetime | None = None) -> Booking:
    """Completed once it has started (never ahead: a completed booking releases loan money)."""
    from factoryshare.services.production_requests import done_when_complete

    booking = _transition(session, actor, booking_id, (BookingStatus.confirmed,),
                          BookingStatus.completed, "booking.completed", now=now,
                          not_before=lambda b: b.start_at)
    # The last booking of a request's last lot makes the request done.
    done_when_complete(session, actor, booking.id)
    return booking


def mark_no_show(session: Session, actor: Actor, booking_id: int, *,
                 now: dt.datetime | None = None) -> Booking:
    """A no-show once the member is the house's grace (`no_show_grace_minutes`) late."""
    return _transition(
        session, actor, booking_id, (BookingStatus.confirmed,), BookingStatus.no_show,
        "booking.marked_no_show", now=now,
        not_before=lambda b: b.start_at + dt.timedelta(minutes=b.machine.house.no_show_grace_minutes))


def expire_holds(session: Session, now: dt.datetime | None = None) -> int:
    """Cancel every hold whose period ran out; returns how many expired."""
    now = now or utcnow()
    # A hold being confirmed or cancelled at this very moment is locked: skip it; if it is
    # still an expired hold afterwards, the next run cancels it.
    expired = session.scalars(
        select(Booking).where(
            Booking.status == BookingStatus.held,
            Booking.hold_expires_at.is_not(None),
            Booking.hold_expires_at <= now,
        ).order_by(Booking.id).with_for_update(of=Booking, skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    system = Actor.system()
    for booking in expired:
        cancel_loaded_booking(session, system, booking, N_("hold expired"))
        publish(session, "hold_expired", booking=booking)
    return len(expired)


def count_overlapping_live(session: Session) -> int:
    """How many pairs of live bookings of one machine overlap (must always be 0)."""
    other = Booking.__table__.alias("other")
    stmt = select(func.count()).select_from(Booking.__table__.join(
        other,
        (other.c.machine_id == Booking.__table__.c.machine_id)
        & (other.c.id > Booking.__table__.c.id)
        & (other.c.start_at < Booking.__table__.c.end_at)
        & (other.c.end_at > Booking.__table__.c.start_at),
    )).where(
        Booking.__table__.c.status.in_([s.value for s in LIVE_STATUSES]),
        other.c.status.in_([s.value for s in LIVE_STATUSES]),
    )
    return int(session.scalar(stmt) or 0)


__all__ = [
    "assert_machine_free",
    "cancel_booking",
    "complete_booking",
    "confirm_booking",
    "create_booking",
    "expire_holds",
    "get_booking",
    "list_bookings",
    "mark_no_show",
    "move_booking",
    "check_slot",
    "price_for",
    "reject_booking",
]


def _align_up(house: ProductionHouse, value: dt.datetime) -> dt.datetime:
    zone = calendar.house_zone(house)
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=house.slot_minutes)
    offset = local - midnight
    steps = -(-offset // step)  # ceiling division of timedeltas
    return (midnight + steps * step).astimezone(dt.timezone.utc)


def _align_down(house: ProductionHouse, value: dt.datetime) -> dt.datetime:
    zone = calendar.house_zone(house)
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=house.slot_minutes)
    return (midnight + ((local - midnight) // step) * step).astimezone(dt.timezone.utc)


def free_windows(
    session: Session,
    machine: Machine,
    start: dt.datetime,
    end: dt.datetime,
    *,
    duration: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> list[calendar.Window]:
    """When `machine` is free in [start, end): open, not down, not booked, not past, aligned to
    the house's slot grid, and at least `duration` long."""
    return free_windows_of(session, machine.house, [machine], start, end, duration=duration,
                           now=now)[machine.id]


def free_windows_of(
    session: Session,
    house: ProductionHouse,
    machines: list[Machine],
    start: dt.datetime,
    end: dt.datetime,
    *,
    duration: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> dict[int, list[calendar.Window]]:
    """free_windows for several machines of one house, by machine id, in three statements
    whatever their number: the house's closures, the machines' downtimes, their live bookings."""
    now = now or utcnow()
    start = max(start, now)
    result: dict[int, list[calendar.Window]] = {m.id: [] for m in machines}
    ids = [m.id for m in machines if m.status is MachineStatus.active]
    if end <= start or not ids:
        return result
    zone = calendar.house_zone(house)
    closures = list(session.scalars(select(HouseClosure).where(
        HouseClosure.house_id == house.id,
        HouseClosure.start_on <= end.astimezone(zone).date(),
        HouseClosure.end_on >= start.astimezone(zone).date(),
    )))
    cuts: dict[int, list[calendar.Window]] = {i: [] for i in ids}
    for machine_id, d_start, d_end in session.execute(
        select(Downtime.machine_id, Downtime.start_at, Downtime.end_at).where(
            Downtime.machine_id.in_(ids), Downtime.start_at < end, Downtime.end_at > start)
        .order_by(Downtime.start_at)
    ):
        cuts[machine_id].append((d_start, d_end))
    booked: dict[int, list[calendar.Window]] = {i: [] for i in ids}
    for machine_id, b_start, b_end in session.execute(
        select(Booking.machine_id, Booking.start_at, Booking.end_at).where(
            Booking.machine_id.in_(ids),
            Booking.status.in_(LIVE_STATUSES),
            Booking.start_at < end,
            Booking.start_at > start - LONGEST_BOOKING,
            Booking.end_at > start,
        ).order_by(Booking.start_at)
    ):
        booked[machine_id].append((b_start, b_end))
    open_hours = calendar.open_windows(session, house, start, end, closures=closures)
    minimum = duration or dt.timedelta(minutes=house.slot_minutes)
    for machine_id in ids:
        windows = calendar.subtract_windows(
            calendar.subtract_windows(open_hours, cuts[machine_id]), booked[machine_id])
        for w_start, w_end in windows:
            a, b = _align_up(house, w_start), _align_down(house, w_end)
            if b - a >= minimum:
                result[machine_id].append((a, b))
    return result


def alternative_slots(
    session: Session,
    machine: Machine,
    duration: dt.timedelta,
    after: dt.datetime,
    *,
    limit: int = 3,
    days: int = 14,
    now: dt.datetime | None = None,
) -> list[tuple[Machine, dt.datetime, dt.datetime]]:
    """Up to `limit` earliest slots of `duration` from `after` on, on this machine or another
    active machine of the same house sharing a capability."""
    cap_ids = [c.id for c in machine.capabilities]
    candidates = [machine]
    if cap_ids:
        candidates += list(
            session.scalars(
                select(Machine)
                .join(machine_capabilities, machine_capabilities.c.machine_id == Machine.id)
                .where(
                    Machine.house_id == machine.house_id,
                    Machine.id != machine.id,
                    Machine.status == MachineStatus.active,
                    machine_capabilities.c.capability_id.in_(cap_ids),
                )
                .distinct()
                .order_by(Machine.id)
            )
        )
    until = after + dt.timedelta(days=days)
    slots: list[tuple[Machine, dt.datetime, dt.datetime]] = []
    free = free_windows_of(session, machine.house, candidates, after, until, duration=duration,
                           now=now)
    for candidate in candidates:
        windows = free[candidate.id]
        for w_start, _w_end in windows[:limit]:
            slots.append((candidate, w_start, w_start + duration))
    slots.sort(key=lambda s: (s[1], s[0].id))
    return slots[:limit]


def house_quotas(session: Session, actor: Actor, house_id: int) -> list[BookingQuota]:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    return list(session.scalars(
        select(BookingQuota).where(BookingQuota.house_id == house.id).order_by(BookingQuota.id)
    ))


def replace_quotas(
    session: Session, actor: Actor, house_id: int, quotas: list[dict[str, Any]]
) -> list[BookingQuota]:
    """Replace a house's weekly quotas: [{"capability": code, "hours_per_week": n}, ...]."""
    actor.require(Role.manager, Role.admin)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise Forbidden(N_("Only the house's managers may set its quotas."))
    wanted: dict[int, int] = {}
    for i, item in enumerate(quotas):
        cap = session.scalars(select(Capability).where(Capability.code == item["capability"])).first()
        if cap is None:
            raise ValidationFailed(N_("Unknown capability."),
                                   errors={f"quotas[{i}].capability": [N_("Unknown capability.")]})
        if cap.id in wanted:
            raise ValidationFailed(N_("Each capability at most once."),
                                   errors={f"quotas[{i}].capability": [N_("Given twice.")]})
        wanted[cap.id] = item["hours_per_week"]
    before = [{"capability_id": q.capability_id, "hours_per_week": q.hours_per_week}
              for q in house_quotas(session, actor, house.id)]
    for q in house_quotas(session, actor, house.id):
        session.delete(q)
    session.flush()
    for cap_id, hours in wanted.items():
        session.add(BookingQuota(house_id=house.id, capability_id=cap_id, hours_per_week=hours))
    session.flush()
    audit.record(session, actor, "booking_quotas.replaced", object_type="production_houses",
                 object_id=house.id, before={"quotas": before},
                 after={"quotas": [{"capability_id": c, "hours_per_week": h} for c, h in wanted.items()]})
    return house_quotas(session, actor, house.id)


def availability(
    session: Session,
    actor: Actor,
    house_id: int,
    *,
    start: dt.datetime,
    end: dt.datetime,
    capability: str | None = None,
    duration_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[ProductionHouse, list[tuple[Machine, list[calendar.Window]]]]:
    """Free windows per machine of a house (optionally of one capability)."""
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if end <= start:
        raise ValidationFailed(N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]})
    if end - start > dt.timedelta(days=31):
        raise ValidationFailed(N_("Ask for at most 31 days at once."), errors={"end": [N_("At most 31 days after start.")]})
    stmt = select(Machine).where(Machine.house_id == house.id, Machine.status == MachineStatus.active)
    if capability is not None:
        stmt = stmt.join(machine_capabilities, machine_capabilities.c.machine_id == Machine.id).join(
            Capability, Capability.id == machine_capabilities.c.capability_id
        ).where(Capability.code == capability)
    duration = dt.timedelta(minutes=duration_minutes) if duration_minutes else None
    machines = list(session.scalars(stmt.order_by(Machine.id)))
    free = free_windows_of(session, house, machines, start, end, duration=duration, now=now)
    return house, [(m, free[m.id]) for m in machines]
