"""Production houses: their settings, closures and the holiday calendar they follow.

Every signed-in user reads houses (members must see them to book). Admins open and remove
houses; an admin or a manager of the house changes its settings and closures. Opening hours
are a weekday map of local ("HH:MM", "HH:MM") intervals; they are validated here so that the
calendar never meets a malformed day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import WEEKDAYS, HouseClosure, ProductionHouse, Role
from factoryshare.services import calendar

SETTINGS = ("name", "address", "region", "timezone", "opening_hours", "slot_minutes",
            "requires_confirmation", "hold_minutes", "max_days_ahead", "financing_decision_days",
            "contact_phone",
            "contact_email")
# A closure longer than this is almost certainly a typo in a year.
MAX_CLOSURE_DAYS = 366


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
        raise ValidationFailed("Opening hours are a map from weekday to intervals.",
                               errors={"opening_hours": ["Give an object such as "
                                                         '{"mon": [["08:00", "17:00"]]}.']})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, list[list[str]]] = {}
    for day, intervals in value.items():
        where = f"opening_hours.{day}"
        if day not in WEEKDAYS:
            errors[where] = [f"Use one of: {', '.join(WEEKDAYS)}."]
            continue
        if not isinstance(intervals, list):
            errors[where] = ["Give a list of [opens, closes] pairs."]
            continue
        spans: list[tuple[int, int]] = []
        for i, pair in enumerate(intervals):
            if not (isinstance(pair, list) and len(pair) == 2):
                errors[f"{where}[{i}]"] = ['Give a pair such as ["08:00", "17:00"].']
                continue
            opens, closes = _minutes(pair[0]), _minutes(pair[1])
            if opens is None or closes is None or opens == 24 * 60:
                errors[f"{where}[{i}]"] = ["Times are HH:MM between 00:00 and 24:00."]
            elif closes <= opens:
                errors[f"{where}[{i}]"] = ["The house must close after it opens."]
            else:
                spans.append((opens, closes))
        spans.sort()
        for (_, first_end), (second_start, _) in zip(spans, spans[1:]):
            if second_start < first_end:
                errors[where] = ["The intervals of a day must not overlap."]
                break
        cleaned[day] = [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"]
                        for s, e in spans]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return cleaned


def _timezone(value: Any) -> str:
    try:
        if not isinstance(value, str) or value not in available_timezones():
            raise ZoneInfoNotFoundError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        message = "Give an IANA time zone such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura."
        raise ValidationFailed(message, errors={"timezone": [message]}) from None
    return value


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in SETTINGS}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise ValidationFailed("A house needs a name.", errors={"name": ["May not be blank."]})
    if "timezone" in values:
        values["timezone"] = _timezone(values["timezone"])
    if "opening_hours" in values:
        values["opening_hours"] = validate_opening_hours(values["opening_hours"])
    slot = values.get("slot_minutes")
    if slot is not None and (24 * 60) % slot:
        message = "The booking granularity must divide a day (e.g. 15, 30 or 60 minutes)."
        raise ValidationFailed(message, errors={"slot_minutes": [message]})
    return values


def _check_name_free(session: Session, name: str, house_id: int | None = None) -> None:
    stmt = select(ProductionHouse.id).where(ProductionHouse.name == name)
    if house_id is not None:
        stmt = stmt.where(ProductionHouse.id != house_id)
    if session.scalar(stmt) is not None:
        raise Conflict("Another house already has this name.", code="duplicate_house",
                       errors={"name": ["Another house already has this name."]})


def _may_manage(actor: Actor, house: ProductionHouse) -> None:
    actor.require(Role.admin, Role.manager)
    if not actor.manages(house.id):
        raise Forbidden("Only the managers of this house may change it.")


def create_house(session: Session, actor: Actor, data: dict[str, Any]) -> ProductionHouse:
    actor.require(Role.admin)
    values = _fields(data)
    _check_name_free(session, values["name"])
    house = ProductionHouse(**values)
    session.add(house)
    session.flush()
    audit.record(session, actor, "house.created", house, after=audit.snapshot(house))
    return house


def list_houses(session: Session, actor: Actor, *, region: str | None = None,
                q: str | None = None) -> Select[tuple[ProductionHouse]]:
    stmt = scoped(actor, ProductionHouse)
    if region:
        stmt = stmt.where(ProductionHouse.region == region)
    if q:
        stmt = stmt.where(func.lower(ProductionHouse.name).like(contains_pattern(q), escape="\\"))
    return stmt.order_by(ProductionHouse.name, ProductionHouse.id)


def get_house(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    return get_scoped(session, actor, ProductionHouse, house_id)


def update_house(session: Session, actor: Actor, house_id: int,
                 data: dict[str, Any]) -> ProductionHouse:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    _may_manage(actor, house)
    values = _fields(data)
    if "name" in values:
        _check_name_free(session, values["name"], house.id)
    before = audit.snapshot(house)
    for key, value in values.items():
        setattr(house, key, value)
    session.flush()
    audit.record(session, actor, "house.updated", house, before=before, after=audit.snapshot(house))
    return house


def delete_house(session: Session, actor: Actor, house_id: int) -> None:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    actor.require(Role.admin)
    before = audit.snapshot(house)
    try:
        with session.begin_nested():
            session.delete(house)
            session.flush()
    except IntegrityError:
        raise Conflict("This house still has machines, members or managers; it stays.",
                       code="house_in_use") from None
    audit.record(session, actor, "house.deleted", object_type="production_houses",
                 object_id=house_id, before=before)


# ---------------------------------------------------------------------------------------------
# Closures: days the house is shut beyond the national calendar.

def list_closures(session: Session, actor: Actor, house_id: int, *,
                  since: dt.date | None = None) -> list[HouseClosure]:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    stmt = select(HouseClosure).where(HouseClosure.house_id == house.id)
    if since is not None:
        stmt = stmt.where(HouseClosure.end_on >= since)
    return list(session.scalars(stmt.order_by(HouseClosure.start_on, HouseClosure.id)))


def add_closure(session: Session, actor: Actor, house_id: int, *, start_on: dt.date,
                end_on: dt.date, reason: str = "") -> HouseClosure:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    _may_manage(actor, house)
    if end_on < start_on:
        raise ValidationFailed("A closure must end on or after its first day.",
                               errors={"end_on": ["Must be on or after start_on."]})
    if (end_on - start_on).days >= MAX_CLOSURE_DAYS:
        message = f"A closure may last at most {MAX_CLOSURE_DAYS} days."
        raise ValidationFailed(message, errors={"end_on": [message]})
    overlapping = session.scalar(select(HouseClosure.id).where(
        HouseClosure.house_id == house.id, HouseClosure.start_on <= end_on,
        HouseClosure.end_on >= start_on))
    if overlapping is not None:
        raise Conflict("These days overlap a closure the house already has.",
                       code="closure_overlap", errors={"start_on": ["Overlaps another closure."]})
    closure = HouseClosure(house_id=house.id, start_on=start_on, end_on=end_on,
                           reason=reason.strip())
    session.add(closure)
    session.flush()
    audit.record(session, actor, "house_closure.created", closure, after=audit.snapshot(closure))
    return closure


def delete_closure(session: Session, actor: Actor, house_id: int, closure_id: int) -> None:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    closure = session.scalar(select(HouseClosure).where(
        HouseClosure.id == closure_id, HouseClosure.house_id == house.id))
    if closure is None:
        raise NotFound("No such closure in this house.")
    _may_manage(actor, house)
    before = audit.snapshot(closure)
    session.delete(closure)
    session.flush()
    audit.record(session, actor, "house_closure.deleted", object_type="house_closures",
                 object_id=closure_id, before=before)


def closed_days(session: Session, actor: Actor, house_id: int,
                year: int) -> tuple[ProductionHouse, list[dict[str, Any]]]:
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
    for closure in session.scalars(select(HouseClosure).where(
            HouseClosure.house_id == house.id, HouseClosure.start_on <= last,
            HouseClosure.end_on >= first)):
        day = max(closure.start_on, first)
        while day <= min(closure.end_on, last):
            days.setdefault(day, {"date": day, "kind": "closure",
                                  "name": closure.reason or "Closed"})
            day += dt.timedelta(days=1)
    return house, [days[d] for d in sorted(days)]
