"""A house and its settings: open, read, list, change and remove houses.

Every signed-in user reads houses (members must see them to book). Admins open and remove
houses; an admin or a manager of the house changes its settings (`require_manager`). Opening
hours are a weekday map of local ("HH:MM", "HH:MM") intervals; they are validated here so that
the calendar never meets a malformed day. A change of the settings that decide which times a
booking may take (CALENDAR_SETTINGS) meets the live bookings it leaves outside the new
calendar as calendar_changes.py says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import audit, locking, zones
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern, utcnow
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import WEEKDAYS, ProductionHouse, Role
from factoryshare.services.houses.calendar_changes import (
    CalendarChange,
    bookings_outside,
    change_name,
    check_affected,
    live_bookings,
    on_slot_grid,
    refuse_or_keep,
    settle_change,
)

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
# A member may be this late at most before the house may call the booking a no-show.
MAX_NO_SHOW_GRACE_MINUTES = 24 * 60
# A re-plan keeps published work this far ahead at most where it is (two weeks).
MAX_FROZEN_HOURS = 14 * 24
# The settings that decide which times a booking may take.
CALENDAR_SETTINGS = ("timezone", "opening_hours", "slot_minutes")


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
            or value not in zones.INDONESIAN_ZONES
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


def require_manager(actor: Actor, house: ProductionHouse) -> None:
    """403 unless the caller is an admin or a manager of the house."""
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
    require_manager(actor, house)
    check_affected(affected)
    values = _fields(data)
    if "name" in values:
        _check_name_free(session, values["name"], house.id)
    kinds = [k for k in CALENDAR_SETTINGS if k in values and values[k] != getattr(house, k)]
    before = audit.snapshot(house)
    live = live_bookings(session, house, now) if kinds else []
    on_grid_before = {b.id for b in live if on_slot_grid(house, b)}
    savepoint = session.begin_nested()
    try:
        for key, value in values.items():
            setattr(house, key, value)
        session.flush()
        hits, why = bookings_outside(session, house, live, on_grid_before=on_grid_before)
        change = CalendarChange(
            house=house,
            dry_run=dry_run,
            change=change_name(kinds),
            timezone=house.timezone,
            bookings=hits,
            why=why,
        )
        refuse_or_keep(savepoint, change, affected)
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
    settle_change(
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
