"""Publishing a schedule run applies its change list to the published schedule: unchanged
bookings stay (same id, same times), moved ones move, new ones are booked, dropped ones are
cancelled with the reason; whatever it books or moves passes a member booking's checks; a run
solved against a schedule that changed since is stale."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from factoryshare import clock as product_clock
from factoryshare import events, worker
from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import AuditEvent, Member, Role, Sector
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.scheduling import RequestStatus, RunStatus, ScheduleRun
from factoryshare.services import bookings, downtimes, scheduling
from tests.clock import START
from tests.solving import WORK_PER_SECOND

JAKARTA = ZoneInfo("Asia/Jakarta")
# Monday 4 January 2027, 08:00 WIB.
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
        business_name=f"UD Terbit {n}",
        nib=_nib(n),
        owner_name="Sari",
        owner_nik=_nik(n),
        sector=Sector.fashion,
        phone="+6281234567890",
        email=f"terbit{n}@example.id",
    )
    db.add(member)
    db.flush()
    return member


def _solve(db, session_factory, run):
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    db.refresh(run)
    assert run.status is RunStatus.succeeded, run.error
    return run


@pytest.fixture()
def plan(db, session_factory, make_house, make_machine, make_product, make_production_request):
    """A published plan of one request in two steps (sewing, then embroidery on one of two
    machines), and the house."""
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    embroidery = [make_machine(house=house, capabilities=["embroidery"]) for _ in range(2)]
    member = _member(db, house)
    request = make_production_request(
        quantity=1,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(days=4),
        product=make_product(member=member, routing=[("sewing", 60, 0), ("embroidery", 60, 0)]),
    )
    run = scheduling.queue_run(
        db,
        _manager(house),
        house.id,
        {
            "horizon_start": MONDAY,
            "horizon_end": MONDAY + dt.timedelta(days=5),
            "time_limit_seconds": 2,
        },
    )
    db.commit()
    _solve(db, session_factory, run)
    scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    db.commit()
    by_step = {a.operation.position: db.get(Booking, a.booking_id) for a in run.assignments}
    return {
        "house": house,
        "request": request,
        "run": run,
        "sewing": by_step[1],
        "embroidery": by_step[2],
        "machines": embroidery,
    }


def _replan_after_downtime(db, session_factory, plan, affected):
    hit = plan["embroidery"]
    result = downtimes.record_downtime(
        db,
        _manager(plan["house"]),
        machine_id=hit.machine_id,
        start=hit.start_at,
        end=hit.end_at,
        kind="breakdown",
        reason="needle bar",
        affected=affected,
        now=NOW,
    )
    db.commit()
    assert result.replan is not None
    return _solve(db, session_factory, db.get(ScheduleRun, result.replan.id))


def test_a_replan_after_a_downtime_keeps_the_ids_and_times_of_unchanged_bookings(
    db, session_factory, plan
):
    sewing = plan["sewing"]
    kept = (sewing.id, sewing.machine_id, sewing.start_at, sewing.end_at)
    replan = _replan_after_downtime(db, session_factory, plan, "cancel")
    changes = {
        c["operation_id"]: c["change"]
        for c in scheduling.diff_run(db, _manager(plan["house"]), replan.id)
    }
    assert sorted(changes.values()) == ["new", "unchanged"]

    scheduling.publish_run(db, _manager(plan["house"]), replan.id, now=NOW)
    db.commit()

    db.refresh(sewing)
    assert (sewing.id, sewing.machine_id, sewing.start_at, sewing.end_at) == kept
    assert sewing.status is BookingStatus.confirmed
    by_step = {a.operation.position: a.booking_id for a in replan.assignments}
    assert by_step[1] == sewing.id
    new = db.get(Booking, by_step[2])
    assert new.id != plan["embroidery"].id and new.status is BookingStatus.confirmed
    assert (
        new.machine_id != plan["embroidery"].machine_id or new.start_at >= plan["embroidery"].end_at
    )
    # Nothing the member sees churned: the unchanged booking was never cancelled.
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_id == str(sewing.id), AuditEvent.action == "booking.cancelled")
        )
        == 0
    )


def test_a_moved_booking_keeps_its_id_with_one_audit_event_and_one_booking_moved_event(
    db, session_factory, plan, monkeypatch
):
    moved_events: list[int] = []
    monkeypatch.setitem(
        events.SUBSCRIBERS,
        "booking_moved",
        [*events.SUBSCRIBERS["booking_moved"], f"{__name__}:_heard_move"],
    )
    monkeypatch.setattr(f"{__name__}._MOVES", moved_events)
    hit = plan["embroidery"]
    replan = _replan_after_downtime(db, session_factory, plan, "keep")

    scheduling.publish_run(db, _manager(plan["house"]), replan.id, now=NOW)
    db.commit()

    db.refresh(hit)
    step2 = next(a for a in replan.assignments if a.operation.position == 2)
    assert step2.booking_id == hit.id
    assert (hit.status, hit.machine_id, hit.start_at) == (
        BookingStatus.confirmed,
        step2.machine_id,
        step2.start_at,
    )
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.object_type == "bookings",
                AuditEvent.object_id == str(hit.id),
                AuditEvent.action == "booking.moved",
            )
        )
        == 1
    )
    assert moved_events == [hit.id]


_MOVES: list[int] = []


def _heard_move(session, *, booking, **_payload):  # type: ignore[no-untyped-def]
    _MOVES.append(booking.id)


def test_a_dropped_operation_has_its_published_booking_cancelled_with_the_reason(clock, db, plan):
    house, embroidery = plan["house"], plan["embroidery"]
    op = next(a.operation for a in plan["run"].assignments if a.operation.position == 2)
    # A re-plan that was asked to place the step again and could not (no assignment for it).
    replan = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY,
        horizon_end=MONDAY + dt.timedelta(days=5),
        time_limit_seconds=2,
        status=RunStatus.succeeded,
        attempts=1,
        purpose="replan",
        policies={"requests": [plan["request"].id]},
        started_at=clock.now(),
        problem={
            "jobs": [
                {
                    "id": f"request-{plan['request'].id}",
                    "operations": [{"id": f"operation-{op.id}"}],
                }
            ]
        },
    )
    db.add(replan)
    db.flush()
    assert [c["change"] for c in scheduling.diff_run(db, _manager(house), replan.id)] == ["dropped"]

    scheduling.publish_run(db, _manager(house), replan.id, now=NOW)

    assert embroidery.status is BookingStatus.cancelled
    assert f"schedule run {replan.id}" in embroidery.cancelled_reason
    assert plan["sewing"].status is BookingStatus.confirmed


def test_a_booking_made_by_publishing_passes_the_same_checks_as_a_members_and_a_refusal_names_it(
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_downtime,
):
    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"])
    request = make_production_request(
        quantity=1,
        earliest_start=MONDAY,
        product=make_product(member=_member(db, house), routing=[("sewing", 60, 0)]),
    )
    run = scheduling.queue_run(
        db,
        _manager(house),
        house.id,
        {
            "horizon_start": MONDAY,
            "horizon_end": MONDAY + dt.timedelta(days=5),
            "time_limit_seconds": 2,
        },
    )
    db.commit()
    _solve(db, session_factory, run)
    (a,) = run.assignments
    # The machine went down over the proposed slot after the solve; no booking was hit.
    make_downtime(machine=machine, start_at=a.start_at, end_at=a.end_at)

    with pytest.raises(Conflict) as exc:
        scheduling.publish_run(db, _manager(house), run.id, now=NOW)

    assert exc.value.code == "machine_downtime"
    assert exc.value.details["operation_id"] == a.operation_id
    assert exc.value.details["request_id"] == request.id
    assert f"Request {request.id} step 1" in exc.value.message
    assert "Please choose another slot" not in exc.value.message
    assert (
        db.scalar(select(func.count()).select_from(Booking).where(Booking.machine_id == machine.id))
        == 0
    )
    assert run.status is RunStatus.succeeded and request.status is RequestStatus.open


def test_publishing_a_run_whose_published_schedule_changed_since_its_solve_is_stale_run(
    clock, db, session_factory, plan, make_machine, make_product, make_production_request
):
    house = plan["house"]
    member = Actor(user_id=None, role=Role.member, member_id=plan["request"].member_id)
    make_production_request(
        quantity=1,
        earliest_start=MONDAY,
        product=make_product(member_id=plan["request"].member_id, routing=[("sewing", 60, 0)]),
    )
    run = scheduling.queue_run(
        db,
        _manager(house),
        house.id,
        {
            "horizon_start": MONDAY,
            "horizon_end": MONDAY + dt.timedelta(days=5),
            "time_limit_seconds": 2,
        },
    )
    db.commit()
    _solve(db, session_factory, run)
    # A minute after the solve a member books inside the horizon and the manager moves the
    # plan's sewing booking: the run planned against a schedule that is no longer true.
    clock.advance(minutes=1)
    sewing_machine = plan["sewing"].machine
    fresh = bookings.create_booking(
        db,
        member,
        machine_id=sewing_machine.id,
        start=MONDAY + dt.timedelta(days=3, hours=1),
        end=MONDAY + dt.timedelta(days=3, hours=2),
        now=MONDAY - dt.timedelta(days=30),
    )

    with pytest.raises(scheduling.StaleRun) as exc:
        scheduling.publish_run(db, _manager(house), run.id, now=NOW)

    assert exc.value.code == "stale_run"
    assert exc.value.details["booking_ids"] == [fresh.id]
    assert "Please choose another slot" not in exc.value.message
    assert run.status is RunStatus.stale
    assert all(a.booking_id is None for a in run.assignments)
    again = scheduling.queue_again(db, _manager(house), run.id, now=NOW)
    assert (again.status, again.purpose, again.horizon_end) == (
        RunStatus.queued,
        "plan",
        run.horizon_end,
    )


def _solved_by_hand(db, house, request, slots, grid):
    """A succeeded run of `request` solved on `grid`, its steps at the given (machine, start,
    end) slots: what the worker stores, without solving."""
    from factoryshare.models.scheduling import ScheduleAssignment

    run = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY,
        horizon_end=MONDAY + dt.timedelta(days=5),
        time_limit_seconds=2,
        status=RunStatus.succeeded,
        attempts=1,
        purpose="plan",
        started_at=product_clock.now(),
        problem={
            "grid": grid,
            "jobs": [
                {
                    "id": f"request-{request.id}",
                    "operations": [{"id": f"operation-{op.id}"} for op in request.operations],
                }
            ],
        },
    )
    run.assignments = [
        ScheduleAssignment(operation_id=op.id, machine_id=m.id, start_at=s, end_at=e)
        for op, (m, s, e) in zip(request.operations, slots)
    ]
    db.add(run)
    db.flush()
    return run


def test_a_plan_solved_on_the_slot_grid_books_on_it_and_one_off_the_houses_grid_now_is_refused_naming_it(
    db, make_house, make_machine, make_product, make_production_request
):
    house = make_house()  # 30-minute slots
    machine = make_machine(house=house, capabilities=["sewing"])
    member = _member(db, house)
    ten_minutes = make_production_request(
        quantity=1,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 10, 0)]),
    )
    run = _solved_by_hand(
        db, house, ten_minutes, [(machine, MONDAY, MONDAY + dt.timedelta(minutes=10))], 30
    )

    scheduling.publish_run(db, _manager(house), run.id, now=NOW)

    booking = db.get(Booking, run.assignments[0].booking_id)
    # The machine is held to the end of the slot, as a member's booking would be.
    assert (booking.start_at, booking.end_at) == (MONDAY, MONDAY + dt.timedelta(minutes=30))
    assert scheduling.diff_run(db, _manager(house), run.id)[0]["change"] == "unchanged"

    # The house moved to hour slots after the next run was solved on half hours.
    later = make_production_request(
        quantity=1,
        earliest_start=MONDAY,
        product=make_product(member=member, routing=[("sewing", 30, 0)]),
    )
    off_grid = MONDAY + dt.timedelta(hours=2, minutes=30)
    run = _solved_by_hand(
        db, house, later, [(machine, off_grid, off_grid + dt.timedelta(minutes=30))], 30
    )
    house.slot_minutes = 60
    db.flush()

    with pytest.raises(Conflict) as exc:
        scheduling.publish_run(db, _manager(house), run.id, now=NOW)
    assert exc.value.code == "not_aligned"
    assert exc.value.details["request_id"] == later.id
