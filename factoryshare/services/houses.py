"""Production houses: their settings, closures and the holiday calendar they follow.

Every signed-in user reads houses (members must see them to book). Admins open and remove
houses; an admin or a manager of the house changes its settings and closures. Opening hours
are a weekday map of local ("HH:MM", "HH:MM") intervals; they are validated here so that the
calendar never meets a malformed day.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import audit, locking
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern, utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import WEEKDAYS, HouseClosure, Machine, ProductionHouse, Role
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings as booking_service
from factoryshare.services import calendar, downtimes

SETTINGS = (
    "name",
    "address",
    "region",
    "timezone",
    "opening_hours",
    "slot_minutes",
    "requires_confirmation",
    "hold_minutes",
    "max_days_ahead",
    "financing_decision_days",
    "trust_member_permits",
    "no_show_grace_minutes",
    "contact_phone",
    "contact_email",
    "frozen_hours",
)
# A closure longer than this is almost certainly a typo in a year.
MAX_CLOSURE_DAYS = 366
# A member may be this late at most before the house may call the booking a no-show.
MAX_NO_SHOW_GRACE_MINUTES = 24 * 60
# A re-plan keeps published work this far ahead at most where it is (two weeks).
MAX_FROZEN_HOURS = 14 * 24
# The settings that decide which times a booking may take.
CALENDAR_SETTINGS = ("timezone", "opening_hours", "slot_minutes")
# What a closure or a change of CALENDAR_SETTINGS does to the live bookings it leaves outside
# the new calendar: `refuse` the change (409 bookings_affected, naming them) or `cancel` them.
AFFECTED_CHOICES = ("refuse", "cancel")


def _minutes(value: Any) -> int | None:
    """Minutes from midnight of "HH:MM" (00:00..24:00), or None when malformed."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return 24 * 60
    if h > 23 or m > 59:
        return None
    return h * 60 + m


def validate_opening_hours(value: Any) -> dict[str, list[list[str]]]:
    """The weekday map cleaned, or ValidationFailed naming `opening_hours.<day>[i]`."""
    if not isinstance(value, dict):
        raise ValidationFailed(
            N_("Opening hours are a map from weekday to intervals."),
            errors={"opening_hours": [N_('Give an object such as {"mon": [["08:00", "17:00"]]}.')]},
        )
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, list[list[str]]] = {}
    for day, intervals in value.items():
        where = f"opening_hours.{day}"
        if day not in WEEKDAYS:
            errors[where] = [N_("Use one of: %(weekdays)s.", weekdays=", ".join(WEEKDAYS))]
            continue
        if not isinstance(intervals, list):
            errors[where] = [N_("Give a list of [opens, closes] pairs.")]
            continue
        spans: list[tuple[int, int]] = []
        for i, pair in enumerate(intervals):
            if not (isinstance(pair, list) and len(pair) == 2):
                errors[f"{where}[{i}]"] = [N_('Give a pair such as ["08:00", "17:00"].')]
                continue
            opens, closes = _minutes(pair[0]), _minutes(pair[1])
            if opens is None or closes is None or opens == 24 * 60:
                errors[f"{where}[{i}]"] = [N_("Times are HH:MM between 00:00 and 24:00.")]
            elif closes <= opens:
                errors[f"{where}[{i}]"] = [N_("The house must close after it opens.")]
            else:
                spans.append((opens, closes))
        spans.sort()
        for (_, first_end), (second_start, _) in zip(spans, spans[1:]):
            if second_start < first_end:
                errors[where] = [N_("The intervals of a day must not overlap.")]
                break
        cleaned[day] = [
            [f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in spans
        ]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return cleaned


def _timezone(value: Any) -> str:
    """One of Indonesia's zones by its IANA name (Asia/Jakarta, Asia/Pontianak, Asia/Makassar,
    Asia/Jayapura), or ValidationFailed naming `timezone`."""
    try:
        if (
            not isinstance(value, str)
            or value not in calendar.INDONESIAN_ZONES
            or value not in available_timezones()
        ):
            raise ZoneInfoNotFoundError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        message = N_(
            "Choose one of Indonesia's time zones: Asia/Jakarta or Asia/Pontianak (WIB), "
            "Asia/Makassar (WITA), Asia/Jayapura (WIT)."
        )
        raise ValidationFailed(message, errors={"timezone": [message]}) from None
    return value


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in SETTINGS}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise ValidationFailed(
                N_("A house needs a name."), errors={"name": [N_("May not be blank.")]}
            )
    if "timezone" in values:
        values["timezone"] = _timezone(values["timezone"])
    if "opening_hours" in values:
        values["opening_hours"] = validate_opening_hours(values["opening_hours"])
    grace = values.get("no_show_grace_minutes")
    if grace is not None and (
        not isinstance(grace, int)
        or isinstance(grace, bool)
        or not 0 <= grace <= MAX_NO_SHOW_GRACE_MINUTES
    ):
        message = N_(
            "The no-show grace is a whole number of minutes from 0 to "
            "%(max_no_show_grace_minutes)s.",
            max_no_show_grace_minutes=MAX_NO_SHOW_GRACE_MINUTES,
        )
        raise ValidationFailed(message, errors={"no_show_grace_minutes": [message]})
    frozen = values.get("frozen_hours")
    if frozen is not None and (
        not isinstance(frozen, int)
        or isinstance(frozen, bool)
        or not 0 <= frozen <= MAX_FROZEN_HOURS
    ):
        message = N_(
            "The frozen window is a whole number of hours from 0 to %(max_frozen_hours)s.",
            max_frozen_hours=MAX_FROZEN_HOURS,
        )
        raise ValidationFailed(message, errors={"frozen_hours": [message]})
    slot = values.get("slot_minutes")
    if slot is not None and (24 * 60) % slot:
        message = N_("The booking granularity must divide a day (e.g. 15, 30 or 60 minutes).")
        raise ValidationFailed(message, errors={"slot_minutes": [message]})
    return values


