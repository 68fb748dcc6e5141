"""Closures and opening hours from the manager's pages: every change is first shown with the
live bookings it would leave outside the calendar (nothing changes), then confirmed; the
confirmation names what it does and cancels only what the preview showed."""

from __future__ import annotations

import html
import re

from factoryshare.models import HouseClosure, Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.web.helpers import csrf, sign_in

WEEKDAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _post(client, url: str, **data):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf(client, "/manager/calendar")})


def _booked_house(make_user, make_machine, make_member, make_booking):  # type: ignore[no-untyped-def]
    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house, name="Mesin Bordir Tajima")
    member = make_member(house_id=house.id, business_name="Songket Pandai Sikek")
    make_user(Role.member, member=member, name="Nurul Hidayah")
    day = working_day()
    booking = make_booking(
        machine=machine, member=member, start_at=at(day, "09:00"), end_at=at(day, "10:00")
    )
    return manager, house, day, booking


def _hours_form(house, **changed: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    hours = {
        f"hours_{d}": ", ".join(f"{a}-{b}" for a, b in (house.opening_hours or {}).get(d, []))
        for d in WEEKDAY
    }
    hours.update({f"hours_{d}": v for d, v in changed.items()})
    return hours


def test_a_closure_is_previewed_with_the_bookings_it_hits_and_changes_nothing_until_confirmed(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, day, booking = _booked_house(make_user, make_machine, make_member, make_booking)
    sign_in(client, manager)
    r = _post(
        client,
        "/manager/calendar/closures",
        house=house.id,
        step="preview",
        start_on=day.isoformat(),
        end_on=day.isoformat(),
        reason="Renovasi listrik",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    hit = page.split('id="hit-bookings"', 1)[1].split("</table>", 1)[0]
    assert "Songket Pandai Sikek" in hit and "Mesin Bordir Tajima" in hit and "09:00 WIB" in hit
    assert "rumah produksi tutup hari itu" in hit
    assert db.query(HouseClosure).filter_by(house_id=house.id).count() == 0
    db.refresh(booking)
    assert booking.status is BookingStatus.confirmed

    form = (
        page.split('id="confirm-change"', 1)[0].rsplit("<form", 1)[1]
        + page.split('id="confirm-change"', 1)[1].split("</form>", 1)[0]
    )
    confirm = html.unescape(re.search(r'data-confirm="([^"]+)"', form).group(1))
    from babel.dates import format_date

    in_words = format_date(day, "full", locale="id")  # e.g. "Senin, 07 Desember 2026"
    assert confirm == (
        f"Tutup rumah produksi {in_words}? 1 pemesanan dibatalkan dan anggotanya diberi tahu."
    )
    assert 'name="affected" value="cancel"' in form

    r = _post(
        client,
        "/manager/calendar/closures",
        house=house.id,
        step="confirm",
        affected="cancel",
        start_on=day.isoformat(),
        end_on=day.isoformat(),
        reason="Renovasi listrik",
    )
    assert r.status_code == 302
    closure = db.query(HouseClosure).filter_by(house_id=house.id).one()
    assert (closure.start_on, closure.reason) == (day, "Renovasi listrik")
    db.refresh(booking)
    assert booking.status is BookingStatus.cancelled
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "1 pemesanan dibatalkan; anggotanya diberi tahu" in page
    assert "Renovasi listrik" in page.split('id="closures"', 1)[1]


def test_a_booking_made_after_the_preview_is_not_cancelled_unseen(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, day, booking = _booked_house(make_user, make_machine, make_member, make_booking)
    sign_in(client, manager)
    # The preview showed nothing to cancel (affected=refuse), but the booking is there now.
    r = _post(
        client,
        "/manager/calendar/closures",
        house=house.id,
        step="confirm",
        affected="refuse",
        start_on=day.isoformat(),
        end_on=day.isoformat(),
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="hit-bookings"' in page
    assert "Ada pemesanan baru pada hari-hari ini sejak pratinjau" in page
    assert db.query(HouseClosure).filter_by(house_id=house.id).count() == 0
    db.refresh(booking)
    assert booking.status is BookingStatus.confirmed


def test_new_opening_hours_are_previewed_with_the_bookings_outside_them_then_applied(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, day, booking = _booked_house(make_user, make_machine, make_member, make_booking)
    weekday = WEEKDAY[day.weekday()]
    sign_in(client, manager)
    page = client.get("/manager/calendar").get_data(as_text=True)
    assert (
        f'id="hours_{weekday}" name="hours_{weekday}" type="text" maxlength="80" value="08:00-17:00"'
        in page
    )

    form = _hours_form(house, **{weekday: "13:00-17:00"})
    r = _post(client, "/manager/calendar/hours", house=house.id, step="preview", **form)
    page = r.get_data(as_text=True)
    hit = page.split('id="hit-bookings"', 1)[1].split("</table>", 1)[0]
    assert "Songket Pandai Sikek" in hit and "di luar jam buka yang baru" in hit
    db.refresh(house)
    assert house.opening_hours[weekday] == [["08:00", "17:00"]]
    assert "Ubah jam buka? 1 pemesanan dibatalkan dan anggotanya diberi tahu." in html.unescape(
        page
    )

    r = _post(
        client, "/manager/calendar/hours", house=house.id, step="confirm", affected="cancel", **form
    )
    assert r.status_code == 302
    db.refresh(house)
    db.refresh(booking)
    assert house.opening_hours[weekday] == [["13:00", "17:00"]]
    assert booking.status is BookingStatus.cancelled


def test_opening_hours_that_are_not_times_are_refused_in_words_and_nothing_changes(
    client, db, make_user
):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    sign_in(client, manager)
    r = _post(
        client,
        "/manager/calendar/hours",
        house=house.id,
        step="confirm",
        affected="refuse",
        **_hours_form(house, mon="8 sampai 5"),
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'class="flash error"' in page
    assert 'value="8 sampai 5"' in page  # the form keeps what was typed
    db.refresh(house)
    assert house.opening_hours["mon"] == [["08:00", "17:00"]]


def test_a_closure_that_hits_nothing_says_so_and_is_applied_on_confirming(client, db, make_user):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    day = working_day()
    sign_in(client, manager)
    page = _post(
        client,
        "/manager/calendar/closures",
        house=house.id,
        step="preview",
        start_on=day.isoformat(),
        end_on=day.isoformat(),
    ).get_data(as_text=True)
    assert 'id="no-hits"' in page and 'name="affected" value="refuse"' in page
    _post(
        client,
        "/manager/calendar/closures",
        house=house.id,
        step="confirm",
        affected="refuse",
        start_on=day.isoformat(),
        end_on=day.isoformat(),
    )
    assert db.query(HouseClosure).filter_by(house_id=house.id).count() == 1
