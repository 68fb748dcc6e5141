"""A member books from the day grid: every free start of every machine, closed and past days
said in words, a review of the booking before it is made, moves that may overlap the
booking's own time, and a cancel that asks first."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.houses import HouseClosure
from factoryshare.services import bookings as booking_service
from tests.clock import FrozenClock
from tests.web.helpers import csrf, sign_in
from tests.web.member_clock import MONDAY, NYEPI, fix_clock


@pytest.fixture()
def clock(clock: FrozenClock) -> FrozenClock:
    """The tests' frozen clock, at Monday 15 February 2027 08:00 WIB."""
    return fix_clock(clock)


TUESDAY = MONDAY + dt.timedelta(days=1)
BOOK_LINK = re.compile(r'<a class="cell" href="([^"]+)"')


def _member(make_user, make_member, make_machine, make_house, machines=1, **house):  # type: ignore[no-untyped-def]
    home = make_house(**house)
    made = [
        make_machine(
            house=home,
            name=f"Mesin Jahit {i + 1:02d}",
            hourly_rate=150_000,
            capabilities=["sewing"],
        )
        for i in range(machines)
    ]
    user = make_user(Role.member, member=make_member(house_id=home.id))
    return user, made


def _starts(page: str) -> list[str]:
    return re.findall(r'<a class="cell"[^>]*>(\d\d:\d\d)</a>', page)