def _check_name_free(session: Session, name: str, house_id: int | None = None) -> None:
    stmt = select(ProductionHouse.id).where(ProductionHouse.name == name)
    if house_id is not None:
        stmt = stmt.where(ProductionHouse.id != house_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            N_("Another house already has this name."),
            code="duplicate_house",
            errors={"name": [N_("Another house already has this name.")]},
        )


def _may_manage(actor: Actor, house: ProductionHouse) -> None:
    actor.require(Role.admin, Role.manager)
    if not actor.manages(house.id):
        raise Forbidden(N_("Only the managers of this house may change it."))


def create_house(session: Session, actor: Actor, data: dict[str, Any]) -> ProductionHouse:
    actor.require(Role.admin)
    values = _fields(data)
    _check_name_free(session, values["name"])
    house = ProductionHouse(**values)
    session.add(house)
    session.flush()
    audit.record(session, actor, "house.created", house, after=audit.snapshot(house))
    return house


def list_houses(
    session: Session, actor: Actor, *, region: str | None = None, q: str | None = None
) -> Select[tuple[ProductionHouse]]:
    stmt = scoped(actor, ProductionHouse)
    if region:
        stmt = stmt.where(ProductionHouse.region == region)
    if q:
        stmt = stmt.where(func.lower(ProductionHouse.name).like(contains_pattern(q), escape="\\"))
    return stmt.order_by(ProductionHouse.name, ProductionHouse.id)


