"""The booking grid a member picks a slot from: one house, one local day, a row per machine and
a column per start on the house's slot grid, every free slot of the asked length in it.

A cell holds a slot when the machine could be booked from that start for `duration` minutes:
inside one of its open windows of the day (opening hours, less public holidays, the house's
closures and the machine's downtimes), overlapping no live booking (but the one being moved,
when a move asks), not started yet and not beyond the house's `max_days_ahead`. These are
the checks `bookings.check_slot` makes when the booking is made; the weekly quota and the
permits are checked then (they depend on the member's other bookings, not on the slot).

A day the grid shows nothing for says why (`closed`): `past`, `too_far_ahead`, `holiday`
(with `holiday`, its name in both languages), `closure` (with the house's reason) or
`not_open` (no opening hours on that weekday).

The review before booking (`review_slot`) runs every check the booking itself will run and
says what booking it would be: machine, rate, price, whether the house holds it for its
confirmation and until when, and the house's cancellation rule.

Reads only: the grid of a whole house is four queries whatever its size (the house's windows,
its closures, the day's downtimes and the day's bookings), plus the machines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import i18n, zones
from factoryshare.access import Actor, get_scoped
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import (
    Capability,
    Machine,
    MachineStatus,
    Member,
    ProductionHouse,
    Role,
    machine_capabilities,
)
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.models.houses import Downtime
from factoryshare.services import bookings, calendar

# The lengths a member may pick from (those on the house's slot grid).
DURATIONS = (30, 60, 90, 120, 180, 240, 360, 480)

Window = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # UTC
    end: dt.datetime
    price: int


@dataclass
class GridRow:
    machine: Machine
    # One entry per column of the grid: the slot starting there, or None (taken, closed).
    cells: list[Slot | None]

    @property
    def free(self) -> int:
        return sum(1 for cell in self.cells if cell is not None)

    @property
    def slots(self) -> list[Slot]:
        return [cell for cell in self.cells if cell is not None]


@dataclass
class DayGrid:
    house: ProductionHouse
    day: dt.date
    today: dt.date
    duration_minutes: int
    columns: list[dt.datetime]  # the starts on the house's grid, UTC
    rows: list[GridRow]
    capability: str | None = None
    closed: str | None = None  # past, too_far_ahead, holiday, closure, not_open
    holiday: i18n.Localized | None = None
    closure_reason: str | None = None
    # Day navigation: None where there is nothing to go to (before today, past the limit).
    previous: dt.date | None = None
    following: dt.date | None = None
    durations: list[int] = field(default_factory=list)

    @property
    def free(self) -> int:
        return sum(row.free for row in self.rows)


def durations(house: ProductionHouse) -> list[int]:
    """The booking lengths a member may pick at this house (those on its slot grid)."""
    return [d for d in DURATIONS if d % house.slot_minutes == 0] or [house.slot_minutes]


def member_house(session: Session, actor: Actor) -> ProductionHouse:
    """The house of the signed-in member's business."""
    member = session.get(Member, actor.member_id) if actor.member_id is not None else None
    house = session.get(ProductionHouse, member.house_id) if member is not None else None
    if house is None:
        raise NotFound(N_("Your account is not linked to a member business."))
    return house


def today(house: ProductionHouse, now: dt.datetime | None = None) -> dt.date:
    """The house's local date now."""
    return (now or utcnow()).astimezone(calendar.house_zone(house)).date()


def day_bounds(house: ProductionHouse, day: dt.date) -> Window:
    """Local midnight to midnight of `day`, in UTC."""
    zone = calendar.house_zone(house)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _cut(windows: list[Window], cuts: list[Window]) -> list[Window]:
    """`windows` less every interval of `cuts` (all sorted, UTC)."""
    result = list(windows)
    for cut_start, cut_end in cuts:
        kept: list[Window] = []
        for start, end in result:
            if cut_end <= start or cut_start >= end:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        result = kept
    return result


