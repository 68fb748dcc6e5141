"""A member asks for production in the browser: the estimate first (machine hours, price,
whether the schedule as it stands meets the due date), then the request, where the plan
placed it or why not, its bookings under it, and a withdrawal that asks first."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestStatus,
    RunStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from tests.clock import FrozenClock
from tests.web.helpers import csrf, sign_in
from tests.web.member_clock import MONDAY, fix_clock


@pytest.fixture()
def clock(clock: FrozenClock) -> FrozenClock:
    """The tests' frozen clock, at Monday 15 February 2027 08:00 WIB."""
    return fix_clock(clock)


TUESDAY = MONDAY + dt.timedelta(days=1)
FRIDAY = MONDAY + dt.timedelta(days=4)


def _member_with_product(
    make_user,
    make_member,
    make_machine,
    make_house,
    make_product,  # type: ignore[no-untyped-def]
    routing=(("sewing", 30, 3),),
    capabilities=("sewing",),
):
    house = make_house()
    machine = make_machine(
        house=house, name="Mesin Jahit Juki", hourly_rate=60_000, capabilities=list(capabilities)
    )
    member = make_member(house_id=house.id)
    user = make_user(Role.member, member=member)
    product = make_product(member=member, name="Tas kulit", routing=list(routing))
    return user, machine, product


def _estimate(client, product, quantity, earliest, due):  # type: ignore[no-untyped-def]
    return client.get(
        "/production/new",
        query_string={
            "product_id": product.id,
            "quantity": quantity,
            "earliest_on": earliest.isoformat(),
            "due_on": due.isoformat(),
            "estimate": "1",
        },
    ).get_data(as_text=True)


def test_the_estimate_shows_machine_hours_price_and_that_the_due_date_can_be_met(
    client, clock, make_user, make_member, make_machine, make_house, make_product
):
    user, _machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    sign_in(client, user)
    page = _estimate(client, product, 100, TUESDAY, FRIDAY)
    # 30 minutes setup + 3 minutes x 100 = 330 minutes at Rp60.000 an hour.
    assert "5 jam 30 menit" in page
    assert "Rp330.000" in page
    assert "dapat dipenuhi" in page and "Sel 16 Feb 2027 13:30 WIB" in page
    assert "Kirim permintaan" in page


def test_the_estimate_says_when_the_due_date_cannot_be_met_and_how_late(
    client, clock, make_user, make_member, make_machine, make_house, make_product, make_capability
):
    make_capability(code="stitching", name="stitching", pausable=True)
    user, _machine, product = _member_with_product(
        make_user,
        make_member,
        make_machine,
        make_house,
        make_product,
        routing=(("stitching", 0, 3),),
        capabilities=("stitching",),
    )
    sign_in(client, user)
    # 3 000 minutes (50 hours) of one machine open 9 hours a day cannot end on Tuesday.
    page = _estimate(client, product, 1000, TUESDAY, TUESDAY)
    assert "50 jam" in page
    assert "terlambat" in page and "setelah tanggal selesai" in page
    assert "dapat dipenuhi" not in page


def test_the_estimate_of_a_product_no_machine_can_make_says_why(
    client, clock, make_user, make_member, make_machine, make_house, make_product
):
    user, _machine, product = _member_with_product(
        make_user,
        make_member,
        make_machine,
        make_house,
        make_product,
        routing=(("sewing", 30, 3), ("embroidery", 10, 1)),
    )
    sign_in(client, user)
    page = _estimate(client, product, 10, TUESDAY, FRIDAY)
    assert "tidak dapat direncanakan sekarang" in page
    assert "tidak ada mesin di rumah produksi ini yang dapat mengerjakan" in page


def test_a_member_sends_the_request_and_sees_it_waiting_for_the_next_plan(
    client, db, clock, make_user, make_member, make_machine, make_house, make_product
):
    user, _machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    sign_in(client, user)
    r = client.post(
        "/production",
        data={
            "product_id": product.id,
            "quantity": "100",
            "earliest_on": TUESDAY.isoformat(),
            "due_on": FRIDAY.isoformat(),
            "csrf_token": csrf(client, "/production/new"),
        },
    )
    assert r.status_code == 302
    made = db.query(ProductionRequest).filter_by(member_id=user.member_id).one()
    assert r.headers["Location"] == f"/production/{made.id}"
    # From the start of Tuesday to the end of Friday, in the house's time.
    assert made.earliest_start == clock.at(TUESDAY, "00:00")
    assert made.due == clock.at(FRIDAY + dt.timedelta(days=1), "00:00")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Tas kulit · 100" in page and "menunggu jadwal" in page
    assert "Menunggu rencana berikutnya" in page


def _published(db, request, machine, start, end):  # type: ignore[no-untyped-def]
    run = ScheduleRun(
        house_id=request.house_id,
        horizon_start=start,
        horizon_end=end,
        time_limit_seconds=2,
        status=RunStatus.published,
        attempts=1,
        purpose="plan",
    )
    db.add(run)
    db.flush()
    booking = Booking(
        machine_id=machine.id,
        member_id=request.member_id,
        start_at=start,
        end_at=end,
        status=BookingStatus.confirmed,
        source=BookingSource.solver,
        hourly_rate=machine.hourly_rate,
        price=330_000,
        note="",
    )
    db.add(booking)
    db.flush()
    db.add(
        ScheduleAssignment(
            run_id=run.id,
            operation_id=request.operations[0].id,
            machine_id=machine.id,
            start_at=start,
            end_at=end,
            booking_id=booking.id,
        )
    )
    request.status = RequestStatus.scheduled
    db.flush()
    return run