def get_house(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    return get_scoped(session, actor, ProductionHouse, house_id)


def update_house(
    session: Session,
    actor: Actor,
    house_id: int,
    data: dict[str, Any],
    *,
    affected: str = "refuse",
    now: dt.datetime | None = None,
) -> ProductionHouse:
    """Change a house's settings; see `change_house` for what happens to the bookings a change
    of its opening hours, slot grid or zone leaves outside the new calendar."""
    return change_house(session, actor, house_id, data, affected=affected, now=now).house


def change_house(
    session: Session,
    actor: Actor,
    house_id: int,
    data: dict[str, Any],
    *,
    affected: str = "refuse",
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> CalendarChange:
    """Change a house's settings. A change of its opening hours, slot grid (`slot_minutes`) or
    zone that leaves live bookings outside the new calendar is refused (`affected="refuse"`,
    409 bookings_affected naming them) or cancels them (`affected="cancel"`: each member is told
    with alternative slots, and solver-placed work is queued for a re-plan). A zone change keeps
    the bookings' instants and reads them in the new zone. `dry_run` lists the bookings it would
    hit and changes nothing."""
    now = now or utcnow()
    # Locked before anything is read: a booking checked meanwhile waits for this change
    # (calendar.hold_calendar), so none can slip into the new closed time unseen.
    house = locking.for_update(session, actor, ProductionHouse, house_id)
    _may_manage(actor, house)
    _check_affected(affected)
    values = _fields(data)
    if "name" in values:
        _check_name_free(session, values["name"], house.id)
    kinds = [k for k in CALENDAR_SETTINGS if k in values and values[k] != getattr(house, k)]
    before = audit.snapshot(house)
    live = _live_bookings(session, house, now) if kinds else []
    on_grid_before = {b.id for b in live if _on_grid(house, b)}
    savepoint = session.begin_nested()
    try:
        for key, value in values.items():
            setattr(house, key, value)
        session.flush()
        hits, why = _outside(session, house, live, on_grid_before=on_grid_before)
        change = CalendarChange(
            house=house,
            dry_run=dry_run,
            change=_change_name(kinds),
            timezone=house.timezone,
            bookings=hits,
            why=why,
        )
        _refuse_or_keep(savepoint, change, affected)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    if dry_run:
        return change
    audit.record(session, actor, "house.updated", house, before=before, after=audit.snapshot(house))
    reason = {
        "timezone": "time zone changed",
        "opening_hours": "opening hours changed",
        "slot_minutes": "booking slots changed",
    }.get(change.change, "house calendar changed")
    _settle(
        session,
        actor,
        change,
        reason=reason,
        key=f"house:{house.id}:calendar",
        now=now,
        cause={"calendar_change": kinds},
        context={},
    )
    return change


def delete_house(session: Session, actor: Actor, house_id: int) -> None:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    actor.require(Role.admin)
    before = audit.snapshot(house)
    try:
        with session.begin_nested():
            session.delete(house)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("This house still has machines, members or managers; it stays."), code="house_in_use"
        ) from None
    audit.record(
        session,
        actor,
        "house.deleted",
        object_type="production_houses",
        object_id=house_id,
        before=before,
    )


# ---------------------------------------------------------------------------------------------
# Changes of the calendar (a closure, opening hours, slot grid, zone) and the live bookings
# they leave outside it: handled like a downtime's (factoryshare/services/downtimes.py).


@dataclass
class CalendarChange:
    """What a closure or a change of a house's calendar did, or on a dry run would do, to the
    live bookings it leaves outside the new calendar."""

    house: ProductionHouse
    dry_run: bool
    # closure, opening_hours, slot_minutes, timezone, calendar (several at once) or "" (none)
    change: str
    # The zone of the new calendar: the bookings' times read in it.
    timezone: str
    # The live bookings outside the new calendar, and why each is:
    # not_aligned, house_closed, holiday or outside_opening_hours.
    bookings: list[Booking] = field(default_factory=list)
    why: dict[int, str] = field(default_factory=dict)
    closure: HouseClosure | None = None
    # When applied: each booking cancelled, with the alternatives its member was told about.
    affected: list[downtimes.AffectedBooking] = field(default_factory=list)
    replan: Any = None


def _check_affected(affected: str) -> None:
    if affected not in AFFECTED_CHOICES:
        raise ValidationFailed(
            N_("Choose refuse or cancel."), errors={"affected": [N_("refuse or cancel")]}
        )


def _change_name(kinds: list[str]) -> str:
    if not kinds:
        return ""
    return kinds[0] if len(kinds) == 1 else "calendar"


def _why_outside(session: Session, house: ProductionHouse, booking: Booking) -> str:
    zone = calendar.house_zone(house)
    day = booking.start_at.astimezone(zone).date()
    last = (booking.end_at - dt.timedelta(microseconds=1)).astimezone(zone).date()
    why = "outside_opening_hours"
    while day <= last:
        if calendar.closure_on(session, house, day) is not None:
            return "house_closed"
        if calendar.holiday_name(day) is not None:
            why = "holiday"
        day += dt.timedelta(days=1)
    return why


def _live_bookings(
    session: Session,
    house: ProductionHouse,
    now: dt.datetime,
    *,
    within: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[Booking]:
    """The house's live bookings not yet over (overlapping `within`, if given), locked as they
    are read (as a downtime's are): one cancelled meanwhile drops out of the list."""
    stmt = (
        select(Booking)
        .join(Machine, Machine.id == Booking.machine_id)
        .where(
            Machine.house_id == house.id, Booking.status.in_(LIVE_STATUSES), Booking.end_at > now
        )
    )
    if within is not None:
        stmt = stmt.where(Booking.start_at < within[1], Booking.end_at > within[0])
    return list(
        session.scalars(stmt.order_by(Booking.start_at, Booking.id).with_for_update(of=Booking))
    )


def _on_grid(house: ProductionHouse, booking: Booking) -> bool:
    try:
        booking_service.check_alignment(house, booking.start_at, booking.end_at)
    except ValidationFailed:
        return False
    return True


def _outside(
    session: Session, house: ProductionHouse, live: list[Booking], *, on_grid_before: set[int]
) -> tuple[list[Booking], dict[int, str]]:
    """Those of `live` the calendar as it now stands in this transaction refuses, with why:
    the checks a new booking meets (bookings.check_alignment; calendar.open_windows as in
    bookings.check_calendar). Only a booking that was on the slot grid before (its id in
    `on_grid_before`) can fall off it: a plan's booking placed off the grid is not hit by a
    change of the hours. A machine's downtimes are not the calendar's business: a booking kept
    through a downtime stays kept."""
    if not live:
        return [], {}
    windows = calendar.open_windows(
        session, house, min(b.start_at for b in live), max(b.end_at for b in live)
    )
    starts = [w[0] for w in windows]
    why: dict[int, str] = {}
    for b in live:
        if b.id in on_grid_before and not _on_grid(house, b):
            why[b.id] = "not_aligned"
            continue
        i = bisect.bisect_right(starts, b.start_at) - 1
        if i < 0 or b.end_at > windows[i][1]:
            why[b.id] = _why_outside(session, house, b)
    return [b for b in live if b.id in why], why


def _booking_facts(change: CalendarChange) -> list[dict[str, Any]]:
    zone = ZoneInfo(change.timezone)
    return [
        {
            "booking_id": b.id,
            "member_id": b.member_id,
            "machine_id": b.machine_id,
            "machine": b.machine.name,
            "start": b.start_at.astimezone(zone).isoformat(),
            "end": b.end_at.astimezone(zone).isoformat(),
            "source": b.source.value,
            "why": change.why[b.id],
        }
        for b in change.bookings
    ]


def _refuse_or_keep(savepoint: Any, change: CalendarChange, affected: str) -> None:
    """Undo the change written in `savepoint` on a dry run or when it is refused; keep it
    otherwise."""
    if change.dry_run:
        savepoint.rollback()
        return
    if change.bookings and affected == "refuse":
        facts = _booking_facts(change)
        savepoint.rollback()
        names = ", ".join(f"#{f['booking_id']}" for f in facts)
        raise Conflict(
            N_(
                "%(count)s live booking(s) would fall outside the new calendar: %(names)s. "
                "Preview them with dry_run=true, or apply with affected=cancel to cancel them "
                "and tell their members.",
                count=len(facts),
                names=names,
            ),
            code="bookings_affected",
            details={"bookings": facts},
        )
    savepoint.commit()


def _settle(
    session: Session,
    actor: Actor,
    change: CalendarChange,
    *,
    reason: str,
    key: str,
    now: dt.datetime,
    cause: dict[str, Any],
    context: dict[str, Any],
) -> None:
    """Cancel the hit bookings, tell each member with alternatives, queue a re-plan."""
    if not change.bookings:
        return
    house = change.house
    zone = calendar.house_zone(house)

    def local_day_start(b: Booking) -> dt.datetime:
        day = b.start_at.astimezone(zone).date()
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)

    def notify(item: downtimes.AffectedBooking) -> None:
        downtimes.notify_affected(
            session,
            item,
            template="booking_calendar_change",
            key=f"{key}:booking:{item.booking.id}",
            context={"change": change.change, "house": house.name, **context},
        )

    change.affected = downtimes.settle_hit_bookings(
        session,
        actor,
        change.bookings,
        cancel_reason=reason,
        search_from=local_day_start,
        notify=notify,
        now=now,
    )
    from factoryshare.services import scheduling

    change.replan = scheduling.queue_replan(
        session, actor, None, change.bookings, now=now, house_id=house.id, cause=cause
    )


# ---------------------------------------------------------------------------------------------
# Closures: days the house is shut beyond the national calendar.


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
    _may_manage(actor, house)
    _check_affected(affected)
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
        live = _live_bookings(session, house, now, within=(first, last.astimezone(dt.UTC)))
        hits, why = _outside(session, house, live, on_grid_before=set())
        change = CalendarChange(
            house=house,
            dry_run=dry_run,
            change="closure",
            timezone=house.timezone,
            bookings=hits,
            why=why,
            closure=closure,
        )
        _refuse_or_keep(savepoint, change, affected)
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
    _settle(
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
    _may_manage(actor, house)
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
