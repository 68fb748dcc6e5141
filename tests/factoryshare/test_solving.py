"""A queued schedule run, executed by the worker, proposes a valid schedule of the house."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import solver
from factoryshare import worker
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from tests.solving import WORK_PER_SECOND

JAKARTA = ZoneInfo("Asia/Jakarta")
# Monday 4 January 2027, 08:00 WIB.
MONDAY = dt.datetime(2027, 1, 4, 8, 0, tzinfo=JAKARTA)


def _run(db, house, days=5):
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY.astimezone(dt.UTC),
        horizon_end=(MONDAY + dt.timedelta(days=days)).astimezone(dt.UTC),
        time_limit_seconds=2,
        status=RunStatus.queued,
        attempts=0,
    )
    db.add(run)
    db.commit()
    return run


def test_a_run_places_every_request_inside_opening_hours_and_around_existing_bookings(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_booking,
):
    house = make_house()
    sewing = [make_machine(house=house, capabilities=["sewing"]) for _ in range(2)]
    make_booking(machine=sewing[0], start_at=MONDAY.replace(hour=8), end_at=MONDAY.replace(hour=12))
    make_booking(machine=sewing[1], start_at=MONDAY.replace(hour=8), end_at=MONDAY.replace(hour=12))
    requests = []
    for _ in range(3):
        requests.append(
            make_production_request(
                quantity=24,
                earliest_start=MONDAY,
                due=MONDAY + dt.timedelta(days=2),
                product=make_product(member=_member_of(house, db), routing=[("sewing", 15, 5)]),
            )
        )
    run = _run(db, house)

    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run.id
    )
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    problem = solver.problem_from_dict(run.problem)
    solution = solver.solution_from_dict(run.solution)
    assert solver.check(problem, solution) == []
    assert len(run.assignments) == 3
    for a in run.assignments:
        local_start, local_end = a.start_at.astimezone(JAKARTA), a.end_at.astimezone(JAKARTA)
        assert local_start.date() == local_end.date()
        assert dt.time(8) <= local_start.time() and local_end.time() <= dt.time(17)
        # Monday's morning is taken by the existing bookings.
        assert not (local_start.date() == MONDAY.date() and local_start.time() < dt.time(12))
    assert run.kpis["scheduled"] == 3
    assert run.kpis["on_time_share"] == 1.0
    # Three small jobs: proven optimal, so nothing is left between objective and bound.
    assert run.kpis["status"] == "optimal" and run.kpis["gap"] == 0
    assert set(run.kpis["utilisation"]) == {f"machine-{m.id}" for m in sewing}


def test_a_request_no_machine_of_the_house_can_make_is_named_in_the_run(
    db, session_factory, make_house, make_machine, make_product, make_production_request
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    request = make_production_request(
        earliest_start=MONDAY,
        product=make_product(member=_member_of(house, db), routing=[("embroidery", 10, 2)]),
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    assert run.status is RunStatus.succeeded
    assert run.assignments == []
    assert run.kpis["requests_without_machine"] == [request.id]


def _member_of(house, db):
    from factoryshare.models import Member, Sector
    from tests.conftest import _n, _nib, _nik

    n = _n()
    member = Member(
        house_id=house.id,
        business_name=f"UD Solver {n}",
        nib=_nib(n),
        owner_name="Rina",
        owner_nik=_nik(n),
        sector=Sector.fashion,
        phone="+6281234567890",
        email=f"s{n}@example.id",
    )
    db.add(member)
    db.flush()
    return member


def test_publishing_a_run_books_its_slots_for_the_members_and_refuses_a_second_time(
    db, session_factory, make_house, make_machine, make_product, make_production_request, make_user
):
    import pytest

    from factoryshare.access import Actor
    from factoryshare.errors import Conflict
    from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
    from factoryshare.models.scheduling import RequestStatus
    from factoryshare.services import scheduling

    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"], hourly_rate=60_000)
    member = _member_of(house, db)
    request = make_production_request(
        quantity=9,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    manager = Actor.of(make_user("manager", houses=[house]))

    scheduling.publish_run(db, manager, run.id)

    (a,) = run.assignments
    booking = db.get(Booking, a.booking_id)
    assert booking.member_id == member.id and booking.machine_id == machine.id
    assert booking.status is BookingStatus.confirmed and booking.source is BookingSource.solver
    assert booking.price == 60_000  # 15 + 9 x 5 = 60 minutes at Rp60.000 per hour
    assert request.status is RequestStatus.scheduled
    assert run.status.value == "published"
    with pytest.raises(Conflict) as exc:
        scheduling.publish_run(db, manager, run.id)
    assert exc.value.code == "invalid_transition"


def test_a_slot_taken_since_the_run_refuses_the_whole_publish(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
    make_booking,
):
    import pytest

    from factoryshare.access import Actor
    from factoryshare.errors import Conflict
    from factoryshare.services import scheduling

    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"])
    member = _member_of(house, db)
    make_production_request(
        quantity=9,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    (a,) = run.assignments
    make_booking(machine=machine, member=member, start_at=a.start_at, end_at=a.end_at)
    manager = Actor.of(make_user("manager", houses=[house]))
    with pytest.raises(Conflict) as exc:
        scheduling.publish_run(db, manager, run.id)
    assert exc.value.code == "booking_conflict"


def test_a_manager_publishes_through_the_api_and_downloads_the_problem_but_a_member_may_not(
    db,
    client,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
    token_for,
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    member = _member_of(house, db)
    make_production_request(
        quantity=9,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    manager = token_for(make_user("manager", houses=[house]))
    member_user = token_for(make_user("member", member=member))

    problem = client.get(f"/api/v1/schedule-runs/{run.id}/problem.json", headers=manager)
    assert problem.status_code == 200
    assert solver.problem_from_dict(problem.json).jobs[0].owner == f"member-{member.id}"
    assert (
        client.post(f"/api/v1/schedule-runs/{run.id}/publish", headers=member_user).status_code
        == 403
    )
    published = client.post(f"/api/v1/schedule-runs/{run.id}/publish", headers=manager)
    assert published.status_code == 200, published.json
    assert published.json["status"] == "published"
    assert published.json["assignments"][0]["booking_id"] is not None
    mine = client.get("/api/v1/bookings", headers=member_user)
    assert [b["source"] for b in mine.json["items"]] == ["solver"]


def test_the_diff_shows_new_work_before_publishing_and_unchanged_work_after(
    db, session_factory, make_house, make_machine, make_product, make_production_request, make_user
):
    from factoryshare.access import Actor
    from factoryshare.services import scheduling

    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    member = _member_of(house, db)
    make_production_request(
        quantity=9,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    manager = Actor.of(make_user("manager", houses=[house]))
    assert [c["change"] for c in scheduling.diff_run(db, manager, run.id)] == ["new"]
    scheduling.publish_run(db, manager, run.id)
    (change,) = scheduling.diff_run(db, manager, run.id)
    assert change["change"] == "unchanged"
    assert change["published"]["booking_id"] == run.assignments[0].booking_id


def _manager(house):
    from factoryshare.access import Actor
    from factoryshare.models import Role

    return Actor(user_id=None, role=Role.manager, house_ids=frozenset({house.id}))


def _queue(db, house, **policies):
    from factoryshare.services import scheduling

    run = scheduling.queue_run(
        db,
        _manager(house),
        house.id,
        {
            "horizon_start": MONDAY,
            "horizon_end": MONDAY + dt.timedelta(days=5),
            "time_limit_seconds": 2,
            **policies,
        },
    )
    db.commit()
    return run


def test_a_run_asked_for_family_cleaning_keeps_halal_and_non_halal_work_apart(
    db, session_factory, make_house, make_machine, make_product, make_production_request
):
    house = make_house()
    fryer = make_machine(house=house, capabilities=["vacuum_frying"])
    member = _member_of(house, db)
    for family in ("halal", "non_halal", "halal"):
        make_production_request(
            quantity=6,
            earliest_start=MONDAY,
            due=MONDAY + dt.timedelta(days=3),
            product=make_product(member=member, family=family, routing=[("vacuum_frying", 0, 10)]),
        )
    run = _queue(db, house, family_setup_minutes=45)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    from factoryshare.services.solving import policies_of

    policies = policies_of(run)
    assert policies.setup is not None and policies.setup.minutes == 45
    solution = solver.solution_from_dict(run.solution)
    assert solver.check(solver.problem_from_dict(run.problem), solution, policies) == []
    slots = sorted(
        (a.start_at, a.end_at, a.operation.request.product.family)
        for a in run.assignments
        if a.machine_id == fryer.id
    )
    for (_s1, e1, f1), (s2, _e2, f2) in zip(slots, slots[1:]):
        if f1 != f2 and s2.date() == e1.date():
            assert s2 - e1 >= dt.timedelta(minutes=45)


def test_a_share_cap_keeps_one_member_from_taking_the_only_fryer(
    db, session_factory, make_house, make_machine, make_product, make_production_request
):
    house = make_house()
    make_machine(house=house, capabilities=["vacuum_frying"])
    greedy_member, other = _member_of(house, db), _member_of(house, db)
    # Four open days of 9 h on the fryer; the greedy member asks for 4 x 8 h, the cap allows 18 h.
    greedy_requests = []
    for _ in range(4):
        greedy_requests.append(
            make_production_request(
                quantity=48,
                earliest_start=MONDAY,
                due=MONDAY + dt.timedelta(days=5),
                product=make_product(member=greedy_member, routing=[("vacuum_frying", 0, 10)]),
            )
        )
    make_production_request(
        quantity=12,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(days=5),
        product=make_product(member=other, routing=[("vacuum_frying", 0, 10)]),
    )
    run = _queue(db, house, share_cap_percent=50)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    share = run.kpis["member_share_of_hours"]
    assert share[f"member-{other.id}"] > 0
    unscheduled = {u["job"] for u in run.kpis["unscheduled"]}
    assert len(unscheduled) >= 2
    assert all(job in {f"request-{r.id}" for r in greedy_requests} for job in unscheduled)


def _published_plan(db, session_factory, house, machines, make_product, make_production_request):
    from factoryshare.services import scheduling

    member = _member_of(house, db)
    requests = [
        make_production_request(
            quantity=12,
            earliest_start=MONDAY,
            due=MONDAY + dt.timedelta(days=4),
            product=make_product(member=member, routing=[("sewing", 10, 0)]),
        )
        for _ in range(3)
    ]
    run = _queue(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    scheduling.publish_run(db, _manager(house), run.id)
    db.commit()
    return requests, run


def test_a_breakdown_queues_a_replan_that_moves_only_the_hit_work_and_publishes_it(
    db, session_factory, make_house, make_machine, make_product, make_production_request
):
    from factoryshare.models.bookings import Booking, BookingStatus
    from factoryshare.services import downtimes, scheduling, solving

    house = make_house()
    machines = [make_machine(house=house, capabilities=["sewing"]) for _ in range(2)]
    requests, plan = _published_plan(
        db, session_factory, house, machines, make_product, make_production_request
    )
    bookings = {a.operation.request_id: db.get(Booking, a.booking_id) for a in plan.assignments}
    hit_request = requests[0]
    hit = bookings[hit_request.id]
    untouched = {
        b.id: (b.machine_id, b.start_at)
        for r, b in bookings.items()
        if r != hit_request.id
        and not (
            b.machine_id == hit.machine_id and b.start_at < hit.end_at and b.end_at > hit.start_at
        )
    }
    # A request still waiting for a plan: the re-plan leaves it alone and does not call it
    # unplaceable.
    waiting = make_production_request(
        earliest_start=MONDAY,
        product=make_product(member_id=requests[0].member_id, routing=[("sewing", 15, 5)]),
    )
    result = downtimes.record_downtime(
        db,
        _manager(house),
        machine_id=hit.machine_id,
        start=hit.start_at,
        end=hit.end_at,
        kind="breakdown",
        reason="motor",
        affected="keep",
    )
    db.commit()
    assert result.replan is not None and result.replan.purpose == "replan"
    assert hit_request.id in result.replan.policies["requests"]

    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    replan = db.get(ScheduleRun, result.replan.id)
    db.refresh(replan)
    assert replan.status is RunStatus.succeeded, replan.error
    from factoryshare.services.solving import policies_of

    problem = solver.problem_from_dict(replan.problem)
    assert {j.id for j in problem.jobs} == {f"request-{hit_request.id}"}
    assert replan.kpis["requests_without_machine"] == []
    assert waiting.id not in solving.why_not_placed(db, [waiting])
    assert (
        solver.check(problem, solver.solution_from_dict(replan.solution), policies_of(replan)) == []
    )
    (moved,) = replan.assignments
    assert not (
        moved.machine_id == hit.machine_id
        and moved.start_at < hit.end_at
        and moved.end_at > hit.start_at
    )

    scheduling.publish_run(db, _manager(house), replan.id)
    db.commit()
    db.refresh(hit)
    # The kept booking the downtime hit is moved to its new slot: the same booking, not a new one.
    assert moved.booking_id == hit.id
    assert (hit.status, hit.machine_id, hit.start_at) == (
        BookingStatus.confirmed,
        moved.machine_id,
        moved.start_at,
    )
    assert hit.source.value == "solver"
    for booking_id, (machine_id, start_at) in untouched.items():
        booking = db.get(Booking, booking_id)
        assert (booking.machine_id, booking.start_at, booking.status) == (
            machine_id,
            start_at,
            BookingStatus.confirmed,
        )


def test_a_downtime_that_hits_only_member_bookings_queues_no_replan(
    db, make_house, make_machine, make_booking
):
    from factoryshare.services import downtimes

    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"])
    booking = make_booking(machine=machine)
    result = downtimes.record_downtime(
        db,
        _manager(house),
        machine_id=machine.id,
        start=booking.start_at,
        end=booking.end_at,
        affected="cancel",
    )
    assert result.replan is None


def test_the_worker_solves_with_the_number_of_threads_set_by_solver_workers(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    monkeypatch,
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    make_production_request(
        quantity=4,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(days=2),
        product=make_product(member=_member_of(house, db), routing=[("sewing", 15, 5)]),
    )
    run = _run(db, house)
    seen = []
    real_solve = solver.solve

    def spy(problem, options, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(options.workers)
        return real_solve(problem, options, *args, **kwargs)

    monkeypatch.setattr(solver, "solve", spy)
    monkeypatch.setenv("SOLVER_WORKERS", "1")
    from factoryshare.config import Settings

    worker.run_once(session_factory, worker_id="test", workers=Settings.from_env().solver_workers)
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    assert seen == [1]


def test_a_reproducible_worker_gives_the_same_plan_for_the_same_problem_twice(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
):
    house = make_house()
    for _ in range(2):
        make_machine(house=house, capabilities=["sewing"])
    member = _member_of(house, db)
    for n in range(6):
        make_production_request(
            earliest_start=MONDAY,
            due=MONDAY + dt.timedelta(days=1 + n % 3),
            priority=1 + n % 3,
            product=make_product(member=member, routing=[("sewing", 15, 5 + n)]),
        )
    plans = []
    for _ in range(2):
        run = _run(db, house)
        assert worker.run_once(session_factory, worker_id="test", work_per_second=1.0) == run.id
        db.refresh(run)
        assert run.status is RunStatus.succeeded, run.error
        plans.append(
            sorted((a["operation"], a["machine"], a["start"]) for a in run.solution["assignments"])
        )
    assert plans[0] == plans[1] and len(plans[0]) == 6


def test_the_reproducible_solve_counts_the_limit_in_deterministic_time_on_one_thread():
    from factoryshare.services import solving

    options = solving.solve_options(5, workers=2, work_per_second=1.5)
    assert (options.workers, options.deterministic_time) == (1, 7.5)
    assert options.time_limit == 5 * solving.REPRODUCIBLE_WALL_GUARD
    plain = solving.solve_options(5, workers=2)
    assert (plain.workers, plain.deterministic_time, plain.time_limit) == (2, None, 5)


def test_a_member_is_told_why_the_latest_plan_left_each_request_out(
    db,
    session_factory,
    client,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
):
    from factoryshare.models import Role
    from factoryshare.services import solving
    from tests.web.helpers import csrf, sign_in

    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    member = _member_of(house, db)
    no_machine = make_production_request(
        earliest_start=MONDAY, product=make_product(member=member, routing=[("embroidery", 10, 2)])
    )
    # Ten hours of sewing in one go; the house opens nine hours a day.
    too_long = make_production_request(
        earliest_start=MONDAY,
        quantity=10,
        product=make_product(member=member, routing=[("sewing", 0, 60)]),
    )
    placed = make_production_request(
        earliest_start=MONDAY, product=make_product(member=member, routing=[("sewing", 15, 5)])
    )
    run = _run(db, house)
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)

    assert solving.why_not_placed(db, [no_machine, too_long, placed]) == {
        no_machine.id: "no_machine",
        too_long.id: "no_window",
    }

    # The member's page says it in the member's words (Indonesian by default).
    sign_in(client, make_user(Role.member, member=member))
    page = client.get("/production").get_data(as_text=True)
    assert page.count("Tidak masuk jadwal terakhir:") == 2
    assert (
        "tidak ada mesin di rumah produksi ini yang dapat mengerjakan salah satu tahapnya" in page
    )
    assert "lebih lama daripada waktu buka mesinnya dalam sekali jalan" in page

    # The house's manager reads the same reasons on the run's page, about the member.
    client.post("/logout", data={"csrf_token": csrf(client, "/production")})
    sign_in(client, make_user(Role.manager, houses=[house]))
    page = client.get(f"/manager/runs/{run.id}").get_data(as_text=True)

    def row(request_id: int) -> str:  # the request's row of the run page's review table
        return page.split(f'id="run-request-{request_id}"', 1)[1].split("</tr>", 1)[0]

    assert "tidak ada mesin di rumah produksi ini" in row(no_machine.id)
    assert "salah satu tahapnya lebih lama" in row(too_long.id)


def test_a_pausable_step_counts_only_the_open_minutes_it_holds_its_machine_in_the_utilisation():
    from factoryshare.services import solving

    # The machine is open 08:00-09:00 and 10:00-11:00 (minutes 0-60 and 120-180); the step
    # works 100 minutes, pausing over the closed hour: it holds the machine 100 of 120 open
    # minutes, not the 160 its span covers.
    problem = solver.problem_from_dict(
        {
            "format": "factoryshare-problem/1",
            "name": "pause",
            "horizon": 180,
            "machines": [{"id": "machine-1", "open": [[0, 60], [120, 180]]}],
            "jobs": [
                {
                    "id": "request-1",
                    "owner": "member-1",
                    "operations": [
                        {
                            "id": "operation-1",
                            "pausable": True,
                            "modes": [{"machine": "machine-1", "duration": 100}],
                        }
                    ],
                }
            ],
        }
    )
    solution = solver.solve(
        problem, solver.SolveOptions(time_limit=10, workers=1, deterministic_time=1.0)
    )
    (a,) = solution.assignments
    assert (a.start, a.end) == (0, 160)
    kpis = solving.kpis(problem, solution)
    assert kpis["utilisation"] == {"machine-1": round(100 / 120, 4)}
    assert kpis["member_share_of_hours"] == {"member-1": 1.0}
