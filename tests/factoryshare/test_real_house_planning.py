"""Planning a real house (issue 17, the service side): steps of a pausable capability pause
overnight, every plan is on the house's slot grid, the cheaper of two free machines is taken and
the run says what the plan costs, a re-plan keeps the frozen near future, and a large order is
planned in lots."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import solver
from factoryshare import worker
from factoryshare.access import Actor
from factoryshare.models import Member, Role, Sector
from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
from factoryshare.models.scheduling import ProductionRequest, RequestStatus, RunStatus, ScheduleRun
from factoryshare.services import production_requests, scheduling, solving
from tests.clock import START
from tests.solving import WORK_PER_SECOND

JAKARTA = ZoneInfo("Asia/Jakarta")
# Monday 4 January 2027, 08:00 WIB (houses open 08:00-17:00 on weekdays).
MONDAY = dt.datetime(2027, 1, 4, 8, 0, tzinfo=JAKARTA)
# Publishing happens at the tests' frozen now, a month before that week.
NOW = START.astimezone(dt.UTC)


def _manager(house):
    return Actor(user_id=None, role=Role.manager, house_ids=frozenset({house.id}))


def _member(db, house):
    from tests.conftest import _n, _nib, _nik

    n = _n()
    member = Member(
        house_id=house.id,
        business_name=f"UD Rumah {n}",
        nib=_nib(n),
        owner_name="Euis",
        owner_nik=_nik(n),
        sector=Sector.fashion,
        phone="+6281234567890",
        email=f"rumah{n}@example.id",
    )
    db.add(member)
    db.flush()
    return member


def _request(db, house, product, quantity, *, days=5, **extra):
    return production_requests.create_request(
        db,
        _manager(house),
        {
            "product_id": product.id,
            "quantity": quantity,
            "earliest_start": MONDAY,
            "due": MONDAY + dt.timedelta(days=days),
            **extra,
        },
    )


def _solve(db, session_factory, house, *, start=MONDAY, days=7, limit=3):
    run = scheduling.queue_run(
        db,
        _manager(house),
        house.id,
        {
            "horizon_start": start,
            "horizon_end": start + dt.timedelta(days=days),
            "time_limit_seconds": limit,
        },
    )
    db.commit()
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run.id
    )
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    assert (
        solver.check(solver.problem_from_dict(run.problem), solver.solution_from_dict(run.solution))
        == []
    )
    return run


def _on_grid(moment, house):
    local = moment.astimezone(ZoneInfo(house.timezone))
    return (local.hour * 60 + local.minute) % house.slot_minutes == 0 and local.second == 0


def test_a_step_of_a_pausable_capability_pauses_overnight_and_one_of_another_is_kept_in_one_day(
    db,
    session_factory,
    client,
    make_user,
    token_for,
    make_house,
    make_machine,
    make_capability,
    make_product,
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    make_machine(house=house, capabilities=["vacuum_frying"])
    sewing = make_capability(code="sewing", name="Menjahit")
    headers = token_for(make_user(Role.admin))
    db.commit()
    # An admin says sewing may pause, through the capabilities API.
    response = client.patch(
        f"/api/v1/capabilities/{sewing.id}", json={"pausable": True}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["pausable"] is True
    db.refresh(sewing)
    member = _member(db, house)
    jackets = _request(db, house, make_product(member=member, routing=[("sewing", 15, 30)]), 20)
    chips = _request(
        db, house, make_product(member=member, routing=[("vacuum_frying", 15, 30)]), 20
    )

    run = _solve(db, session_factory, house)

    pausable = {
        op["id"]: op.get("pausable", False)
        for job in run.problem["jobs"]
        for op in job["operations"]
    }
    assert pausable[solving.operation_key(jackets.operations[0].id)] is True
    assert pausable[solving.operation_key(chips.operations[0].id)] is False
    placed: dict[int, list] = {}
    for a in run.assignments:
        placed.setdefault(a.operation.request_id, []).append(a)
    # 615 minutes of sewing on a house open 540 minutes a day: it goes on the next day, one
    # piece each day, 615 open minutes in all on one machine.
    pieces = sorted(placed[jackets.id], key=lambda a: a.start_at)
    assert [a.piece for a in pieces] == [1, 2]
    assert len({a.start_at.astimezone(JAKARTA).date() for a in pieces}) == 2
    assert len({a.machine_id for a in pieces}) == 1
    assert sum((a.end_at - a.start_at for a in pieces), dt.timedelta()) == dt.timedelta(minutes=615)
    # 615 minutes of frying cannot stop overnight: it is left out, with the reason.
    assert chips.id not in placed
    assert [u["kind"] for u in run.kpis["unscheduled"]] == ["no_window"]
    # Published, each piece is a booking inside the opening hours, as a member's would be.
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    for a in pieces:
        booking = db.get(Booking, a.booking_id)
        local = booking.start_at.astimezone(JAKARTA), booking.end_at.astimezone(JAKARTA)
        assert local[0].date() == local[1].date() and dt.time(8) <= local[0].time() < local[
            1
        ].time() <= dt.time(17)


def test_every_step_of_a_plan_starts_on_the_houses_slot_grid_and_its_bookings_sit_on_it(
    db, session_factory, make_house, make_machine, make_product
):
    house = make_house(slot_minutes=30)
    make_machine(house=house, capabilities=["cutting"])
    make_machine(house=house, capabilities=["stitching"])
    member = _member(db, house)
    # 7 + 4 x 12 = 55 minutes, then 10 + 4 x 9 = 46: steps that end off the grid.
    requests = [
        _request(
            db,
            house,
            make_product(member=member, routing=[("cutting", 7, 12), ("stitching", 10, 9)]),
            4,
        )
        for _ in range(3)
    ]
    # A horizon asked for at 08:10 starts on the grid at 08:30.
    run = _solve(db, session_factory, house, start=MONDAY + dt.timedelta(minutes=10))

    assert run.problem["grid"] == 30
    assert run.horizon_start == (MONDAY + dt.timedelta(minutes=30)).astimezone(dt.UTC)
    assert len(run.assignments) == 6
    assert all(_on_grid(a.start_at, house) for a in run.assignments)
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    for request in requests:
        db.refresh(request)
        assert request.status is RequestStatus.scheduled
    for a in run.assignments:
        booking = db.get(Booking, a.booking_id)
        assert _on_grid(booking.start_at, house) and _on_grid(booking.end_at, house)


def test_of_two_free_machines_the_plan_takes_the_cheaper_and_the_run_reports_the_machine_cost(
    db, session_factory, make_house, make_machine, make_product
):
    house = make_house()
    dear = make_machine(house=house, capabilities=["leather_cutting"], hourly_rate=75_000)
    cheap = make_machine(house=house, capabilities=["leather_cutting"], hourly_rate=60_000)
    request = _request(
        db, house, make_product(member=_member(db, house), routing=[("leather_cutting", 20, 2)]), 20
    )

    run = _solve(db, session_factory, house)

    rates = {m["id"]: m.get("cost_per_hour") for m in run.problem["machines"]}
    assert rates == {f"machine-{dear.id}": 75_000, f"machine-{cheap.id}": 60_000}
    assert run.problem["objective"]["cost"] >= 1
    [a] = run.assignments
    assert a.operation.request_id == request.id and a.machine_id == cheap.id
    # 60 minutes at Rp60.000 an hour.
    assert run.kpis["cost"] == 60_000


def test_lateness_still_outweighs_the_cost_of_a_dearer_machine(
    db, session_factory, make_house, make_machine, make_product
):
    house = make_house()
    dear = make_machine(house=house, capabilities=["leather_cutting"], hourly_rate=150_000)
    make_machine(house=house, capabilities=["leather_cutting"], hourly_rate=60_000)
    member = _member(db, house)
    # Two 4-hour jobs due by noon: on one machine one of them would be hours late.
    for _ in range(2):
        production_requests.create_request(
            db,
            _manager(house),
            {
                "product_id": make_product(member=member, routing=[("leather_cutting", 0, 24)]).id,
                "quantity": 10,
                "earliest_start": MONDAY,
                "due": MONDAY + dt.timedelta(hours=4),
            },
        )

    run = _solve(db, session_factory, house)

    assert run.problem["objective"]["cost"] >= 1  # the cost counts, and still
    assert run.kpis["on_time_share"] == 1.0
    assert dear.id in {a.machine_id for a in run.assignments}


def test_a_replan_keeps_published_work_inside_the_houses_frozen_window_on_its_machine_and_time(
    db, make_house, make_machine, make_product
):
    house = make_house(frozen_hours=48)
    first, second = (make_machine(house=house, capabilities=["sewing"]) for _ in range(2))
    member = _member(db, house)
    request = _request(
        db,
        house,
        make_product(member=member, routing=[("sewing", 60, 0), ("sewing", 60, 0)]),
        1,
        days=10,
    )
    # Published: step 1 on Monday 10:00 (inside 48 hours of now), step 2 on Thursday 10:00.
    now = MONDAY.replace(hour=9)
    slots = {
        1: (first, MONDAY.replace(hour=10)),
        2: (second, MONDAY.replace(hour=10) + dt.timedelta(days=3)),
    }
    published = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY,
        horizon_end=MONDAY + dt.timedelta(days=7),
        time_limit_seconds=1,
        status=RunStatus.published,
        attempts=0,
        purpose="plan",
        problem={"jobs": []},
    )
    db.add(published)
    db.flush()
    from factoryshare.models.scheduling import ScheduleAssignment

    for op in request.operations:
        machine, start = slots[op.position]
        booking = Booking(
            machine_id=machine.id,
            member_id=member.id,
            product_id=request.product_id,
            start_at=start,
            end_at=start + dt.timedelta(hours=1),
            status=BookingStatus.confirmed,
            source=BookingSource.solver,
            hourly_rate=machine.hourly_rate,
            price=50_000,
            created_at=NOW,
            updated_at=NOW,
        )
        db.add(booking)
        db.flush()
        db.add(
            ScheduleAssignment(
                run_id=published.id,
                operation_id=op.id,
                machine_id=machine.id,
                start_at=booking.start_at,
                end_at=booking.end_at,
                booking_id=booking.id,
            )
        )
    request.status = RequestStatus.scheduled
    db.flush()
    replan = ScheduleRun(
        house_id=house.id,
        horizon_start=now,
        horizon_end=now + dt.timedelta(days=7),
        time_limit_seconds=2,
        status=RunStatus.running,
        attempts=1,
        purpose="replan",
        policies={"requests": [request.id]},
    )
    db.add(replan)
    db.flush()

    problem = solver.problem_from_dict(solving.build_problem(db, replan, now=now))

    ops = {o.id: o for j in problem.jobs for o in j.operations}
    step1, step2 = (solving.operation_key(op.id) for op in request.operations)
    assert ops[step1].frozen == solver.Frozen(f"machine-{first.id}", 60)
    assert ops[step2].frozen is None  # Thursday is outside the 48 hours
    solution = solver.solve(problem, solver.SolveOptions(time_limit=2), solving.policies_of(replan))
    placed = {a.operation: a for a in solution.assignments}
    assert (placed[step1].machine, placed[step1].start) == (f"machine-{first.id}", 60)


def test_a_manager_sets_the_houses_frozen_window_from_0_to_336_hours(
    client, db, make_user, token_for
):
    manager = make_user(Role.manager)
    house_id = manager.houses[0].id
    headers = token_for(manager)
    db.commit()
    assert (
        client.get(f"/api/v1/houses/{house_id}", headers=headers).get_json()["frozen_hours"] == 24
    )
    response = client.patch(
        f"/api/v1/houses/{house_id}", json={"frozen_hours": 72}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["frozen_hours"] == 72
    response = client.patch(
        f"/api/v1/houses/{house_id}", json={"frozen_hours": 337}, headers=headers
    )
    assert response.status_code == 422
    assert "frozen_hours" in response.get_json()["errors"]


def test_a_request_of_500_wallets_is_planned_in_lots_on_several_machines_and_published_lot_by_lot(
    db, session_factory, make_house, make_machine, make_product
):
    house = make_house()
    presses = [make_machine(house=house, capabilities=["edge_press"]) for _ in range(3)]
    product = make_product(member=_member(db, house), routing=[("edge_press", 10, 2)])
    # 500 wallets x 2 minutes: 1 010 minutes, longer than a day; a press takes 100 at a time.
    product.routing[0].max_lot = 100
    db.flush()
    request = _request(db, house, product, 500, days=10)
    assert request.lot_size == 100 and solving.lot_quantities(request) == [100] * 5

    run = _solve(db, session_factory, house, days=10)

    jobs = [j["id"] for j in run.problem["jobs"]]
    assert jobs == [solving.job_id(request.id, n) for n in range(1, 6)]
    assert all(solving.request_of_job(j) == (request.id, n) for n, j in enumerate(jobs, start=1))
    assert sorted(a.lot for a in run.assignments) == [1, 2, 3, 4, 5]
    assert {a.end_at - a.start_at for a in run.assignments} == {dt.timedelta(minutes=210)}
    assert len({a.machine_id for a in run.assignments}) > 1  # lots run side by side
    assert run.kpis["unscheduled"] == []
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    db.refresh(request)
    assert request.status is RequestStatus.scheduled
    bookings = [db.get(Booking, a.booking_id) for a in run.assignments]
    assert len({b.id for b in bookings}) == 5
    assert {b.machine_id for b in bookings} <= {m.id for m in presses}


def test_a_member_may_ask_for_smaller_lots_than_the_product_needs(
    client, db, make_user, token_for, make_product
):
    user = make_user(Role.member)
    product = make_product(member_id=user.member_id, routing=[("sewing", 15, 6)])
    headers = token_for(user)
    db.commit()
    response = client.post(
        "/api/v1/production-requests",
        json={
            "product_id": product.id,
            "quantity": 250,
            "lot_size": 100,
            "earliest_start": MONDAY.isoformat(),
            "due": (MONDAY + dt.timedelta(days=10)).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["lot_size"] == 100
    assert response.get_json()["lots"] == [84, 83, 83]


def test_the_demo_plan_sews_615_minutes_over_two_days_and_500_wallets_in_lots_all_on_the_grid(
    db, session_factory
):
    from fixtures.demo import load_demo

    load_demo(db)
    db.commit()
    house = db.scalar(select(ProductionRequest).where(ProductionRequest.quantity == 500)).house
    requests = list(
        db.scalars(
            select(ProductionRequest).where(
                ProductionRequest.house_id == house.id,
                ProductionRequest.status == RequestStatus.open,
            )
        )
    )
    start = min(r.earliest_start for r in requests)
    run = _solve(db, session_factory, house, start=start, days=14, limit=5)

    by_request: dict[int, list] = {}
    for a in run.assignments:
        by_request.setdefault(a.operation.request_id, []).append(a)
    vest = next(r for r in requests if r.quantity == 20)
    wallets = next(r for r in requests if r.quantity == 500)
    long_step = [a for a in by_request[vest.id] if a.operation.minutes == 615]
    zone = ZoneInfo(house.timezone)
    assert len({a.start_at.astimezone(zone).date() for a in long_step}) == 2
    assert sum((a.end_at - a.start_at for a in long_step), dt.timedelta()) == dt.timedelta(
        minutes=615
    )
    assert len({a.lot for a in by_request[wallets.id]}) == 5
    assert all(_on_grid(a.start_at, house) for a in run.assignments)
    # Published, every booking sits on the house's grid.
    scheduling.publish_run(db, _manager(house), run.id, now=start - dt.timedelta(days=1))
    db.commit()
    for a in run.assignments:
        booking = db.get(Booking, a.booking_id)
        assert _on_grid(booking.start_at, house) and _on_grid(booking.end_at, house)


@pytest.mark.parametrize("lot_size", [0, 1_000_001])
def test_a_lot_size_out_of_range_is_refused_naming_it(db, make_house, make_product, lot_size):
    from factoryshare.errors import ValidationFailed

    house = make_house()
    product = make_product(member=_member(db, house))
    with pytest.raises(ValidationFailed) as err:
        _request(db, house, product, 10, lot_size=lot_size)
    assert "lot_size" in err.value.errors


def test_a_product_step_takes_at_most_its_max_lot_and_a_larger_request_is_planned_in_lots(
    client, db, make_user, token_for, make_capability
):
    user = make_user(Role.member)
    make_capability(code="edge_press", name="Press tepi")
    headers = token_for(user)
    db.commit()
    response = client.post(
        "/api/v1/products",
        json={
            "name": "Dompet lipat",
            "sector": "craft",
            "routing": [
                {
                    "capability": "edge_press",
                    "setup_minutes": 10,
                    "minutes_per_unit": 2,
                    "max_lot": 120,
                }
            ],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["routing"][0]["max_lot"] == 120
    response = client.post(
        "/api/v1/production-requests",
        json={
            "product_id": response.get_json()["id"],
            "quantity": 500,
            "earliest_start": MONDAY.isoformat(),
            "due": (MONDAY + dt.timedelta(days=10)).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["lot_size"], response.get_json()["lots"]) == (
        120,
        [100, 100, 100, 100, 100],
    )


def test_a_request_in_lots_is_placed_only_when_every_lot_is(
    db, session_factory, make_house, make_machine, make_product
):
    house = make_house()
    make_machine(house=house, capabilities=["edge_press"])
    product = make_product(member=_member(db, house), routing=[("edge_press", 10, 2)])
    product.routing[0].max_lot = 100
    db.flush()
    # Three lots of 210 minutes; one day of 540 open minutes holds two.
    request = _request(db, house, product, 300, days=10)

    run = _solve(db, session_factory, house, days=1)

    assert run.assignments == []
    assert sorted(u["job"] for u in run.kpis["unscheduled"]) == [
        solving.job_id(request.id, n) for n in (1, 2, 3)
    ]
    assert set(solving.why_not_placed(db, [request])) == {request.id}