def test_a_member_sees_every_free_hour_of_the_day_up_to_the_one_that_ends_at_closing(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    page = client.get(f"/slots?day={TUESDAY}&duration=60").get_data(as_text=True)
    starts = _starts(page)
    # 08:00 to 16:00 every half hour (the house's 30-minute grid): 17 starts, the last 16:00-17:00.
    assert starts[0] == "08:00" and starts[-1] == "16:00" and len(starts) == 17
    assert "Pesan Mesin Jahit 01 dari 16:00 sampai 17:00" in page or "16:00–17:00" in page


def test_any_machine_shows_one_grid_with_a_row_per_machine_and_every_free_start(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _machines = _member(make_user, make_member, make_machine, make_house, machines=12)
    sign_in(client, user)
    page = client.get(f"/slots?day={TUESDAY}&duration=60").get_data(as_text=True)
    assert page.count('<table class="slot-grid">') == 1
    assert page.count('<th scope="row" class="machine-col">') == 12
    assert len(_starts(page)) == 12 * 17


def test_time_already_booked_is_not_offered(
    client, db, clock, make_user, make_member, make_machine, make_house, make_booking
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    make_booking(
        machine=machine, start_at=clock.at(TUESDAY, "09:00"), end_at=clock.at(TUESDAY, "10:00")
    )
    sign_in(client, user)
    starts = _starts(client.get(f"/slots?day={TUESDAY}&duration=60").get_data(as_text=True))
    assert "08:00" in starts and "10:00" in starts
    assert not {"08:30", "09:00", "09:30"} & set(starts)


def test_today_offers_only_the_starts_still_ahead(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    clock.set(clock.at(MONDAY, "10:10"))
    sign_in(client, user)
    starts = _starts(client.get(f"/slots?day={MONDAY}&duration=60").get_data(as_text=True))
    assert starts[0] == "10:30" and starts[-1] == "16:00"


def test_a_past_day_says_so_and_offers_nothing(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    page = client.get(f"/slots?day={MONDAY - dt.timedelta(days=3)}").get_data(as_text=True)
    assert "Hari ini sudah lewat" in page
    assert not _starts(page)


def test_a_public_holiday_says_the_house_is_closed_with_its_name_in_the_pages_language(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    page = client.get(f"/slots?day={NYEPI}").get_data(as_text=True)
    assert "Rumah produksi tutup pada hari ini: hari libur nasional (Hari Suci Nyepi)." in page
    assert not _starts(page)
    client.post(
        "/language", data={"lang": "en", "next": "/slots", "csrf_token": csrf(client, "/slots")}
    )
    page = client.get(f"/slots?day={NYEPI}").get_data(as_text=True)
    assert "The house is closed on this day: public holiday (Day of Silence)." in page
    assert "Nyepi" not in page


def test_a_day_the_house_closed_says_so_with_its_reason(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    db.add(
        HouseClosure(
            house_id=machine.house_id, start_on=TUESDAY, end_on=TUESDAY, reason="Perbaikan listrik"
        )
    )
    db.flush()
    sign_in(client, user)
    page = client.get(f"/slots?day={TUESDAY}").get_data(as_text=True)
    assert "Rumah produksi tutup pada hari ini (Perbaikan listrik)." in page
    assert not _starts(page)


def test_a_sunday_says_the_house_is_not_open_that_day(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    page = client.get(
        f"/slots?day={MONDAY - dt.timedelta(days=1) + dt.timedelta(days=7)}"
    ).get_data(as_text=True)
    assert "Rumah produksi tidak buka pada hari ini dalam seminggu." in page


def test_the_grid_leads_to_the_previous_and_the_next_day_but_not_before_today(
    client, clock, make_user, make_member, make_machine, make_house
):
    user, _ = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    today = client.get(f"/slots?day={MONDAY}&duration=60").get_data(as_text=True)
    assert 'rel="prev"' not in today
    assert f"day={TUESDAY}" in today and 'rel="next"' in today
    tuesday = client.get(f"/slots?day={TUESDAY}&duration=60").get_data(as_text=True)
    assert f"day={MONDAY}" in tuesday and 'rel="prev"' in tuesday


def test_the_review_names_machine_rate_price_hold_expiry_and_the_cancellation_rule(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(
        make_user,
        make_member,
        make_machine,
        make_house,
        requires_confirmation=True,
        hold_minutes=120,
        no_show_grace_minutes=15,
    )
    sign_in(client, user)
    grid = client.get(f"/slots?day={TUESDAY}&duration=120").get_data(as_text=True)
    link = BOOK_LINK.search(grid).group(1).replace("&amp;", "&")  # 08:00-10:00 on Tuesday
    page = client.get(link).get_data(as_text=True)
    assert "Mesin Jahit 01" in page
    assert "Rp150.000 per jam" in page and "Rp300.000" in page
    # Held for the house's two hours from now (Monday 08:00).
    assert "slot ini ditahan untuk Anda sampai Sen 15 Feb 2027 10:00 WIB" in page
    assert "15 menit" in page and "no-show" in page
    assert db.query(Booking).filter_by(machine_id=machine.id).count() == 0  # nothing booked yet


def test_booking_from_the_review_makes_the_booking(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    r = client.post(
        "/bookings",
        data={
            "machine_id": machine.id,
            "start": clock.at(TUESDAY, "16:00").isoformat(),
            "end": clock.at(TUESDAY, "17:00").isoformat(),
            "csrf_token": csrf(client, "/slots"),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/bookings"
    booking = db.query(Booking).filter_by(machine_id=machine.id).one()
    assert booking.status is BookingStatus.confirmed and booking.price == 150_000


def test_a_slot_taken_before_the_review_is_refused_in_words(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    rival = make_user(Role.member, member=make_member(house_id=machine.house_id))
    start, end = clock.at(TUESDAY, "09:00"), clock.at(TUESDAY, "10:00")
    booking_service.create_booking(
        db, Actor.of(rival), machine_id=machine.id, start=start, end=end, now=clock.now()
    )
    sign_in(client, user)
    r = client.get(
        "/slots/review",
        query_string={
            "machine_id": machine.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "day": TUESDAY.isoformat(),
            "duration": "60",
        },
    )
    assert r.status_code == 302 and "/slots?" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Mesin ini baru saja dipesan orang lain pada waktu itu." in page


def test_moving_offers_slots_that_overlap_the_bookings_own_time(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    booking = booking_service.create_booking(
        db,
        Actor.of(user),
        machine_id=machine.id,
        start=clock.at(TUESDAY, "09:00"),
        end=clock.at(TUESDAY, "10:00"),
        now=clock.now(),
    )
    sign_in(client, user)
    page = client.get(f"/bookings/{booking.id}/move").get_data(as_text=True)
    starts = re.findall(r'<button type="submit" class="cell"[^>]*>(\d\d:\d\d)</button>', page)
    assert "08:30" in starts and "09:30" in starts  # each overlaps 09:00-10:00
    assert "09:00" not in starts  # where it is already
    r = client.post(
        f"/bookings/{booking.id}/move",
        data={
            "start": clock.at(TUESDAY, "09:30").isoformat(),
            "end": clock.at(TUESDAY, "10:30").isoformat(),
            "csrf_token": csrf(client, "/bookings"),
        },
    )
    assert r.status_code == 302
    db.refresh(booking)
    assert booking.start_at == clock.at(TUESDAY, "09:30")


def test_cancelling_a_booking_asks_first_naming_the_machine_and_the_time(
    client, db, clock, make_user, make_member, make_machine, make_house
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    booking_service.create_booking(
        db,
        Actor.of(user),
        machine_id=machine.id,
        start=clock.at(TUESDAY, "09:00"),
        end=clock.at(TUESDAY, "10:00"),
        now=clock.now(),
    )
    sign_in(client, user)
    page = client.get("/bookings").get_data(as_text=True)
    confirm = re.search(r'data-confirm="([^"]+)"', page).group(1)
    assert "Mesin Jahit 01" in confirm and "Sel 16 Feb 2027 09:00 WIB" in confirm


def test_the_slot_grid_api_answers_the_same_starts(
    client, clock, make_user, make_member, make_machine, make_house, token_for
):
    user, (machine,) = _member(make_user, make_member, make_machine, make_house)
    r = client.get(
        f"/api/v1/houses/{machine.house_id}/slot-grid?day={TUESDAY}&duration=60",
        headers=token_for(user),
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    (row,) = body["machines"]
    assert len(row["slots"]) == 17 and row["slots"][-1]["start"].startswith(f"{TUESDAY}T16:00")
    assert row["slots"][0]["price"] == 150_000 and body["closed"] is None
    holiday = client.get(
        f"/api/v1/houses/{machine.house_id}/slot-grid?day={NYEPI}", headers=token_for(user)
    ).get_json()
    assert holiday["closed"] == "holiday" and holiday["machines"][0]["slots"] == []


def test_the_grid_of_twelve_machines_reads_the_database_no_more_often_than_the_grid_of_one(
    app, connection, clock, make_user, make_member, make_machine, make_house, make_booking
):
    from sqlalchemy import event

    def statements(user, machines):  # type: ignore[no-untyped-def]
        client = app.test_client()
        for machine in machines:
            make_booking(
                machine=machine,
                start_at=clock.at(TUESDAY, "09:00"),
                end_at=clock.at(TUESDAY, "10:00"),
            )
        sign_in(client, user)
        seen: list[str] = []

        def count(*args):  # type: ignore[no-untyped-def]
            seen.append(args[2])

        event.listen(connection.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/slots?day={TUESDAY}&duration=60").status_code == 200
        finally:
            event.remove(connection.engine, "before_cursor_execute", count)
        return len(seen)

    one = statements(*_member(make_user, make_member, make_machine, make_house, machines=1))
    twelve = statements(*_member(make_user, make_member, make_machine, make_house, machines=12))
    assert twelve <= one, (one, twelve)
