"""When a house is open: opening hours in its zone, minus Indonesian public holidays and
cuti bersama, minus house closures, minus a machine's downtimes.

All inputs and outputs are timezone-aware UTC datetimes; the house's local zone is used only
to lay out opening hours and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.models import WEEKDAYS, Downtime, HouseClosure, Machine, ProductionHouse

Window = tuple[dt.datetime, dt.datetime]

_UTC = dt.UTC


# The `holidays` package's own names, per language of factoryshare.i18n.
_HOLIDAY_LANGUAGES = {"id": "id", "en": "en_US"}


@lru_cache(maxsize=64)
def _holidays_for_year(year: int) -> dict[dt.date, i18n.Localized]:
    # "public" holds the national holidays, "government" the cuti bersama days.
    names: dict[dt.date, dict[str, str]] = {}
    for lang, holidays_lang in _HOLIDAY_LANGUAGES.items():
        calendar = holidays.country_holidays(
            "ID", years=year, language=holidays_lang, categories=("public", "government")
        )
        for day, name in calendar.items():
            names.setdefault(day, {})[lang] = name
    return {day: i18n.Localized(texts) for day, texts in names.items()}


def holiday_name(day: dt.date) -> i18n.Localized | None:
    """The name of the Indonesian public holiday or cuti bersama on `day`, if any: reads as
    its English name, `.translate("id")` gives the Indonesian one (`i18n.translate`)."""
    return _holidays_for_year(day.year).get(day)


def house_zone(house: ProductionHouse) -> ZoneInfo:
    return ZoneInfo(house.timezone)


def hold_calendar(session: Session, house: ProductionHouse) -> ProductionHouse:
    """Take a shared lock on the house's row and read its settings again, before checking a
    slot against its calendar.

    A change of the calendar (a closure, opening hours, slot grid, zone:
    factoryshare/services/houses/) locks the same row exclusively before it lists the live
    bookings it hits; so a booking checked meanwhile either waits for that change and is checked
    against the new calendar, or is made first and then seen (and cancelled or refused) by the
    change. Shared locks do not wait for each other: bookings at one house still go on at once.
    On SQLite writers are serialised already (BEGIN IMMEDIATE) and the lock clause is dropped.
    """
    session.scalars(
        select(ProductionHouse)
        .where(ProductionHouse.id == house.id)
        .with_for_update(read=True, of=ProductionHouse)
        .execution_options(populate_existing=True)
    ).first()
    return house


def _parse_hhmm(value: str) -> dt.time | None:
    if value in ("24:00", "24:00:00"):
        return None  # end of day
    hours, minutes = value.split(":")[:2]
    return dt.time(int(hours), int(minutes))


def day_intervals(house: ProductionHouse, day: dt.date) -> list[Window]:
    """Opening intervals of `house` on local date `day` as UTC windows (no holidays applied)."""
    zone = house_zone(house)
    weekday = WEEKDAYS[day.weekday()]
    result: list[Window] = []
    for pair in (house.opening_hours or {}).get(weekday) or []:
        opens, closes = _parse_hhmm(pair[0]), _parse_hhmm(pair[1])
        if opens is None:
            continue
        start = dt.datetime.combine(day, opens, tzinfo=zone)
        if closes is None:
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        else:
            end = dt.datetime.combine(day, closes, tzinfo=zone)
        if end > start:
            result.append((start.astimezone(_UTC), end.astimezone(_UTC)))
    return result


def closure_on(session: Session, house: ProductionHouse, day: dt.date) -> HouseClosure | None:
    return session.scalars(
        select(HouseClosure).where(
            HouseClosure.house_id == house.id,
            HouseClosure.start_on <= day,
            HouseClosure.end_on >= day,
        )
    ).first()


def subtract_windows(windows: list[Window], cuts: list[Window]) -> list[Window]:
    """`windows` less every part that falls in one of `cuts` (both lists of (start, end))."""
    result = windows
    for cut_start, cut_end in cuts:
        next_result: list[Window] = []
        for start, end in result:
            if cut_end <= start or cut_start >= end:
                next_result.append((start, end))
                continue
            if start < cut_start:
                next_result.append((start, cut_start))
            if cut_end < end:
                next_result.append((cut_end, end))
        result = next_result
    return result


def machine_downtimes(
    session: Session, machine_id: int, start_utc: dt.datetime, end_utc: dt.datetime
) -> list[Downtime]:
    return list(
        session.scalars(
            select(Downtime)
            .where(
                Downtime.machine_id == machine_id,
                Downtime.start_at < end_utc,
                Downtime.end_at > start_utc,
            )
            .order_by(Downtime.start_at)
        )
    )


def open_windows(
    session: Session,
    house: ProductionHouse,
    start_utc: dt.datetime,
    end_utc: dt.datetime,
    machine: Machine | None = None,
    *,
    closures: Sequence[Any] | None = None,
    downtimes: Sequence[Any] | None = None,
) -> list[Window]:
    """The times within [start_utc, end_utc) when `house` (and `machine`, if given) can be used.

    Opening hours are read in the house's zone; Indonesian public holidays, cuti bersama and
    the house's closures remove whole local days; a machine's downtimes are cut out.
    Windows are sorted, disjoint and UTC-aware.

    `closures` (objects with start_on and end_on) and `downtimes` (start_at, end_at), when
    given, are the house's closures and the machine's downtimes over the span, read by the
    caller for many machines at once: nothing is read here then.
    """
    if start_utc.tzinfo is None or end_utc.tzinfo is None:
        raise ValueError("open_windows needs timezone-aware datetimes")
    if end_utc <= start_utc:
        return []
    zone = house_zone(house)
    first_day = start_utc.astimezone(zone).date()
    last_day = end_utc.astimezone(zone).date()
    if closures is None:
        closures = list(
            session.scalars(
                select(HouseClosure).where(
                    HouseClosure.house_id == house.id,
                    HouseClosure.start_on <= last_day,
                    HouseClosure.end_on >= first_day,
                )
            )
        )
    windows: list[Window] = []
    day = first_day
    while day <= last_day:
        closed = holiday_name(day) is not None or any(
            c.start_on <= day <= c.end_on for c in closures
        )
        if not closed:
            for start, end in day_intervals(house, day):
                start, end = max(start, start_utc), min(end, end_utc)
                if end > start:
                    windows.append((start, end))
        day += dt.timedelta(days=1)
    windows.sort()
    # Merge touching intervals (e.g. 00:00-24:00 days next to each other).
    merged: list[Window] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    if machine is not None or downtimes is not None:
        if downtimes is None:
            assert machine is not None
            downtimes = machine_downtimes(session, machine.id, start_utc, end_utc)
        cuts = [(d.start_at, d.end_at) for d in downtimes]
        merged = subtract_windows(merged, cuts)
    return merged
