"""Opening windows: local opening hours, Indonesian holidays and cuti bersama, closures,
machine downtimes."""

from __future__ import annotations

import datetime as dt

from factoryshare import zones
from factoryshare.models import HouseClosure
from factoryshare.services import calendar
from tests.factories.bookings import at


def test_a_weekday_is_open_during_its_local_opening_hours_in_utc(db, make_house):
    house = make_house(timezone="Asia/Jakarta")
    day = dt.date(2026, 12, 1)  # a Tuesday
    windows = calendar.open_windows(db, house, at(day, "00:00"), at(day, "23:59"))
    assert windows == [(at(day, "08:00"), at(day, "17:00"))]
    assert windows[0][0] == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def test_opening_hours_follow_the_house_zone_in_wita(db, make_house):
    house = make_house(timezone="Asia/Makassar")
    day = dt.date(2026, 12, 1)
    windows = calendar.open_windows(
        db, house, at(day, "00:00", "Asia/Makassar"), at(day, "23:59", "Asia/Makassar")
    )
    assert windows[0][0] == dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)


def test_sunday_is_closed_when_the_house_has_no_sunday_hours(db, make_house):
    house = make_house()
    sunday = dt.date(2026, 12, 6)
    assert calendar.open_windows(db, house, at(sunday, "00:00"), at(sunday, "23:59")) == []


def test_public_holidays_and_cuti_bersama_are_closed(db, make_house):
    house = make_house()
    # 2026: Nyepi 19 March (cuti bersama 18), Idul Fitri 21-22 (cuti bersama 20, 23, 24).
    start, end = at(dt.date(2026, 3, 17), "00:00"), at(dt.date(2026, 3, 26), "00:00")
    days = {
        w[0].astimezone(calendar.house_zone(house)).date()
        for w in calendar.open_windows(db, house, start, end)
    }
    assert dt.date(2026, 3, 17) in days
    assert dt.date(2026, 3, 25) in days
    for closed in (18, 19, 20, 23, 24):
        assert dt.date(2026, 3, closed) not in days


def test_a_house_closure_removes_its_days(db, make_house):
    house = make_house()
    db.add(
        HouseClosure(
            house_id=house.id,
            start_on=dt.date(2026, 12, 2),
            end_on=dt.date(2026, 12, 3),
            reason="Stock opname",
        )
    )
    db.flush()
    windows = calendar.open_windows(
        db, house, at(dt.date(2026, 12, 1), "00:00"), at(dt.date(2026, 12, 5), "00:00")
    )
    days = [w[0].astimezone(calendar.house_zone(house)).date() for w in windows]
    assert days == [dt.date(2026, 12, 1), dt.date(2026, 12, 4)]


def test_a_machine_downtime_is_cut_out_of_its_windows(db, make_machine, make_downtime):
    machine = make_machine()
    day = dt.date(2026, 12, 1)
    make_downtime(machine=machine, start_at=at(day, "10:00"), end_at=at(day, "11:30"))
    windows = calendar.open_windows(
        db, machine.house, at(day, "00:00"), at(day, "23:00"), machine=machine
    )
    assert windows == [(at(day, "08:00"), at(day, "10:00")), (at(day, "11:30"), at(day, "17:00"))]
    # The house as a whole stays open.
    assert calendar.open_windows(db, machine.house, at(day, "00:00"), at(day, "23:00")) == [
        (at(day, "08:00"), at(day, "17:00"))
    ]


def test_zone_abbreviations_are_the_indonesian_ones():
    assert zones.abbreviation("Asia/Jakarta") == "WIB"
    assert zones.abbreviation("Asia/Makassar") == "WITA"
    assert zones.abbreviation("Asia/Jayapura") == "WIT"
