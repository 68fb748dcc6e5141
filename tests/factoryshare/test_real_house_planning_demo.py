"""Issue 17's done-when checks: the problem file's fields for real houses round-trip through
`factoryshare solve`; a manager planning the demo house through the API gets the 615-minute
sewing over two days and the 500 wallets in lots, and every published booking on the grid; and
a production request becomes done when the last booking of its last lot is completed, and
only then."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

import solver
from factoryshare import worker
from factoryshare.models import User
from factoryshare.models.audit import AuditEvent
from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingStatus
from factoryshare.models.scheduling import ProductionRequest, RequestStatus, ScheduleRun
from factoryshare.services import bookings, scheduling
from tests.factoryshare.test_real_house_planning import (
    NOW,
    _manager,
    _member,
    _on_grid,
    _request,
    _solve,
)
from tests.solving import WORK_PER_SECOND


def _demo_house_planned_through_the_api(db, session_factory, client, token_for):
    """The demo loaded, its Garut manager queues a two-week run from the demo orders' start,
    the worker solves it; returns (house, run, headers, orders)."""
    from fixtures.demo import load_demo

    load_demo(db)
    db.commit()
    manager = db.scalar(select(User).where(User.email == "manajer.garut@factoryshare.id"))
    headers = token_for(manager)
    wallets = db.scalar(select(ProductionRequest).where(ProductionRequest.quantity == 500))
    house = wallets.house
    orders = list(
        db.scalars(
            select(ProductionRequest).where(
                ProductionRequest.house_id == house.id,
                ProductionRequest.status == RequestStatus.open,
            )
        )
    )
    start = min(r.earliest_start for r in orders)
    db.commit()
    response = client.post(
        f"/api/v1/houses/{house.id}/schedule-runs",
        headers=headers,
        json={
            "horizon_start": start.isoformat(),
            "horizon_end": (start + dt.timedelta(days=14)).isoformat(),
            "time_limit_seconds": 5,
        },
    )
    assert response.status_code in (201, 202), response.get_json()
    run_id = response.get_json()["id"]
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run_id
    )
    run = db.get(ScheduleRun, run_id)
    db.refresh(run)
    return house, run, headers, {r.quantity: r for r in orders}


def test_a_manager_plans_the_demo_house_through_the_api_with_the_vest_over_two_days_and_the_wallets_in_lots(
    db, session_factory, client, token_for
):
    house, run, headers, orders = _demo_house_planned_through_the_api(
        db, session_factory, client, token_for
    )
    vest, wallets = orders[20], orders[500]

    review = client.get(f"/api/v1/schedule-runs/{run.id}/requests", headers=headers)
    assert review.status_code == 200, review.get_json()
    rows = {r["request_id"]: r for r in review.get_json()["requests"]}
    assert rows[vest.id]["start"] is not None and rows[wallets.id]["start"] is not None
    assert rows[vest.id].get("why_not") is None and rows[wallets.id].get("why_not") is None

    published = client.post(f"/api/v1/schedule-runs/{run.id}/publish", headers=headers)
    assert published.status_code == 200, published.get_json()
    db.expire_all()
    zone = ZoneInfo(house.timezone)
    # The vest's 615-minute sewing is booked in two pieces, on two days, on one machine.
    vest_view = client.get(f"/api/v1/production-requests/{vest.id}", headers=headers).get_json()
    assert vest_view["status"] == "scheduled"
    sewing = [
        a
        for a in db.get(ScheduleRun, run.id).assignments
        if a.operation.request_id == vest.id and a.operation.minutes == 615
    ]
    assert len(sewing) == 2 and len({a.machine_id for a in sewing}) == 1
    assert len({a.start_at.astimezone(zone).date() for a in sewing}) == 2
    assert sum((a.end_at - a.start_at for a in sewing), dt.timedelta()) == dt.timedelta(minutes=615)
    # The 500 wallets: five lots of 100, each with its own bookings, on more than one machine.
    wallet_view = client.get(
        f"/api/v1/production-requests/{wallets.id}", headers=headers
    ).get_json()
    assert wallet_view["lots"] == [100] * 5
    wallet_bookings = {
        a.lot: a
        for a in db.get(ScheduleRun, run.id).assignments
        if a.operation.request_id == wallets.id
    }
    assert sorted(wallet_bookings) == [1, 2, 3, 4, 5]
    assert len(wallet_view["placement"]["bookings"]) >= 5
    # Every live booking of the house -- the plan's and the members' own -- sits on its grid.
    live = list(
        db.scalars(
            select(Booking)
            .join(Booking.machine)
            .where(Booking.machine.has(house_id=house.id), Booking.status.in_(LIVE_STATUSES))
        )
    )
    assert any(b.source.value == "solver" for b in live)
    off_grid = [
        b.id for b in live if not (_on_grid(b.start_at, house) and _on_grid(b.end_at, house))
    ]
    assert off_grid == []


def test_the_demo_runs_problem_with_every_real_house_field_round_trips_through_the_solve_command(
    db, session_factory, client, token_for, tmp_path
):
    _house, run, _headers, _orders = _demo_house_planned_through_the_api(
        db, session_factory, client, token_for
    )
    problem_dict = json.loads(json.dumps(run.problem))
    # The service wrote the house's grid, pausable steps and machine rates with a cost weight.
    assert problem_dict["grid"] > 1
    assert any(op.get("pausable") for job in problem_dict["jobs"] for op in job["operations"])
    assert all(m.get("cost_per_hour", 0) > 0 for m in problem_dict["machines"])
    assert problem_dict["objective"]["cost"] > 0
    # Freeze one step where the run put it: the command must keep it there.
    placed = solver.solution_from_dict(run.solution).assignments[0]
    frozen_op = next(
        op
        for job in problem_dict["jobs"]
        for op in job["operations"]
        if op["id"] == placed.operation
    )
    frozen_op["frozen"] = {"machine": placed.machine, "start": placed.start}
    problem = solver.problem_from_dict(problem_dict)
    assert solver.problem_from_dict(solver.problem_to_dict(problem)) == problem

    problem_file, out = tmp_path / "demo.json", tmp_path / "demo-solution.json"
    problem_file.write_text(json.dumps(solver.problem_to_dict(problem)))
    from factoryshare.cli import cli

    result = CliRunner().invoke(
        cli, ["solve", str(problem_file), "--time-limit", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    solution = solver.solution_from_dict(written)
    assert solver.check(problem, solution) == []  # grid, pausable ends, frozen step, cost
    assert solution.unscheduled == ()
    assert (
        written["cost"] > 0
        and f"machine cost Rp{written['cost']:,}".replace(",", ".") in result.output
    )
    kept = next(a for a in solution.assignments if a.operation == placed.operation)
    assert (kept.machine, kept.start) == (placed.machine, placed.start)
    pausable_ids = {o.id for j in problem.jobs for o in j.operations if o.pausable}
    assert any(
        a.operation in pausable_ids and a.end - a.start > 540 for a in solution.assignments
    ), "the 615-minute sewing spans closed time in the file's solution too"
    assert all(a.start % problem.grid == 0 for a in solution.assignments)


# ---------------------------------------------------------------------------------------------
# A request is done when the last booking of its last lot is completed.


def _published_lots(db, session_factory, make_house, make_machine, make_product, quantity):
    house = make_house()
    for _ in range(3):
        make_machine(house=house, capabilities=["edge_press"])
    product = make_product(member=_member(db, house), routing=[("edge_press", 10, 2)])
    product.routing[0].max_lot = 100
    db.flush()
    request = _request(db, house, product, quantity, days=10)
    run = _solve(db, session_factory, house, days=10)
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    planned = sorted(
        (db.get(Booking, a.booking_id) for a in run.assignments), key=lambda b: b.start_at
    )
    return house, request, planned


def test_a_request_in_lots_becomes_done_when_the_last_booking_of_its_last_lot_is_completed_and_not_before(
    db, session_factory, make_house, make_machine, make_product
):
    house, request, planned = _published_lots(
        db, session_factory, make_house, make_machine, make_product, 300
    )
    assert len(planned) == 3
    manager = _manager(house)
    for booking in planned[:-1]:
        bookings.complete_booking(db, manager, booking.id, now=booking.end_at)
        db.refresh(request)
        assert request.status is RequestStatus.scheduled
    bookings.complete_booking(db, manager, planned[-1].id, now=planned[-1].end_at)
    db.refresh(request)
    assert request.status is RequestStatus.done
    events = list(
        db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "production_request.completed",
                AuditEvent.object_id == str(request.id),
            )
        )
    )
    assert len(events) == 1


def test_a_cancelled_lot_booking_is_no_done_work_so_the_request_stays_scheduled(
    db, session_factory, make_house, make_machine, make_product
):
    house, request, planned = _published_lots(
        db, session_factory, make_house, make_machine, make_product, 200
    )
    assert len(planned) == 2
    manager = _manager(house)
    bookings.cancel_booking(db, manager, planned[0].id, reason="press broke down")
    bookings.complete_booking(db, manager, planned[1].id, now=planned[1].end_at)
    db.refresh(request)
    assert request.status is RequestStatus.scheduled


def test_a_no_show_on_one_lot_keeps_the_request_from_being_done(
    db, session_factory, make_house, make_machine, make_product
):
    house, request, planned = _published_lots(
        db, session_factory, make_house, make_machine, make_product, 200
    )
    manager = _manager(house)
    bookings.mark_no_show(db, manager, planned[0].id, now=planned[0].end_at)
    bookings.complete_booking(db, manager, planned[1].id, now=planned[1].end_at)
    db.refresh(request)
    assert request.status is RequestStatus.scheduled


def test_a_step_that_pauses_overnight_is_done_work_only_once_its_last_piece_is_completed(
    db, session_factory, make_house, make_machine, make_capability, make_product
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    make_capability(code="sewing", name="Menjahit").pausable = True
    db.flush()
    request = _request(
        db, house, make_product(member=_member(db, house), routing=[("sewing", 15, 30)]), 20
    )
    run = _solve(db, session_factory, house)
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    pieces = sorted(
        (db.get(Booking, a.booking_id) for a in run.assignments), key=lambda b: b.start_at
    )
    assert len(pieces) == 2  # 615 minutes over two days
    bookings.complete_booking(db, _manager(house), pieces[0].id, now=pieces[0].end_at)
    db.refresh(request)
    assert request.status is RequestStatus.scheduled
    bookings.complete_booking(db, _manager(house), pieces[1].id, now=pieces[1].end_at)
    db.refresh(request)
    assert request.status is RequestStatus.done
    assert {b.status for b in pieces} == {BookingStatus.completed}


def test_completing_a_members_own_booking_beside_a_planned_request_leaves_the_request_scheduled(
    db, session_factory, make_house, make_machine, make_product, make_booking
):
    house, request, planned = _published_lots(
        db, session_factory, make_house, make_machine, make_product, 100
    )
    own = make_booking(
        machine=db.get(Booking, planned[0].id).machine,
        status=BookingStatus.confirmed,
        start_at=planned[0].end_at + dt.timedelta(hours=1),
        end_at=planned[0].end_at + dt.timedelta(hours=2),
    )
    done = bookings.complete_booking(db, _manager(house), own.id, now=own.end_at)
    assert done.status is BookingStatus.completed
    db.refresh(request)
    assert request.status is RequestStatus.scheduled