def test_the_request_page_shows_where_the_plan_placed_it_with_its_bookings_under_it(
    client,
    db,
    clock,
    make_user,
    make_member,
    make_machine,
    make_house,
    make_product,
    make_production_request,
):
    user, machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    made = make_production_request(
        product=product,
        quantity=100,
        earliest_start=clock.at(TUESDAY, "00:00"),
        due=clock.at(FRIDAY, "17:00"),
    )
    _published(db, made, machine, clock.at(TUESDAY, "08:00"), clock.at(TUESDAY, "13:30"))
    sign_in(client, user)
    page = client.get(f"/production/{made.id}").get_data(as_text=True)
    assert "terjadwal" in page
    placed = page.split("Pemesanannya", 1)[1]
    assert (
        "Mesin Jahit Juki" in placed and "Sel 16 Feb 2027 08:00 WIB" in placed and "13:30" in placed
    )
    assert 'data-label="Mesin"' in placed  # one card per booking at phone width


def test_the_request_page_says_why_the_latest_plan_left_it_out(
    client,
    db,
    clock,
    make_user,
    make_member,
    make_machine,
    make_house,
    make_product,
    make_production_request,
):
    user, _machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    made = make_production_request(
        product=product,
        quantity=100,
        earliest_start=clock.at(TUESDAY, "00:00"),
        due=clock.at(FRIDAY, "17:00"),
    )
    db.add(
        ScheduleRun(
            house_id=made.house_id,
            horizon_start=clock.now(),
            horizon_end=clock.now() + dt.timedelta(days=5),
            time_limit_seconds=2,
            status=RunStatus.succeeded,
            attempts=1,
            purpose="plan",
            kpis={"unscheduled": [{"job": f"request-{made.id}", "kind": "capacity"}]},
        )
    )
    db.flush()
    sign_in(client, user)
    page = client.get(f"/production/{made.id}").get_data(as_text=True)
    assert "Tidak masuk jadwal terakhir:" in page
    assert "Menunggu rencana berikutnya" not in page


def test_withdrawing_a_request_asks_first_and_takes_it_out_of_the_queue(
    client,
    db,
    clock,
    make_user,
    make_member,
    make_machine,
    make_house,
    make_product,
    make_production_request,
):
    user, _machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    made = make_production_request(
        product=product,
        quantity=100,
        earliest_start=clock.at(TUESDAY, "00:00"),
        due=clock.at(FRIDAY, "17:00"),
    )
    sign_in(client, user)
    page = client.get(f"/production/{made.id}").get_data(as_text=True)
    confirm = re.search(r'data-confirm="([^"]+)"', page).group(1)
    assert "100 × Tas kulit" in confirm
    r = client.post(
        f"/production/{made.id}/withdraw",
        data={"csrf_token": csrf(client, f"/production/{made.id}")},
    )
    assert r.status_code == 302
    db.refresh(made)
    assert made.status is RequestStatus.cancelled
    assert "Permintaan ditarik." in client.get(r.headers["Location"]).get_data(as_text=True)


def test_another_members_request_is_not_found(
    client,
    clock,
    make_user,
    make_member,
    make_machine,
    make_house,
    make_product,
    make_production_request,
):
    user, _machine, _product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    other = make_production_request(quantity=5)
    sign_in(client, user)
    assert client.get(f"/production/{other.id}").status_code == 404
    assert (
        "tidak"
        in _estimate(client, type("P", (), {"id": other.product_id})(), 5, TUESDAY, FRIDAY).lower()
    )


def test_the_estimate_api_gives_the_same_figures(
    client, clock, make_user, make_member, make_machine, make_house, make_product, token_for
):
    user, machine, product = _member_with_product(
        make_user, make_member, make_machine, make_house, make_product
    )
    r = client.post(
        "/api/v1/production-requests/estimate",
        headers=token_for(user),
        json={
            "product_id": product.id,
            "quantity": 100,
            "earliest_start": clock.at(TUESDAY, "00:00").isoformat(),
            "due": clock.at(FRIDAY, "17:00").isoformat(),
        },
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["minutes"] == 330 and body["price"] == 330_000 and body["meets_due"] is True
    assert body["steps"][0]["machine_id"] == machine.id
    assert body["finish"].startswith(f"{TUESDAY}T13:30")
    bad = client.post(
        "/api/v1/production-requests/estimate",
        headers=token_for(user),
        json={
            "product_id": product.id,
            "quantity": 0,
            "earliest_start": clock.at(TUESDAY, "00:00").isoformat(),
            "due": clock.at(FRIDAY, "17:00").isoformat(),
        },
    )
    assert bad.status_code == 422 and "quantity" in str(bad.get_json())