def _columns(house: ProductionHouse, day: dt.date, span: dt.timedelta) -> list[dt.datetime]:
    """Every start on the house's slot grid from which `span` fits in its opening hours of
    that weekday (holidays and closures left aside: those close the whole day)."""
    step = dt.timedelta(minutes=house.slot_minutes)
    starts: set[dt.datetime] = set()
    midnight = day_bounds(house, day)[0]
    for opens, closes in calendar.day_intervals(house, day):
        # The first grid start at or after the opening (local midnight + k slots).
        start = midnight + -(-(opens - midnight) // step) * step
        while start + span <= closes:
            starts.add(start)
            start += step
    return sorted(starts)


def _closed(
    session: Session, house: ProductionHouse, day: dt.date, now: dt.datetime
) -> tuple[str | None, i18n.Localized | None, str | None]:
    """Why the grid of `day` can offer nothing at all, if it cannot."""
    current = today(house, now)
    if day < current:
        return "past", None, None
    last = (
        (now + dt.timedelta(days=house.max_days_ahead))
        .astimezone(calendar.house_zone(house))
        .date()
    )
    if day > last:
        return "too_far_ahead", None, None
    name = calendar.holiday_name(day)
    if name is not None:
        return "holiday", name, None
    closure = calendar.closure_on(session, house, day)
    if closure is not None:
        return "closure", None, closure.reason or None
    if not calendar.day_intervals(house, day):
        return "not_open", None, None
    return None, None, None


def house_capabilities(session: Session, actor: Actor, house_id: int) -> list[Capability]:
    """What the house's active machines can do, by name (what a member picks the grid by)."""
    house = get_scoped(session, actor, ProductionHouse, house_id)
    return list(
        session.scalars(
            select(Capability)
            .where(
                Capability.id.in_(
                    select(machine_capabilities.c.capability_id)
                    .join(Machine, Machine.id == machine_capabilities.c.machine_id)
                    .where(Machine.house_id == house.id, Machine.status == MachineStatus.active)
                )
            )
            .order_by(Capability.name, Capability.id)
        )
    )


def _machines(
    session: Session, house: ProductionHouse, capability: str | None, machine_id: int | None = None
) -> list[Machine]:
    stmt = select(Machine).where(
        Machine.house_id == house.id, Machine.status == MachineStatus.active
    )
    if machine_id is not None:
        stmt = stmt.where(Machine.id == machine_id)
    if capability is not None:
        stmt = stmt.where(
            Machine.id.in_(
                select(machine_capabilities.c.machine_id)
                .join(Capability, Capability.id == machine_capabilities.c.capability_id)
                .where(Capability.code == capability)
            )
        )
    return list(session.scalars(stmt.order_by(Machine.name, Machine.id)))


def _grid(
    session: Session,
    house: ProductionHouse,
    day: dt.date,
    duration_minutes: int,
    machines: list[Machine],
    *,
    now: dt.datetime,
    capability: str | None = None,
    exclude_booking_id: int | None = None,
) -> DayGrid:
    span = dt.timedelta(minutes=duration_minutes)
    current = today(house, now)
    last = (
        (now + dt.timedelta(days=house.max_days_ahead))
        .astimezone(calendar.house_zone(house))
        .date()
    )
    closed, holiday, reason = _closed(session, house, day, now)
    columns = _columns(house, day, span)
    grid = DayGrid(
        house=house,
        day=day,
        today=current,
        duration_minutes=duration_minutes,
        columns=columns,
        rows=[],
        capability=capability,
        closed=closed,
        holiday=holiday,
        closure_reason=reason,
        durations=durations(house),
        previous=day - dt.timedelta(days=1) if day > current else None,
        following=day + dt.timedelta(days=1) if day < last else None,
    )
    if closed is not None or not machines:
        grid.rows = [GridRow(m, [None] * len(columns)) for m in machines]
        return grid
    start, end = day_bounds(house, day)
    start = max(start, now)
    ids = [m.id for m in machines]
    house_windows = calendar.open_windows(session, house, start, end) if end > start else []
    downtimes: dict[int, list[Window]] = {i: [] for i in ids}
    for d in session.scalars(
        select(Downtime)
        .where(Downtime.machine_id.in_(ids), Downtime.start_at < end, Downtime.end_at > start)
        .order_by(Downtime.start_at)
    ):
        downtimes[d.machine_id].append((d.start_at, d.end_at))
    busy: dict[int, list[Window]] = {i: [] for i in ids}
    stmt = select(Booking.machine_id, Booking.start_at, Booking.end_at).where(
        Booking.machine_id.in_(ids),
        Booking.status.in_(LIVE_STATUSES),
        Booking.start_at < end,
        Booking.end_at > start,
    )
    if exclude_booking_id is not None:
        stmt = stmt.where(Booking.id != exclude_booking_id)
    for machine_id, b_start, b_end in session.execute(stmt.order_by(Booking.start_at)):
        busy[machine_id].append((b_start, b_end))
    for machine in machines:
        free = _cut(house_windows, downtimes[machine.id] + busy[machine.id])
        cells: list[Slot | None] = []
        for column in columns:
            fits = column >= now and any(
                w_start <= column and column + span <= w_end for w_start, w_end in free
            )
            cells.append(
                Slot(column, column + span, bookings.price_for(machine, column, column + span))
                if fits
                else None
            )
        grid.rows.append(GridRow(machine, cells))
    return grid


def _check_duration(house: ProductionHouse, duration_minutes: int) -> None:
    if duration_minutes not in durations(house):
        raise ValidationFailed(
            N_("Pick one of the booking lengths of this house."),
            errors={
                "duration": [
                    N_("Use one of: %(value)s.", value=", ".join(str(d) for d in durations(house)))
                ]
            },
        )


def day_grid(
    session: Session,
    actor: Actor,
    house_id: int,
    day: dt.date,
    *,
    duration_minutes: int = 60,
    capability: str | None = None,
    now: dt.datetime | None = None,
) -> DayGrid:
    """The free slots of `duration_minutes` of every active machine of the house (or those
    of `capability`) on local date `day`."""
    house = get_scoped(session, actor, ProductionHouse, house_id)
    _check_duration(house, duration_minutes)
    now = now or utcnow()
    machines = _machines(session, house, capability)
    return _grid(session, house, day, duration_minutes, machines, now=now, capability=capability)


def move_grid(
    session: Session,
    actor: Actor,
    booking_id: int,
    day: dt.date | None = None,
    *,
    now: dt.datetime | None = None,
) -> tuple[Booking, DayGrid]:
    """Where a booking could move to on `day` (default: its own day): slots of its length on
    its machine, the time it holds itself counted free (a move may overlap its own time)."""
    booking = bookings.get_booking(session, actor, booking_id)
    house = booking.machine.house
    now = now or utcnow()
    if day is None:
        day = booking.start_at.astimezone(calendar.house_zone(house)).date()
    minutes = int((booking.end_at - booking.start_at).total_seconds() // 60)
    machines = [booking.machine] if booking.machine.status is MachineStatus.active else []
    grid = _grid(session, house, day, minutes, machines, now=now, exclude_booking_id=booking.id)
    # Its own slot is where it is already, not a place to move to.
    for row in grid.rows:
        row.cells = [
            None if cell is not None and cell.start == booking.start_at else cell
            for cell in row.cells
        ]
    return booking, grid


# -- the review before booking ---------------------------------------------------------------


@dataclass(frozen=True)
class SlotReview:
    machine: Machine
    house: ProductionHouse
    start: dt.datetime
    end: dt.datetime
    hourly_rate: int
    price: int
    held: bool  # the house confirms it first
    hold_expires_at: dt.datetime | None
    no_show_grace_minutes: int

    @property
    def cancellation_rule(self) -> i18n.Message:
        return cancellation_rule(self.house)


def cancellation_rule(house: ProductionHouse) -> i18n.Message:
    """The house's cancellation rule as its members read it (what bookings.cancel_booking and
    mark_no_show enforce: a live booking may be cancelled at no charge; a member who does not
    come within the grace after the start is marked a no-show and pays the price)."""
    return N_(
        "You can cancel this booking at no cost as long as it has not taken place. If you "
        "do not come within %(minutes)s minutes of the start, the house marks it a no-show "
        "and you pay the full price.",
        minutes=house.no_show_grace_minutes,
    )


def review_slot(
    session: Session,
    actor: Actor,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
) -> SlotReview:
    """The booking a member is about to make, after every check the booking will make (so a
    slot taken or closed meanwhile is refused here, in the same words)."""
    actor.require(Role.member)
    if actor.member_id is None:
        raise Forbidden(N_("Members book for themselves only."))
    now = now or utcnow()
    machine = get_scoped(session, actor, Machine, machine_id)
    bookings.check_slot(session, machine, actor.member_id, start, end, now=now)
    house = machine.house
    held = bool(house.requires_confirmation)
    return SlotReview(
        machine=machine,
        house=house,
        start=start,
        end=end,
        hourly_rate=machine.hourly_rate,
        price=bookings.price_for(machine, start, end),
        held=held,
        # As create_booking sets it: the house's hold time, never past the slot's start.
        hold_expires_at=min(now + dt.timedelta(minutes=house.hold_minutes), start)
        if held
        else None,
        no_show_grace_minutes=house.no_show_grace_minutes,
    )


def grid_as_dict(grid: DayGrid) -> dict[str, Any]:
    """The grid as the API answers it: times in the house's zone with their offset."""
    zone = calendar.house_zone(grid.house)
    return {
        "house_id": grid.house.id,
        "day": grid.day,
        "timezone": grid.house.timezone,
        "zone": zones.abbreviation(grid.house.timezone),
        "duration": grid.duration_minutes,
        "durations": grid.durations,
        "closed": grid.closed,
        "holiday": grid.holiday,
        "closure_reason": grid.closure_reason,
        "previous": grid.previous,
        "following": grid.following,
        "starts": [c.astimezone(zone).isoformat() for c in grid.columns],
        "machines": [
            {
                "machine_id": row.machine.id,
                "code": row.machine.code,
                "name": row.machine.name,
                "hourly_rate": row.machine.hourly_rate,
                "slots": [
                    {
                        "start": s.start.astimezone(zone).isoformat(),
                        "end": s.end.astimezone(zone).isoformat(),
                        "price": s.price,
                    }
                    for s in row.slots
                ],
            }
            for row in grid.rows
        ],
    }
