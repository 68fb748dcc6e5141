"""The run page built for the decision: one row per request (placed: member, product, due,
planned finish, lateness in hours and minutes, machine cost; left out: why, with the fix), the
on-time share over every request, a warning with a re-run button when the published schedule
changed since the solve, and the publish button after the evidence, whose confirmation says
what publishing does (counts from run_review.publish_effects)."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from factoryshare.models import Role
from tests.solving import WORK_PER_SECOND
from tests.web.helpers import csrf, sign_in

WIB = ZoneInfo("Asia/Jakarta")
# The request factory's default window starts Monday 4 January 2027, 08:00 WIB.
MONDAY_8 = dt.datetime(2027, 1, 4, 8, 0, tzinfo=WIB)


def _post(client, url: str, form_page: str, **data):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf(client, form_page)})


def _solved_run(client, db, session_factory, house) -> int:  # type: ignore[no-untyped-def]
    from factoryshare import worker
    from factoryshare.models.scheduling import RunStatus, ScheduleRun

    r = _post(
        client,
        "/manager/runs",
        "/manager/runs",
        house=house.id,
        start_day="2027-01-04",
        horizon_days="5",
        time_limit_seconds="2",
    )
    run_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run_id
    )
    run = db.get(ScheduleRun, run_id)
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    return run_id


def _three_requests(
    make_user,
    make_machine,
    make_member,
    make_product,  # type: ignore[no-untyped-def]
    make_production_request,
):
    """One embroidery machine; a shirt on time, a bag that cannot be on time and a songket that
    no machine of the house can weave."""
    manager = make_user(Role.manager)
    house = manager.houses[0]
    make_machine(
        house=house, name="Mesin Bordir Tajima", capabilities=["embroidery"], hourly_rate=60_000
    )
    shirt_maker = make_member(house_id=house.id, business_name="Konveksi Mekar Sari")
    shirt = make_production_request(
        quantity=9,
        product=make_product(
            member=shirt_maker, name="Kemeja Batik", routing=[("embroidery", 15, 5)]
        ),
    )
    # 15 + 30 x 5 = 165 minutes from 08:00, due 08:30: at least 2 h 15 min late.
    bag = make_production_request(
        quantity=30,
        due=(MONDAY_8 + dt.timedelta(minutes=30)),
        product=make_product(
            member=shirt_maker, name="Tas Bordir", routing=[("embroidery", 15, 5)]
        ),
    )
    weaver = make_member(house_id=house.id, business_name="Tenun Songket Siak")
    songket = make_production_request(
        quantity=2,
        product=make_product(member=weaver, name="Kain Songket", routing=[("weaving", 30, 60)]),
    )
    return manager, house, shirt, bag, songket


def _row(page: str, request_id: int) -> str:
    return page.split(f'id="run-request-{request_id}"', 1)[1].split("</tr>", 1)[0]


def test_the_run_page_shows_each_request_with_its_figures_or_why_it_was_left_out_and_the_fix(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    manager, house, shirt, bag, songket = _three_requests(
        make_user, make_machine, make_member, make_product, make_production_request
    )
    sign_in(client, manager)
    run_id = _solved_run(client, db, session_factory, house)

    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    table = page.split('id="run-requests"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr id=") == 3
    row = _row(page, shirt.id)
    assert "Konveksi Mekar Sari" in row and "Kemeja Batik · 9" in row
    assert "Jum 8 Jan 2027" not in row and "Sen 4 Jan 2027" in row  # planned on Monday
    assert "tepat waktu" in row and re.search(r"Rp\d", row)
    bag_row = _row(page, bag.id)
    # 165 working minutes at Rp60.000 an hour.
    assert "terlambat 2 jam 15 menit" in bag_row and "Rp165.000" in bag_row
    left_out = _row(page, songket.id)
    assert "Tenun Songket Siak" in left_out and "Tidak dijadwalkan:" in left_out
    assert "tidak ada mesin di rumah produksi ini yang dapat mengerjakan salah satu" in left_out
    assert "weaving" in left_out  # the fix names the capability a machine must have
    # On time over ALL requests: one of three (the songket left out counts as not on time).
    assert re.search(r'id="on-time-share">1 / 3 \(33,3\s?%\)', page)


def test_the_publish_button_comes_after_the_evidence_and_its_confirmation_says_what_it_does(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    from factoryshare.models.bookings import Booking

    manager, house, shirt, _bag, _songket = _three_requests(
        make_user, make_machine, make_member, make_product, make_production_request
    )
    sign_in(client, manager)
    run_id = _solved_run(client, db, session_factory, house)

    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    publish = page.index(f'action="/manager/runs/{run_id}/publish"')
    assert page.index('id="run-requests"') < publish and page.index('id="run-changes"') < publish
    form = page[publish:].split("</form>", 1)[0]
    confirm = html.unescape(re.search(r'data-confirm="([^"]+)"', form).group(1))
    # Two requests placed (one booking each), nothing moved or cancelled; both members hear
    # of it: the placed requests' member and the member whose songket was left out.
    assert confirm == (
        f"Terbitkan penjadwalan {run_id}? Ini membuat 2, memindahkan 0, dan "
        "membatalkan 0 pemesanan, serta memberi tahu 2 anggota."
    )
    assert (
        "membuat 2, memindahkan 0, dan membatalkan 0 pemesanan"
        in page.split('id="publish-effects"', 1)[1]
    )
    discard = page.split(f'action="/manager/runs/{run_id}/discard"', 1)[1].split(">", 1)[0]
    assert "data-confirm=" in discard and "Tidak ada yang dipesan" in html.unescape(discard)

    _post(client, f"/manager/runs/{run_id}/publish", f"/manager/runs/{run_id}")
    assert db.query(Booking).filter_by(member_id=shirt.member_id).count() == 2


def test_a_run_the_schedule_changed_under_warns_before_publishing_and_offers_a_re_run(
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
    from factoryshare.access import Actor
    from factoryshare.models.scheduling import RunStatus, ScheduleRun
    from factoryshare.services import bookings

    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house, name="Mesin Bordir Tajima", capabilities=["embroidery"])
    member = make_member(house_id=house.id, business_name="Konveksi Mekar Sari")
    make_production_request(
        quantity=9,
        product=make_product(member=member, name="Kemeja Batik", routing=[("embroidery", 15, 5)]),
    )
    sign_in(client, manager)
    run_id = _solved_run(client, db, session_factory, house)
    # A minute after the solve a member books the machine on Thursday.
    clock.advance(minutes=1)
    fresh = bookings.create_booking(
        db,
        Actor(user_id=None, role=Role.member, member_id=member.id),
        machine_id=machine.id,
        start=MONDAY_8 + dt.timedelta(days=3),
        end=MONDAY_8 + dt.timedelta(days=3, hours=1),
        now=MONDAY_8 - dt.timedelta(days=30),
    )
    db.commit()

    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    warning = page.split('id="run-stale"', 1)[1].split("</div>", 1)[0]
    assert f"pemesanan {fresh.id} (dibuat)" in warning
    assert f'action="/manager/runs/{run_id}/again"' in warning
    assert f'action="/manager/runs/{run_id}/publish"' not in page
    # Looking changed nothing: the run is still ready to review until a publish is tried.
    assert db.get(ScheduleRun, run_id).status is RunStatus.succeeded


def test_a_run_started_for_today_never_begins_in_the_past(client, db, make_user):
    from factoryshare.db import utcnow
    from factoryshare.models.scheduling import ScheduleRun
    from factoryshare.services import calendar

    manager = make_user(Role.manager)
    house = manager.houses[0]
    sign_in(client, manager)
    today = utcnow().astimezone(calendar.house_zone(house)).date()
    before = utcnow()
    r = _post(
        client,
        "/manager/runs",
        "/manager/runs",
        house=house.id,
        start_day=today.isoformat(),
        horizon_days="2",
        time_limit_seconds="2",
    )
    run = db.get(ScheduleRun, int(r.headers["Location"].rsplit("/", 1)[1]))
    assert run.horizon_start > before
    assert run.horizon_start.minute == 0 and run.horizon_start - before <= dt.timedelta(hours=1)


def test_the_plan_horizon_starts_at_the_chosen_local_midnight_or_the_next_whole_hour():
    from types import SimpleNamespace

    from factoryshare.services import run_review

    house = SimpleNamespace(timezone="Asia/Jakarta")
    now = dt.datetime(2027, 1, 4, 3, 20, tzinfo=dt.UTC)  # 10:20 WIB
    start, end = run_review.plan_horizon(house, dt.date(2027, 1, 4), 2, now)
    assert start == dt.datetime(2027, 1, 4, 4, 0, tzinfo=dt.UTC)  # 11:00 WIB, not 00:00
    assert end == dt.datetime(2027, 1, 5, 17, 0, tzinfo=dt.UTC)  # 6 January, 00:00 WIB
    start, _end = run_review.plan_horizon(house, dt.date(2027, 1, 5), 1, now)
    assert start == dt.datetime(2027, 1, 4, 17, 0, tzinfo=dt.UTC)  # 5 January, 00:00 WIB


def test_the_run_review_reads_in_english_on_the_english_pages(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
):
    manager, house, _shirt, bag, songket = _three_requests(
        make_user, make_machine, make_member, make_product, make_production_request
    )
    sign_in(client, manager)
    run_id = _solved_run(client, db, session_factory, house)
    client.post(
        "/language",
        data={
            "lang": "en",
            "next": f"/manager/runs/{run_id}",
            "csrf_token": csrf(client, f"/manager/runs/{run_id}"),
        },
    )
    page = client.get(f"/manager/runs/{run_id}").get_data(as_text=True)
    assert "late by 2 h 15 min" in _row(page, bag.id)
    assert "Not placed:" in _row(page, songket.id)
    assert "no machine of the house can do one of its steps." in _row(page, songket.id)
    assert re.search(r'id="on-time-share">1 / 3 \(33\.3\s?%\)', page)
    confirm = html.unescape(
        re.search(rf'action="/manager/runs/{run_id}/publish"\s+data-confirm="([^"]+)"', page).group(
            1
        )
    )
    assert confirm == (
        f"Publish run {run_id}? It creates 2, moves 0 and cancels 0 bookings, and tells 2 members."
    )
