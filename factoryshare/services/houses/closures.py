"""Closures: days the house is shut beyond the national calendar; and every day of a year the
house is shut (national holidays, cuti bersama and its closures).

A closure over days with live bookings is refused or cancels them, like a change of the
house's calendar (calendar_changes.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from factoryshare import audit, locking
from factoryshare.access import Actor, get_scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import HouseClosure, ProductionHouse
from factoryshare.services import calendar
from factoryshare.services.houses.calendar_changes import (
    CalendarChange,
    bookings_outside,
    check_affected,
    live_bookings,
    refuse_or_keep,
    settle_change,
)
from factoryshare.services.houses.settings import require_manager

# A closure longer than this is almost certainly a typo in a year.
MAX_CLOSURE_DAYS = 366


def list_closures(
    session: Session, actor: Actor, house_id: int, *, since: dt.date | None = None
) -> Select[HouseClosure]:
    """The house's closures (those ending on or after `since`), by first day then id."""
    house = get_scoped(session, actor, ProductionHouse, house_id)
    stmt = select(HouseClosure).where(HouseClosure.house_id == house.id)
    if since is not None:
        stmt = stmt.where(HouseClosure.end_on >= since)
    return stmt.order_by(HouseClosure.start_on, HouseClosure.id)


def add_closure(
    session: Session,
    actor: Actor,
    house_id: int,
    *,
    start_on: dt.date,
    end_on: dt.date,
    reason: str = "",
    affected: str = "refuse",
    now: dt.datetime | None = None,
) -> HouseClosure:
    """Close the house on some days; see `close_house` for the live bookings in them."""
    change = close_house(
        session,
        actor,
        house_id,
        start_on=start_on,
        end_on=end_on,
        reason=reason,
        affected=affected,
        now=now,
    )
    assert change.closure is not None
    return change.closure


def close_house(
    session: Session,
    actor: Actor,
    house_id: int,
    *,
    start_on: dt.date,
    end_on: dt.date,
    reason: str = "",
    affected: str = "refuse",
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> CalendarChange:
    """Close the house on the local days `start_on`..`end_on` (inclusive). Live bookings in
    them are refused (`affected="refuse"`, 409 bookings_affected naming them) or cancelled
    (`affected="cancel"`, like `change_house`); `dry_run` lists them and changes nothing."""
    now = now or utcnow()
    house = locking.for_update(session, actor, ProductionHouse, house_id)
    require_manager(actor, house)
    check_affected(affected)
    if end_on < start_on:
        raise ValidationFailed(
            N_("A closure must end on or after its first day."),
            errors={"end_on": [N_("Must be on or after start_on.")]},
        )
    if (end_on - start_on).days >= MAX_CLOSURE_DAYS:
        message = N_(
            "A closure may last at most %(max_closure_days)s days.",
            max_closure_days=MAX_CLOSURE_DAYS,
        )
        raise ValidationFailed(message, errors={"end_on": [message]})
    overlapping = session.scalar(
        select(HouseClosure.id).where(
            HouseClosure.house_id == house.id,
            HouseClosure.start_on <= end_on,
            HouseClosure.end_on >= start_on,
        )
    )
    if overlapping is not None:
        raise Conflict(
            N_("These days overlap a closure the house already has."),
            code="closure_overlap",
            errors={"start_on": [N_("Overlaps another closure.")]},
        )
    savepoint = session.begin_nested()
    try:
        closure = HouseClosure(
            house_id=house.id, start_on=start_on, end_on=end_on, reason=reason.strip()
        )
        session.add(closure)
        session.flush()
        zone = calendar.house_zone(house)
        first = dt.datetime.combine(start_on, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        last = dt.datetime.combine(end_on + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        live = live_bookings(session, house, now, within=(first, last.astimezone(dt.UTC)))
        hits, why = bookings_outside(session, house, live, on_grid_before=set())
        change = CalendarChange(
            house=house,
            dry_run=dry_run,
            change="closure",
            timezone=house.timezone,
            bookings=hits,
            why=why,
            closure=closure,
        )
        refuse_or_keep(savepoint, change, affected)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    if dry_run:
        # The closure was never written: what is shown is what would have been.
        change.closure = HouseClosure(
            house_id=house.id, start_on=start_on, end_on=end_on, reason=reason.strip()
        )
        return change
    audit.record(session, actor, "house_closure.created", closure, after=audit.snapshot(closure))
    settle_change(
        session,
        actor,
        change,
        reason=(
            N_("house closed: %(reason)s", reason=closure.reason)
            if closure.reason
            else N_("house closed")
        ),
        key=f"closure:{closure.id}",
        now=now,
        cause={"closure_id": closure.id},
        context={
            "closure_start": start_on.isoformat(),
            "closure_end": end_on.isoformat(),
            "reason": closure.reason,
        },
    )
    return change


def delete_closure(session: Session, actor: Actor, house_id: int, closure_id: int) -> None:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    closure = session.scalar(
        select(HouseClosure).where(HouseClosure.id == closure_id, HouseClosure.house_id == house.id)
    )
    if closure is None:
        raise NotFound(N_("No such closure in this house."))
    require_manager(actor, house)
    before = audit.snapshot(closure)
    session.delete(closure)
    session.flush()
    audit.record(
        session,
        actor,
        "house_closure.deleted",
        object_type="house_closures",
        object_id=closure_id,
        before=before,
    )


def closed_days(
    session: Session, actor: Actor, house_id: int, year: int
) -> tuple[ProductionHouse, list[dict[str, Any]]]:
    """Every day of `year` the house is shut for the calendar: national holidays and cuti
    bersama (the `holidays` package's Indonesian public and government categories) and the
    house's own closures, in date order."""
    house = get_scoped(session, actor, ProductionHouse, house_id)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days: dict[dt.date, dict[str, Any]] = {}
    day = first
    while day <= last:
        name = calendar.holiday_name(day)
        if name:
            days[day] = {"date": day, "kind": "holiday", "name": name}
        day += dt.timedelta(days=1)
    for closure in session.scalars(
        select(HouseClosure).where(
            HouseClosure.house_id == house.id,
            HouseClosure.start_on <= last,
            HouseClosure.end_on >= first,
        )
    ):
        day = max(closure.start_on, first)
        while day <= min(closure.end_on, last):
            days.setdefault(
                day, {"date": day, "kind": "closure", "name": closure.reason or N_("Closed")}
            )
            day += dt.timedelta(days=1)
    return house, [days[d] for d in sorted(days)]
