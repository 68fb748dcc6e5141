"""The manager's pages through Flask's test client: the timeline, the queue, schedule runs,
utilisation, recording a downtime and permit warnings."""

from __future__ import annotations

import re

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.web.helpers import csrf, sign_in


def _manager_with_machine(make_user, make_machine, name="Mesin Bordir Tajima"):  # type: ignore[no-untyped-def]
    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house, name=name, capabilities=["embroidery"])
    return manager, house, machine


def _bars(page: str) -> list[str]:
    """The <title> texts of the booking bars drawn on the chart."""
    return re.findall(r'<g class="bar [a-z_]+"><title>([^<]*)</title>', page)


def test_the_timeline_draws_a_booking_bar_with_its_member_and_shades_a_downtime(
        client, make_user, make_machine, make_member, make_booking, make_downtime):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Batik Sekar Arum")
    day = working_day()
    make_booking(machine=machine, member=member, start_at=at(day, "09:00"), end_at=at(day, "11:00"))
    make_downtime(machine=machine, start_at=at(day, "13:00"), end_at=at(day, "15:00"),
                  reason="Ganti jarum")
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?day={day.isoformat()}").get_data(as_text=True)
    assert "<svg" in page and "Mesin Bordir Tajima" in page
    bars = _bars(page)
    assert len(bars) == 1
    assert bars[0].startswith("Batik Sekar Arum:") and "09:00 WIB – 11:00" in bars[0]
    assert bars[0].endswith("(terkonfirmasi)")
    downtime = re.findall(r'<rect class="shade downtime"[^>]*><title>([^<]*)</title>', page)
    assert len(downtime) == 1 and "Ganti jarum" in downtime[0] and "13:00 WIB" in downtime[0]
    # The text alternative lists the same booking in a table.
    table = page.split('id="timeline-table"', 1)[1]
    assert "Batik Sekar Arum" in table and "09:00 WIB" in table


def test_the_week_view_shows_the_whole_week_and_leaves_cancelled_bookings_out(
        client, make_user, make_machine, make_member, make_booking):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    day = working_day()
    kept = make_member(house_id=house.id, business_name="Tenun Ikat Sumba")
    gone = make_member(house_id=house.id, business_name="Keripik Maicih")
    make_booking(machine=machine, member=kept, start_at=at(day, "09:00"), end_at=at(day, "10:00"),
                 status=BookingStatus.held)
    make_booking(machine=machine, member=gone, start_at=at(day, "13:00"), end_at=at(day, "14:00"),
                 status=BookingStatus.cancelled)
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?view=week&day={day.isoformat()}").get_data(as_text=True)
    assert len(re.findall(r'class="day-label"', page)) == 7
    assert re.search(r'<g class="bar held"><title>Tenun Ikat Sumba', page)
    assert "Keripik Maicih" not in page


def test_a_public_holiday_is_shaded_and_named_on_the_timeline(client, make_user, make_machine):
    import datetime as dt

    manager, house, _machine = _manager_with_machine(make_user, make_machine)
    sign_in(client, manager)
    # 17 August, Independence Day, is a public holiday every year.
    page = client.get("/manager/timeline?day=2030-08-17").get_data(as_text=True)
    assert 'class="holiday-label"' in page
    assert re.search(r'<rect class="shade closed"[^>]*><title>[^<]*Kemerdekaan', page) or \
        re.search(r'<rect class="shade closed"[^>]*><title>[^<]*Independence', page)
    assert dt.date(2030, 8, 17).isoformat() in page


def test_a_member_may_not_open_the_managers_pages(client, make_user):
    sign_in(client, make_user(Role.member))
    for url in ("/manager/timeline",):
        r = client.get(url)
        assert r.status_code == 403, url


def test_a_manager_of_another_house_cannot_see_this_house(client, make_user, make_machine):
    _owner, house, _machine = _manager_with_machine(make_user, make_machine)
    sign_in(client, make_user(Role.manager))
    for url in (f"/manager/timeline?house={house.id}",):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "Mesin Bordir Tajima" not in r.get_data(as_text=True)


def test_a_manager_of_two_houses_picks_one_with_the_selector(
        client, make_user, make_house, make_machine):
    first, second = make_house(name="RPB Garut"), make_house(name="RPB Jembrana", timezone="Asia/Makassar")
    make_machine(house=first, name="Mesin Jahit Juki")
    make_machine(house=second, name="Mesin Sangrai Kakao")
    manager = make_user(Role.manager, houses=[first, second])
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?house={second.id}").get_data(as_text=True)
    assert '<select id="house" name="house">' in page and "RPB Garut" in page
    assert "Mesin Sangrai Kakao" in page and "Mesin Jahit Juki" not in page
    assert "WITA" in page
