"""Utilisation of a house over a week: per active or maintenance machine, the minutes it is
open (opening hours less holidays, closures and downtimes: calendar.open_windows), the minutes
of its bookings inside those open minutes (held, confirmed, completed and no-show: a no-show
still kept the machine from others) and their share. Its managers and admins only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, managed_house
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Machine, MachineStatus
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import calendar

# Bookings that keep a machine from others, for utilisation.
BOOKED_STATUSES = (
    BookingStatus.held,
    BookingStatus.confirmed,
    BookingStatus.completed,
    BookingStatus.no_show,
)
# A machine booked for at least this share of its open time is busy (drawn in the warning
# colour on the utilisation page).
BUSY_SHARE = 0.85


_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def parse_week(value: str) -> dt.date:
    """The Monday of an ISO week written YYYY-Www; 422 naming `week` otherwise."""
    match = _WEEK.fullmatch(value or "")
    try:
        if match is None:
            raise ValueError(value)
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValidationFailed(
            N_("Give the week as YYYY-Www, e.g. 2030-W10."),
            errors={"week": [N_("Give the week as YYYY-Www, e.g. 2030-W10.")]},
        ) from None


def _overlap(start: dt.datetime, end: dt.datetime, windows: list[calendar.Window]) -> float:
    return sum(max(0.0, (min(end, we) - max(start, ws)).total_seconds() / 60) for ws, we in windows)


def utilisation_between(
    session: Session, actor: Actor, house_id: int, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Per machine of a house the caller manages, over [start, end): open minutes, booked
    minutes inside them and the share (None when the machine is not open at all)."""
    house = managed_house(session, actor, house_id)
    machines = list(
        session.scalars(
            select(Machine)
            .where(Machine.house_id == house.id, Machine.status != MachineStatus.retired)
            .order_by(Machine.id)
        )
    )
    booked_by: dict[int, list[Booking]] = defaultdict(list)
    if machines:
        for b in session.scalars(
            select(Booking).where(
                Booking.machine_id.in_([m.id for m in machines]),
                Booking.status.in_(BOOKED_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
        ):
            booked_by[b.machine_id].append(b)
    rows = []
    for machine in machines:
        windows = calendar.open_windows(session, house, start, end, machine=machine)
        open_minutes = _overlap(start, end, windows)
        booked = sum(_overlap(b.start_at, b.end_at, windows) for b in booked_by[machine.id])
        share = booked / open_minutes if open_minutes else None
        rows.append(
            {
                "machine": machine,
                "open": round(open_minutes),
                "booked": round(booked),
                "share": share,
                "busy": share is not None and share >= BUSY_SHARE,
            }
        )
    return rows


def week_utilisation(session: Session, actor: Actor, house_id: int, week: str) -> dict[str, Any]:
    """Utilisation of a house over an ISO week (YYYY-Www), Monday to Sunday in its time."""
    monday = parse_week(week)
    house = managed_house(session, actor, house_id)
    zone = calendar.house_zone(house)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone).astimezone(
        dt.UTC
    )
    rows = utilisation_between(session, actor, house.id, start, end)
    return {
        "house_id": house.id,
        "week": week,
        "start": start.astimezone(zone),
        "end": end.astimezone(zone),
        "machines": [
            {
                "machine_id": r["machine"].id,
                "machine_name": r["machine"].name,
                "open_minutes": r["open"],
                "booked_minutes": r["booked"],
                "share": round(r["share"], 4) if r["share"] is not None else None,
            }
            for r in rows
        ],
    }
