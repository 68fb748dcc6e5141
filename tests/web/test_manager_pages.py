"""The manager's pages through Flask's test client: the timeline, the queue, schedule runs,
utilisation, recording a downtime and permit warnings."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.solving import WORK_PER_SECOND
from tests.web.helpers import csrf, sign_in

MANAGER_PAGES = (
    "/manager/timeline",
    "/manager/queue",
    "/manager/runs",
    "/manager/utilisation",
    "/manager/downtimes",
    "/manager/permits",
)


def _post(client, url: str, form_page: str, **data):  # type: ignore[no-untyped-def]
    """Post a form as the browser does, with the CSRF token of the page it sits on."""
    return client.post(url, data={**data, "csrf_token": csrf(client, form_page)})


def _start_run(client, house, days: str = "5"):  # type: ignore[no-untyped-def]
    """Start a run from the runs page over Monday 4 January 2027 and the days after; its id."""
    r = _post(
        client,
        "/manager/runs",
        "/manager/runs",
        house=house.id,
        start_day="2027-01-04",
        horizon_days=days,
        time_limit_seconds="2",
    )
    assert r.status_code == 302
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _manager_with_machine(
    make_user,
    make_machine,  # type: ignore[no-untyped-def]
    name="Mesin Bordir Tajima",
):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house, name=name, capabilities=["embroidery"])
    return manager, house, machine


def _bars(page: str) -> list[str]:
    """The <title> texts of the booking bars drawn on the chart."""
    return re.findall(r'<g class="bar [a-z_]+"><title>([^<]*)</title>', page)


def test_the_timeline_draws_a_booking_bar_with_its_member_and_shades_a_downtime(
    client, make_user, make_machine, make_member, make_booking, make_downtime
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Batik Sekar Arum")
    day = working_day()
    make_booking(machine=machine, member=member, start_at=at(day, "09:00"), end_at=at(day, "11:00"))
    make_downtime(
        machine=machine, start_at=at(day, "13:00"), end_at=at(day, "15:00"), reason="Ganti jarum"
    )
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
    client, make_user, make_machine, make_member, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    day = working_day()
    kept = make_member(house_id=house.id, business_name="Tenun Ikat Sumba")
    gone = make_member(house_id=house.id, business_name="Keripik Maicih")
    make_booking(
        machine=machine,
        member=kept,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    make_booking(
        machine=machine,
        member=gone,
        start_at=at(day, "13:00"),
        end_at=at(day, "14:00"),
        status=BookingStatus.cancelled,
    )
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?view=week&day={day.isoformat()}").get_data(as_text=True)
    assert len(re.findall(r'class="day-label"', page)) == 7
    assert re.search(r'<g class="bar held"><title>Tenun Ikat Sumba', page)
    assert "Keripik Maicih" not in page


def test_a_public_holiday_is_shaded_and_named_on_the_timeline(client, make_user, make_machine):
    manager, house, _machine = _manager_with_machine(make_user, make_machine)
    sign_in(client, manager)
    # 17 August, Independence Day, is a public holiday every year.
    page = client.get("/manager/timeline?day=2027-08-17").get_data(as_text=True)
    assert 'class="holiday-label"' in page
    # The holiday is named in the manager's language (Indonesian by default).
    assert re.search(r"<title>[^<]*Kemerdekaan", page)
    assert "Independence" not in page
    assert dt.date(2027, 8, 17).isoformat() in page


def test_a_member_may_not_open_the_managers_pages(client, make_user):
    sign_in(client, make_user(Role.member))
    for url in MANAGER_PAGES:
        r = client.get(url)
        assert r.status_code == 403, url


def test_a_manager_of_another_house_cannot_see_this_house(
    client, db, make_user, make_machine, make_downtime
):
    from factoryshare.access import Actor
    from factoryshare.services import scheduling

    owner, house, machine = _manager_with_machine(make_user, make_machine)
    run = scheduling.queue_run(
        db,
        Actor.of(owner),
        house.id,
        {"horizon_start": at(working_day(), "08:00"), "horizon_end": at(working_day(), "17:00")},
    )
    downtime = make_downtime(machine=machine)
    sign_in(client, make_user(Role.manager))
    for url in [f"{page}?house={house.id}" for page in MANAGER_PAGES] + [
        f"/manager/runs/{run.id}",
        f"/manager/downtimes/{downtime.id}",
    ]:
        r = client.get(url)
        assert r.status_code == 404, url
        assert "Mesin Bordir Tajima" not in r.get_data(as_text=True)
    r = _post(client, f"/manager/runs/{run.id}/publish", "/manager/queue")
    assert r.status_code == 404


def test_a_manager_of_two_houses_picks_one_with_the_selector(
    client, make_user, make_house, make_machine
):
    first = make_house(name="RPB Garut")
    second = make_house(name="RPB Jembrana", timezone="Asia/Makassar")
    make_machine(house=first, name="Mesin Jahit Juki")
    make_machine(house=second, name="Mesin Sangrai Kakao")
    manager = make_user(Role.manager, houses=[first, second])
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?house={second.id}").get_data(as_text=True)
    assert '<select id="house" name="house">' in page and "RPB Garut" in page
    assert "Mesin Sangrai Kakao" in page and "Mesin Jahit Juki" not in page
    assert "WITA" in page


def test_confirming_a_held_booking_from_the_queue_confirms_it(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Kopi Gayo Mandiri")
    day = working_day()
    held = make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    sign_in(client, manager)
    page = client.get("/manager/queue").get_data(as_text=True)
    assert "Kopi Gayo Mandiri" in page and "Konfirmasi" in page
    r = client.post(
        f"/manager/bookings/{held.id}/confirm",
        data={"house": house.id, "csrf_token": csrf(client, "/manager/queue")},
    )
    assert r.status_code == 302 and r.headers["Location"].startswith("/manager/queue")
    db.refresh(held)
    assert held.status is BookingStatus.confirmed
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Dikonfirmasi: Mesin Bordir Tajima" in page
    assert "Tidak ada pemesanan yang ditahan." in page


def test_rejecting_a_held_booking_with_a_reason_frees_its_slot(
    client, db, make_user, make_machine, make_booking
):
    manager, _house, machine = _manager_with_machine(make_user, make_machine)
    day = working_day()
    held = make_booking(
        machine=machine,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    sign_in(client, manager)
    _post(
        client,
        f"/manager/bookings/{held.id}/reject",
        "/manager/queue",
        reason="Mesin dipakai pelatihan",
    )
    db.refresh(held)
    assert held.status is BookingStatus.cancelled
    assert held.cancelled_reason == "Mesin dipakai pelatihan"


def test_the_reject_button_asks_once_naming_the_booking_and_wants_a_reason(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Kopi Gayo Mandiri")
    day = working_day()
    held = make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    sign_in(client, manager)
    page = client.get("/manager/queue").get_data(as_text=True)
    form = page.split(f'action="/manager/bookings/{held.id}/reject"', 1)[1].split("</form>", 1)[0]
    confirm = re.search(r'data-confirm="([^"]+)"', form).group(1)
    assert "Kopi Gayo Mandiri" in confirm and "Mesin Bordir Tajima" in confirm
    assert "09:00 WIB" in confirm
    assert 'data-confirm-reason="required"' in form and 'name="reason"' in form
    # Without a reason (no script in the browser) the booking stays held and the page says why.
    r = _post(client, f"/manager/bookings/{held.id}/reject", "/manager/queue", reason="  ")
    db.refresh(held)
    assert held.status is BookingStatus.held
    assert "Jelaskan mengapa pemesanan ditolak" in client.get(r.headers["Location"]).get_data(
        as_text=True
    )


def test_a_hold_whose_time_has_passed_no_longer_waits_in_the_queue(
    clock, client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Rendang Uni Emi")
    past = clock.today() - dt.timedelta(days=3)
    make_booking(
        machine=machine,
        member=member,
        start_at=at(past, "09:00"),
        end_at=at(past, "10:00"),
        status=BookingStatus.held,
    )
    sign_in(client, manager)
    page = client.get("/manager/queue").get_data(as_text=True)
    assert "Rendang Uni Emi" not in page and "Tidak ada pemesanan yang ditahan." in page


def test_a_confirm_without_its_csrf_token_is_refused_and_changes_nothing(
    client, db, make_user, make_machine, make_booking
):
    manager, _house, machine = _manager_with_machine(make_user, make_machine)
    held = make_booking(machine=machine, status=BookingStatus.held)
    sign_in(client, manager)
    assert client.post(f"/manager/bookings/{held.id}/confirm").status_code == 400
    db.refresh(held)
    assert held.status is BookingStatus.held


def test_the_queue_lists_the_houses_open_production_requests(
    client, make_user, make_machine, make_member, make_product, make_production_request
):
    manager, house, _machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Rajutan Nusantara")
    make_production_request(
        product=make_product(member=member, name="Tas Rajut", routing=[("embroidery", 10, 2)]),
        quantity=40,
    )
    sign_in(client, manager)
    page = client.get("/manager/queue").get_data(as_text=True)
    assert "Rajutan Nusantara" in page and "Tas Rajut" in page and ">40</td>" in page


def _request_to_plan(
    house,
    make_member,
    make_product,  # type: ignore[no-untyped-def]
    make_production_request,
):
    # The request factory's default window starts Monday 4 January 2027, 08:00 WIB.
    member = make_member(house_id=house.id, business_name="Konveksi Mekar Sari")
    return make_production_request(
        quantity=9,
        product=make_product(member=member, name="Kemeja Batik", routing=[("embroidery", 15, 5)]),
    )


def test_starting_a_run_from_the_page_queues_it_and_the_page_polls(
    client, db, make_user, make_machine, make_member, make_product, make_production_request
):
    manager, house, _machine = _manager_with_machine(make_user, make_machine)
    _request_to_plan(house, make_member, make_product, make_production_request)
    sign_in(client, manager)
    run_id = _start_run(client, house)
    from factoryshare.models.scheduling import RunStatus, ScheduleRun

    run = db.get(ScheduleRun, run_id)
    assert run.house_id == house.id and run.status is RunStatus.queued
    assert run.time_limit_seconds == 2
    assert run.horizon_start.isoformat() == "2027-01-03T17:00:00+00:00"  # 4 January, 00:00 WIB
    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page and "dalam antrean" in page
    listing = client.get("/manager/runs").get_data(as_text=True)
    assert f"Penjadwalan {run_id}" in listing and '<meta http-equiv="refresh"' in listing


def test_a_finished_run_shows_its_changes_and_publishing_it_creates_the_bookings(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    from factoryshare import worker
    from factoryshare.models.bookings import Booking, BookingSource
    from factoryshare.models.scheduling import RunStatus, ScheduleRun

    manager, house, machine = _manager_with_machine(make_user, make_machine)
    request = _request_to_plan(house, make_member, make_product, make_production_request)
    sign_in(client, manager)
    run_id = _start_run(client, house)
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run_id
    )
    run = db.get(ScheduleRun, run_id)
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error

    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in page
    changes = page.split('id="run-changes"', 1)[1].split("</table>", 1)[0]
    assert "baru" in changes and "Konveksi Mekar Sari" in changes and "Kemeja Batik" in changes
    assert f"#{request.id}" in changes and "Mesin Bordir Tajima" in changes
    assert re.search(
        r'<g class="bar proposed"><title>Permintaan \d+ tahap 1, Konveksi Mekar Sari', page
    )
    assert "Terbitkan" in page and "Buang" in page

    r = _post(client, f"/manager/runs/{run_id}/publish", f"/manager/runs/{run_id}")
    assert r.status_code == 302
    made = db.query(Booking).filter_by(member_id=request.member_id).all()
    assert len(made) == 1 and made[0].machine_id == machine.id
    assert made[0].source is BookingSource.solver
    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    assert "Diterbitkan: 1 pemesanan dibuat untuk para anggota." in page
    assert "tetap" in page.split('id="run-changes"', 1)[1]


def test_discarding_a_queued_run_from_its_page_discards_it(client, db, make_user):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    sign_in(client, manager)
    run_id = _start_run(client, house, days="3")
    _post(client, f"/manager/runs/{run_id}/discard", f"/manager/runs/{run_id}")
    from factoryshare.models.scheduling import RunStatus, ScheduleRun

    assert db.get(ScheduleRun, run_id).status is RunStatus.discarded
    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    assert "Penjadwalan dibuang; tidak ada yang dipesan." in page


def test_a_horizon_out_of_range_is_refused_in_words(client, db, make_user):
    manager = make_user(Role.manager)
    sign_in(client, manager)
    r = _post(
        client,
        "/manager/runs",
        "/manager/runs",
        start_day="2027-01-04",
        horizon_days="99",
        time_limit_seconds="2",
    )
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Isi cakrawala dalam hari (1 sampai 62)" in page
    from factoryshare.models.scheduling import ScheduleRun

    assert db.query(ScheduleRun).filter_by(house_id=manager.houses[0].id).count() == 0


def test_utilisation_per_machine_is_booked_time_over_open_time_in_a_chart_and_in_words(
    client, make_user, make_machine, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    idle = make_machine(house=house, name="Mesin Jahit Juki")
    # The week of Monday 11 January 2027 has no public holiday; the test house opens
    # 08:00-17:00 on weekdays and 08:00-12:00 on Saturday: 49 open hours. 9 h 48 min booked
    # (one booking on Wednesday runs past closing time and counts only up to 17:00) is 20 %.
    wednesday, thursday = dt.date(2027, 1, 13), dt.date(2027, 1, 14)
    make_booking(machine=machine, start_at=at(wednesday, "08:00"), end_at=at(wednesday, "19:00"))
    make_booking(machine=machine, start_at=at(thursday, "08:00"), end_at=at(thursday, "08:48"))
    make_booking(
        machine=idle,
        start_at=at(thursday, "09:00"),
        end_at=at(thursday, "10:00"),
        status=BookingStatus.cancelled,
    )
    sign_in(client, manager)
    page = client.get("/manager/utilisation?week=2027-01-15").get_data(as_text=True)
    assert '<svg class="bars"' in page
    rows = re.findall(
        r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>\s*"
        r"<td[^>]*>([^<]+)</td></tr>",
        page,
    )
    assert ("Mesin Bordir Tajima", "9 jam 48 menit", "49 jam", "20,0%") in rows
    assert (idle.name, "0 menit", "49 jam", "0,0%") in rows
    assert "<title>Mesin Bordir Tajima: 20,0%</title>" in page


def test_recording_a_downtime_that_hits_a_booking_lists_the_member_told(
    client, db, make_user, make_machine, make_member, make_booking
):
    from factoryshare.models import Downtime

    manager, house, machine = _manager_with_machine(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Songket Pandai Sikek")
    member_user = make_user(Role.member, member=member, name="Nurul Hidayah")
    day = working_day()
    booking = make_booking(
        machine=machine, member=member, start_at=at(day, "10:00"), end_at=at(day, "12:00")
    )
    sign_in(client, manager)
    page = client.get("/manager/downtimes").get_data(as_text=True)
    for field in ("machine_id", "start", "end", "kind", "reason"):
        assert f'<label for="{field}">' in page
    r = client.post(
        "/manager/downtimes",
        data={
            "house": house.id,
            "machine_id": machine.id,
            "start": f"{day.isoformat()}T09:00",
            "end": f"{day.isoformat()}T13:00",
            "kind": "breakdown",
            "reason": "Motor terbakar",
            "affected": "cancel",
            "csrf_token": csrf(client, "/manager/downtimes"),
        },
    )
    assert r.status_code == 302 and r.headers["Location"].startswith("/manager/downtimes/")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    hit = page.split('id="hit-bookings"', 1)[1].split("</table>", 1)[0]
    assert "Songket Pandai Sikek" in hit and "10:00 WIB" in hit
    assert f"Nurul Hidayah ({member_user.email})" in hit
    assert "dibatalkan" in hit
    downtime = db.query(Downtime).filter_by(machine_id=machine.id).one()
    assert downtime.start_at == at(day, "09:00") and downtime.kind.value == "breakdown"
    db.refresh(booking)
    assert booking.status is BookingStatus.cancelled


def test_a_downtime_ending_before_it_starts_is_refused_in_words_and_the_form_keeps_its_values(
    client, db, make_user, make_machine
):
    from factoryshare.models import Downtime

    manager, house, machine = _manager_with_machine(make_user, make_machine)
    day = working_day()
    sign_in(client, manager)
    r = client.post(
        "/manager/downtimes",
        data={
            "machine_id": machine.id,
            "start": f"{day.isoformat()}T13:00",
            "end": f"{day.isoformat()}T09:00",
            "kind": "maintenance",
            "reason": "Servis",
            "affected": "keep",
            "csrf_token": csrf(client, "/manager/downtimes"),
        },
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'class="flash error"' in page
    assert f'value="{day.isoformat()}T13:00"' in page
    assert db.query(Downtime).filter_by(machine_id=machine.id).count() == 0


def test_the_permit_warnings_name_the_blocked_product_and_the_permit_running_out(
    clock, client, db, make_user, make_member, make_food_product, make_permit
):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    member = make_member(house_id=house.id, business_name="Dodol Picnic Garut")
    product = make_food_product(member=member, name="Dodol Kacang")
    blocked = make_food_product(member=member, name="Keripik Tempe")
    today = clock.today()
    make_permit(product, "halal")
    make_permit(product, "pirt", expires_on=today + dt.timedelta(days=20))
    make_permit(blocked, "halal")
    sign_in(client, manager)
    page = client.get("/manager/permits").get_data(as_text=True)
    blocked_part = page.split("Produk yang tidak boleh diproduksi sekarang", 1)[1]
    blocked_part = blocked_part.split("<h2>", 1)[0]
    assert "Keripik Tempe" in blocked_part and "Dodol Kacang" not in blocked_part
    warnings = page.split("Izin yang perlu diperhatikan", 1)[1]
    assert "Dodol Picnic Garut" in warnings and "segera berakhir" in warnings
    assert "20 hari lagi" in warnings


def test_the_language_switch_shows_a_manager_page_in_english_and_back_in_indonesian(
    client, make_user, make_machine
):
    manager, _house, _machine = _manager_with_machine(make_user, make_machine)
    sign_in(client, manager)
    page = client.get("/manager/queue").get_data(as_text=True)
    assert "Antrean" in page and "Pemesanan ditahan yang menunggu Anda" in page
    client.post(
        "/language",
        data={"lang": "en", "next": "/manager/queue", "csrf_token": csrf(client, "/manager/queue")},
    )
    page = client.get("/manager/queue").get_data(as_text=True)
    assert '<html lang="en">' in page and "Held bookings waiting for you" in page
    client.post(
        "/language",
        data={"lang": "id", "next": "/manager/runs", "csrf_token": csrf(client, "/manager/runs")},
    )
    page = client.get("/manager/runs").get_data(as_text=True)
    assert "Mulai penjadwalan" in page and "Cakrawala dalam hari" in page


def test_a_kept_booking_is_listed_with_the_other_slots_offered_and_a_member_without_an_account(
    client, db, make_user, make_machine, make_member, make_booking
):
    manager, house, machine = _manager_with_machine(make_user, make_machine)
    make_machine(house=house, name="Mesin Bordir Cadangan", capabilities=["embroidery"])
    told = make_member(house_id=house.id, business_name="Sulam Usus Lampung")
    make_user(Role.member, member=told, name="Dewi Lestari")
    silent = make_member(house_id=house.id, business_name="Tanpa Akun Jaya")
    day = working_day()
    kept = make_booking(
        machine=machine, member=told, start_at=at(day, "09:00"), end_at=at(day, "10:00")
    )
    make_booking(machine=machine, member=silent, start_at=at(day, "10:00"), end_at=at(day, "11:00"))
    sign_in(client, manager)
    r = client.post(
        "/manager/downtimes",
        data={
            "machine_id": machine.id,
            "start": f"{day.isoformat()}T08:00",
            "end": f"{day.isoformat()}T12:00",
            "kind": "maintenance",
            "reason": "Servis rutin",
            "affected": "keep",
            "csrf_token": csrf(client, "/manager/downtimes"),
        },
    )
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    rows = page.split('id="hit-bookings"', 1)[1].split("</table>", 1)[0].split("<tr>")[2:]
    assert len(rows) == 2
    assert "Sulam Usus Lampung" in rows[0] and "dibiarkan" in rows[0] and "Dewi Lestari" in rows[0]
    assert "Mesin Bordir Cadangan" in rows[0]  # a free slot offered on the other machine
    assert "Tanpa Akun Jaya" in rows[1]
    assert "tidak ada: anggota ini tidak punya akun aktif" in rows[1]
    db.refresh(kept)
    assert kept.status is BookingStatus.confirmed
    # Reloading the page shows the same and records nothing twice.
    assert client.get(r.headers["Location"]).get_data(as_text=True).count("Sulam Usus Lampung") == 1
    from factoryshare.models import Downtime

    assert db.query(Downtime).filter_by(machine_id=machine.id).count() == 1


def test_the_now_line_is_drawn_on_today_and_not_on_another_day(
    client, make_user, make_house, make_machine
):
    # A house open round the clock shows whole days, so now is always on today's chart.
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    always = {day: [["00:00", "24:00"]] for day in days}
    house = make_house(opening_hours=always)
    make_machine(house=house, name="Oven Roti")
    sign_in(client, make_user(Role.manager, houses=[house]))
    assert '<line class="now"' in client.get("/manager/timeline").get_data(as_text=True)
    assert '<line class="now"' not in client.get("/manager/timeline?day=2027-01-12").get_data(
        as_text=True
    )


def test_a_breakdown_on_planned_work_queues_a_replan_whose_page_shows_the_work_moved(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    from factoryshare import worker
    from factoryshare.models.bookings import Booking
    from factoryshare.models.scheduling import ScheduleRun

    manager, house, _machine = _manager_with_machine(make_user, make_machine)
    make_machine(house=house, name="Mesin Bordir Cadangan", capabilities=["embroidery"])
    request = _request_to_plan(house, make_member, make_product, make_production_request)
    sign_in(client, manager)
    plan_id = _start_run(client, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    _post(client, f"/manager/runs/{plan_id}/publish", f"/manager/runs/{plan_id}")
    (booking,) = db.query(Booking).filter_by(member_id=request.member_id).all()
    # The datetime-local fields are read in the house's time (WIB).
    start = booking.start_at.astimezone(ZoneInfo("Asia/Jakarta"))
    end = booking.end_at.astimezone(ZoneInfo("Asia/Jakarta"))
    r = _post(
        client,
        "/manager/downtimes",
        "/manager/downtimes",
        machine_id=booking.machine_id,
        start=start.strftime("%Y-%m-%dT%H:%M"),
        end=end.strftime("%Y-%m-%dT%H:%M"),
        kind="breakdown",
        reason="Motor terbakar",
        affected="keep",
    )
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "penjadwalan ulang masuk antrean" in page
    replan = db.query(ScheduleRun).filter_by(house_id=house.id, purpose="replan").one()
    assert f'href="/manager/runs/{replan.id}"' in page

    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    page = client.get(f"/manager/runs/{replan.id}").get_data(as_text=True)
    changes = page.split('id="run-changes"', 1)[1].split("</table>", 1)[0]
    assert "dipindah" in changes and "Konveksi Mekar Sari" in changes
    assert '<g class="bar moved">' in page


def test_publishing_a_run_the_schedule_changed_under_shows_it_out_of_date_with_a_fresh_run_button(
    clock,
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    from factoryshare import worker
    from factoryshare.access import Actor
    from factoryshare.models.bookings import Booking
    from factoryshare.models.scheduling import RunStatus, ScheduleRun
    from factoryshare.services import bookings

    manager, house, machine = _manager_with_machine(make_user, make_machine)
    request = _request_to_plan(house, make_member, make_product, make_production_request)
    sign_in(client, manager)
    run_id = _start_run(client, house)
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run_id
    )
    monday = dt.datetime(2027, 1, 4, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    # A member books the machine on Thursday, a minute after the solve.
    clock.advance(minutes=1)
    member = Actor(user_id=None, role=Role.member, member_id=request.member_id)
    fresh = bookings.create_booking(
        db,
        member,
        machine_id=machine.id,
        start=monday + dt.timedelta(days=3),
        end=monday + dt.timedelta(days=3, hours=1),
        now=monday - dt.timedelta(days=30),
    )
    db.commit()

    r = _post(client, f"/manager/runs/{run_id}/publish", f"/manager/runs/{run_id}")

    assert r.status_code == 302
    run = db.get(ScheduleRun, run_id)
    db.refresh(run)
    assert run.status is RunStatus.stale
    assert db.query(Booking).filter_by(member_id=request.member_id).count() == 1  # only its own
    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    stale = page.split('id="run-stale"', 1)[1].split("</div>", 1)[0]
    assert str(fresh.id) in stale
    assert "Please choose another slot" not in page and "Silakan pilih slot lain" not in page
    assert f'action="/manager/runs/{run_id}/again"' in page
    assert f'action="/manager/runs/{run_id}/publish"' not in page

    r = _post(client, f"/manager/runs/{run_id}/again", f"/manager/runs/{run_id}")
    again_id = int(r.headers["Location"].rsplit("/", 1)[1])
    again = db.get(ScheduleRun, again_id)
    assert again.status is RunStatus.queued and again.horizon_end == run.horizon_end
