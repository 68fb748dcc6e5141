"""A booking at another house than the member's home house shows with that house's name,
address and zone, at its local time there, in the monthly statement and the calendar feed."""

from __future__ import annotations

import csv
import datetime as dt
import io

import icalendar

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.services import calendar_feeds, statements

NOW = dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)


def _utc(y, m, d, hh, mm, offset_hours):
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    return dt.datetime(y, m, d, hh, mm, tzinfo=zone).astimezone(dt.UTC)


def _two_houses(make_house, make_machine, make_member, make_booking):
    home = make_house(
        name="RPB Bandung", address="Jl. Soekarno-Hatta 1, Bandung", timezone="Asia/Jakarta"
    )
    away = make_house(
        name="RPB Makassar", address="Jl. Urip Sumoharjo 7, Makassar", timezone="Asia/Makassar"
    )
    member = make_member(house_id=home.id)
    at_home = make_booking(
        machine=make_machine(house=home, name="Oven Roti"),
        member=member,
        start_at=_utc(2026, 11, 24, 9, 0, 7),
        end_at=_utc(2026, 11, 24, 10, 0, 7),
        status=BookingStatus.confirmed,
        price=50_000,
    )
    away_booking = make_booking(
        machine=make_machine(house=away, name="Mesin Vakum"),
        member=member,
        start_at=_utc(2026, 11, 25, 9, 0, 8),
        end_at=_utc(2026, 11, 25, 11, 0, 8),
        status=BookingStatus.confirmed,
        price=80_000,
    )
    # 1 Dec 00:30 WITA is still 30 Nov in Jakarta: it belongs to December at its own house.
    make_booking(
        machine=away_booking.machine,
        member=member,
        start_at=_utc(2026, 12, 1, 0, 30, 8),
        end_at=_utc(2026, 12, 1, 1, 30, 8),
        status=BookingStatus.confirmed,
        price=40_000,
    )
    return home, away, member, at_home, away_booking


def test_a_booking_at_another_house_shows_that_houses_name_address_and_local_time_in_the_statement(
    db, make_house, make_machine, make_member, make_booking
):
    home, away, member, at_home, away_booking = _two_houses(
        make_house, make_machine, make_member, make_booking
    )
    statement = statements.member_statement(db, Actor.system(), member.id, "2026-11")

    by_id = {line.booking_id: line for line in statement.lines}
    assert set(by_id) == {at_home.id, away_booking.id}
    away_line, home_line = by_id[away_booking.id], by_id[at_home.id]
    assert (away_line.house_name, away_line.address, away_line.zone) == (
        "RPB Makassar",
        "Jl. Urip Sumoharjo 7, Makassar",
        "WITA",
    )
    assert away_line.start.isoformat() == "2026-11-25T09:00:00+08:00"
    assert (home_line.house_name, home_line.zone) == ("RPB Bandung", "WIB")
    assert home_line.start.isoformat() == "2026-11-24T09:00:00+07:00"

    rows = list(csv.reader(io.StringIO(statements.statement_csv(statement, "en"))))
    assert rows[0][4:7] == ["zone", "house", "address"]
    away_row = next(r for r in rows if r[0] == str(away_booking.id))
    assert away_row[2:7] == [
        "2026-11-25 09:00",
        "2026-11-25 11:00",
        "WITA",
        "RPB Makassar",
        "Jl. Urip Sumoharjo 7, Makassar",
    ]

    december = statements.member_statement(db, Actor.system(), member.id, "2026-12")
    assert [line.start.isoformat() for line in december.lines] == ["2026-12-01T00:30:00+08:00"]


def test_a_booking_at_another_house_shows_that_houses_name_address_and_zone_in_the_feed(
    db, make_house, make_machine, make_member, make_booking, make_user
):
    home, away, member, at_home, away_booking = _two_houses(
        make_house, make_machine, make_member, make_booking
    )
    user = make_user(Role.member, member=member, language="id")
    issued = calendar_feeds.issue_feed(db, Actor.of(user), now=NOW)

    feed = icalendar.Calendar.from_ical(calendar_feeds.render_feed(db, issued.token, now=NOW))
    events = {str(e["uid"]): e for e in feed.walk("VEVENT")}
    away_event = events[f"booking-{away_booking.id}@factoryshare"]
    home_event = events[f"booking-{at_home.id}@factoryshare"]

    assert str(away_event["summary"]) == "Mesin Vakum — RPB Makassar"
    assert str(away_event["location"]) == "Jl. Urip Sumoharjo 7, Makassar"
    description = str(away_event["description"])
    assert description.startswith("25-11-2026 09:00–11:00 WITA (Asia/Makassar)")
    assert "Status: terkonfirmasi" in description  # the member's Indonesian
    assert away_event.decoded("dtstart") == _utc(2026, 11, 25, 9, 0, 8)
    assert str(home_event["summary"]) == "Oven Roti — RPB Bandung"
    assert str(home_event["description"]).startswith("24-11-2026 09:00–10:00 WIB")
