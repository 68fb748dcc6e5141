"""When machines are free: free windows on the house's slot grid, the alternatives offered for
a slot that is taken, and the free windows per machine of a house.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, get_scoped
from factoryshare.db import utcnow
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import (
    Capability,
    Downtime,
    HouseClosure,
    Machine,
    MachineStatus,
    ProductionHouse,
    machine_capabilities,
)
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import calendar
from factoryshare.services.bookings.common import LONGEST_BOOKING


def _align_up(house: ProductionHouse, value: dt.datetime) -> dt.datetime:
    zone = calendar.house_zone(house)
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=house.slot_minutes)
    offset = local - midnight
    steps = -(-offset // step)  # ceiling division of timedeltas
    return (midnight + steps * step).astimezone(dt.UTC)


def _align_down(house: ProductionHouse, value: dt.datetime) -> dt.datetime:
    zone = calendar.house_zone(house)
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=house.slot_minutes)
    return (midnight + ((local - midnight) // step) * step).astimezone(dt.UTC)


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
    return free_windows_of(
        session, machine.house, [machine], start, end, duration=duration, now=now
    )[machine.id]


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
    closures = list(
        session.scalars(
            select(HouseClosure).where(
                HouseClosure.house_id == house.id,
                HouseClosure.start_on <= end.astimezone(zone).date(),
                HouseClosure.end_on >= start.astimezone(zone).date(),
            )
        )
    )
    cuts: dict[int, list[calendar.Window]] = {i: [] for i in ids}
    for machine_id, d_start, d_end in session.execute(
        select(Downtime.machine_id, Downtime.start_at, Downtime.end_at)
        .where(Downtime.machine_id.in_(ids), Downtime.start_at < end, Downtime.end_at > start)
        .order_by(Downtime.start_at)
    ):
        cuts[machine_id].append((d_start, d_end))
    booked: dict[int, list[calendar.Window]] = {i: [] for i in ids}
    for machine_id, b_start, b_end in session.execute(
        select(Booking.machine_id, Booking.start_at, Booking.end_at)
        .where(
            Booking.machine_id.in_(ids),
            Booking.status.in_(LIVE_STATUSES),
            Booking.start_at < end,
            Booking.start_at > start - LONGEST_BOOKING,
            Booking.end_at > start,
        )
        .order_by(Booking.start_at)
    ):
        booked[machine_id].append((b_start, b_end))
    open_hours = calendar.open_windows(session, house, start, end, closures=closures)
    minimum = duration or dt.timedelta(minutes=house.slot_minutes)
    for machine_id in ids:
        windows = calendar.subtract_windows(
            calendar.subtract_windows(open_hours, cuts[machine_id]), booked[machine_id]
        )
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
    free = free_windows_of(
        session, machine.house, candidates, after, until, duration=duration, now=now
    )
    for candidate in candidates:
        windows = free[candidate.id]
        for w_start, _w_end in windows[:limit]:
            slots.append((candidate, w_start, w_start + duration))
    slots.sort(key=lambda s: (s[1], s[0].id))
    return slots[:limit]


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
        raise ValidationFailed(
            N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]}
        )
    if end - start > dt.timedelta(days=31):
        raise ValidationFailed(
            N_("Ask for at most 31 days at once."),
            errors={"end": [N_("At most 31 days after start.")]},
        )
    stmt = select(Machine).where(
        Machine.house_id == house.id, Machine.status == MachineStatus.active
    )
    if capability is not None:
        stmt = (
            stmt.join(machine_capabilities, machine_capabilities.c.machine_id == Machine.id)
            .join(Capability, Capability.id == machine_capabilities.c.capability_id)
            .where(Capability.code == capability)
        )
    duration = dt.timedelta(minutes=duration_minutes) if duration_minutes else None
    machines = list(session.scalars(stmt.order_by(Machine.id)))
    free = free_windows_of(session, house, machines, start, end, duration=duration, now=now)
    return house, [(m, free[m.id]) for m in machines]
