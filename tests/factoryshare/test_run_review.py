"""A run reviewed request by request: planned times, lateness, machine cost, why one was left
out and what would place it; the on-time share over all requests; utilisation of a week."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from factoryshare import worker
from factoryshare.access import Actor
from factoryshare.errors import Forbidden, NotFound, ValidationFailed
from factoryshare.models import HouseClosure, Role
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services import run_review
from tests.factories.bookings import at
from tests.solving import WORK_PER_SECOND

JAKARTA = ZoneInfo("Asia/Jakarta")
# Monday 4 January 2027, 08:00 WIB; the test house opens 08:00-17:00 on weekdays.
MONDAY = dt.datetime(2027, 1, 4, 8, 0, tzinfo=JAKARTA)


def _member_of(house, db):  # type: ignore[no-untyped-def]
    from tests.factoryshare.test_solving import _member_of as member_of

    return member_of(house, db)


def solved_run(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,  # type: ignore[no-untyped-def]
    make_production_request,
):
    """One sewing machine at Rp60.000/h and one fryer. `late`: two hours of sewing due at
    09:00 on the first morning; `on_time`: one hour due on Friday; `no_machine`: embroidery,
    which no machine does; `too_long`: ten hours of frying in one go, the fryer opens nine."""
    house = make_house()
    make_machine(house=house, capabilities=["sewing"], hourly_rate=60_000, name="Juki")
    make_machine(house=house, capabilities=["vacuum_frying"], hourly_rate=40_000)
    member = _member_of(house, db)
    late = make_production_request(
        quantity=12,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(hours=1),
        product=make_product(member=member, routing=[("sewing", 0, 10)]),
    )
    on_time = make_production_request(
        quantity=6,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(days=4),
        product=make_product(member=member, routing=[("sewing", 0, 10)]),
    )
    no_machine = make_production_request(
        earliest_start=MONDAY, product=make_product(member=member, routing=[("embroidery", 10, 2)])
    )
    too_long = make_production_request(
        quantity=10,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("vacuum_frying", 0, 60)]),
    )
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY.astimezone(dt.UTC),
        horizon_end=(MONDAY + dt.timedelta(days=5)).astimezone(dt.UTC),
        time_limit_seconds=2,
        status=RunStatus.queued,
        attempts=0,
    )
    db.add(run)
    db.commit()
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run.id
    )
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    return (
        house,
        member,
        run,
        {"late": late, "on_time": on_time, "no_machine": no_machine, "too_long": too_long},
    )


@pytest.fixture()
def solved(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,  # type: ignore[no-untyped-def]
    make_production_request,
):
    return solved_run(
        db, session_factory, make_house, make_machine, make_product, make_production_request
    )


def test_a_run_review_gives_each_request_its_planned_times_lateness_and_machine_cost(db, solved):
    _house, member, run, requests = solved
    admin = Actor(user_id=None, role=Role.admin)
    review = run_review.review_run(db, admin, run.id)
    rows = {r["request_id"]: r for r in review["requests"]}
    assert set(rows) == {r.id for r in requests.values()}

    late = rows[requests["late"].id]
    assert late["member"] == {"id": member.id, "business_name": member.business_name}
    assert late["quantity"] == 12 and late["placed"] is True
    assert late["start"] == MONDAY and late["finish"] == MONDAY + dt.timedelta(hours=2)
    assert late["due"].utcoffset() == dt.timedelta(hours=7)
    assert late["lateness_minutes"] == 60 and late["on_time"] is False
    assert late["machine_cost"] == 120_000  # 120 minutes at Rp60.000 per hour
    assert late["why_not"] is None

    on_time = rows[requests["on_time"].id]
    assert (
        on_time["placed"] is True
        and on_time["lateness_minutes"] == 0
        and on_time["on_time"] is True
    )
    assert on_time["machine_cost"] == 60_000
    assert review["machine_cost"] == 180_000


def test_a_request_left_out_says_why_and_only_what_follows_from_the_reason(db, solved):
    _house, _member, run, requests = solved
    rows = {
        r["request_id"]: r
        for r in run_review.review_run(db, Actor(user_id=None, role=Role.admin), run.id)["requests"]
    }
    no_machine = rows[requests["no_machine"].id]
    assert no_machine["placed"] is False and no_machine["start"] is None
    assert no_machine["lateness_minutes"] is None and no_machine["machine_cost"] == 0
    why = no_machine["why_not"]
    assert why["kind"] == "no_machine"
    assert why["words"].translate("id").startswith("tidak ada mesin di rumah produksi ini")
    assert [(s["kind"], s["capabilities"]) for s in why["suggestions"]] == [
        ("another_machine", ["embroidery"])
    ]

    too_long = rows[requests["too_long"].id]["why_not"]
    assert too_long["kind"] == "no_window"
    # Nine hours open in one go, an hour a unit: lots of nine fit; no later due date is offered.
    assert [s["kind"] for s in too_long["suggestions"]] == ["split", "another_machine"]
    assert too_long["suggestions"][0]["max_lot"] == 9
    assert too_long["suggestions"][0]["words"].translate("id") == (
        "Pecah menjadi lot berisi paling banyak 9, agar setiap tahap muat dalam satu waktu buka mesinnya."
    )


def test_the_on_time_share_counts_requests_left_out_as_not_on_time(db, solved):
    _house, _member, run, _requests = solved
    # One of four requests is on time: the late one and the two left out are not.
    assert run.kpis["on_time_share"] == 0.25
    assert (
        run_review.review_run(db, Actor(user_id=None, role=Role.admin), run.id)["on_time_share"]
        == 0.25
    )


def test_machine_cost_rounds_each_assignment_half_to_even():
    assert run_review.rupiah_for(1, 30) == 0  # Rp0,5
    assert run_review.rupiah_for(3, 30) == 2  # Rp1,5
    assert run_review.rupiah_for(1, 90) == 2  # Rp1,5
    assert run_review.rupiah_for(7, 10) == 1  # Rp1,17


def _week_with_closure_and_downtime(
    db,
    make_house,
    make_machine,
    make_booking,  # type: ignore[no-untyped-def]
    make_downtime,
):
    """The week of Monday 11 January 2027 (no public holiday): 49 open hours a machine; the
    house is closed on Wednesday and the machine down on Thursday 09:00-11:00."""
    house = make_house()
    machine = make_machine(house=house, name="Juki")
    idle = make_machine(house=house, name="Brother")
    db.add(
        HouseClosure(
            house_id=house.id,
            start_on=dt.date(2027, 1, 13),
            end_on=dt.date(2027, 1, 13),
            reason="Rapat",
        )
    )
    make_downtime(
        machine=machine,
        start_at=at(dt.date(2027, 1, 14), "09:00"),
        end_at=at(dt.date(2027, 1, 14), "11:00"),
    )
    make_booking(
        machine=machine,
        start_at=at(dt.date(2027, 1, 12), "08:00"),
        end_at=at(dt.date(2027, 1, 12), "10:00"),
    )
    # Half of it lies in the downtime and counts neither as open nor as booked.
    make_booking(
        machine=machine,
        start_at=at(dt.date(2027, 1, 14), "10:00"),
        end_at=at(dt.date(2027, 1, 14), "12:00"),
    )
    db.flush()
    return house, machine, idle


def test_utilisation_of_a_week_leaves_out_a_closure_and_a_downtime(
    db, make_house, make_machine, make_booking, make_downtime, make_user
):
    house, machine, idle = _week_with_closure_and_downtime(
        db, make_house, make_machine, make_booking, make_downtime
    )
    manager = Actor.of(make_user(Role.manager, houses=[house]))
    week = run_review.week_utilisation(db, manager, house.id, "2027-W02")
    rows = {r["machine_id"]: r for r in week["machines"]}
    # 49 h less Wednesday (9 h) less the downtime (2 h) = 38 h; 2 h + 1 h booked.
    assert rows[machine.id]["open_minutes"] == 38 * 60
    assert rows[machine.id]["booked_minutes"] == 180
    assert rows[machine.id]["share"] == round(180 / (38 * 60), 4)
    assert rows[idle.id]["open_minutes"] == 40 * 60 and rows[idle.id]["booked_minutes"] == 0
    assert week["start"] == dt.datetime(2027, 1, 11, tzinfo=JAKARTA)


def test_a_member_may_not_read_utilisation_and_a_manager_of_another_house_finds_none(
    db, make_house, make_user
):
    house = make_house()
    with pytest.raises(Forbidden):
        run_review.week_utilisation(db, Actor.of(make_user(Role.member)), house.id, "2027-W02")
    with pytest.raises(NotFound):
        run_review.week_utilisation(db, Actor.of(make_user(Role.manager)), house.id, "2027-W02")
    with pytest.raises(ValidationFailed) as exc:
        run_review.week_utilisation(
            db, Actor.of(make_user(Role.manager, houses=[house])), house.id, "2027-02"
        )
    assert "week" in exc.value.errors


def test_a_run_still_being_solved_lists_no_request_as_left_out(db, solved):
    # The worker has built the problem but the plan is not there yet: nothing reads as
    # "not scheduled" while the run is running.
    _house, _member, run, _requests = solved
    run.status, run.solution = RunStatus.running, None
    db.flush()

    assert run_review.review_requests(db, run) == []
