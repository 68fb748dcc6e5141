"""Schedule runs: a manager queues a solve of the house's open requests; workers run it.

This module holds the queue side: queue, read, list and discard. A run answers at once with
status `queued`; a worker (factoryshare/worker.py) claims it.

Publishing and discarding lock the run's row first and read its status after the lock
(factoryshare/locking.py): of a publish and a discard at once one wins, the other answers
409 `invalid_transition`, and bookings exist only if the publish won.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, false
from sqlalchemy.orm import Session

from factoryshare import audit, locking
from factoryshare.access import Actor, get_scoped, register_scope, scoped
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.scheduling import RunStatus, ScheduleRun

MAX_HORIZON = dt.timedelta(days=62)
MAX_TIME_LIMIT = 600
# Cleaning between product families longer than a working day is surely a typo.
MAX_SETUP_MINUTES = 8 * 60
REPLAN_TIME_LIMIT = 10


def _run_scope(actor: Actor) -> Any:
    if actor.is_admin:
        return ScheduleRun.id.isnot(None)
    if actor.role is Role.manager:
        return ScheduleRun.house_id.in_(actor.house_ids)
    return false()


register_scope(ScheduleRun, _run_scope)


def _aware(field: str, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationFailed("Give a date and time with its offset.",
                               errors={field: ["Give a date and time with its offset."]})
    return value.astimezone(dt.timezone.utc)


def _house_managed(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    actor.require(Role.admin, Role.manager)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise Forbidden("Only this house's managers may schedule it.")
    return house


def queue_run(session: Session, actor: Actor, house_id: int, data: dict[str, Any]) -> ScheduleRun:
    house = _house_managed(session, actor, house_id)
    start = _aware("horizon_start", data["horizon_start"])
    end = _aware("horizon_end", data["horizon_end"])
    if end <= start:
        raise ValidationFailed("The horizon must end after it starts.",
                               errors={"horizon_end": ["Must be after horizon_start."]})
    if end - start > MAX_HORIZON:
        raise ValidationFailed("The horizon may be at most 62 days.",
                               errors={"horizon_end": ["At most 62 days after horizon_start."]})
    limit = data.get("time_limit_seconds", 10)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_TIME_LIMIT:
        raise ValidationFailed("The time limit is out of range.",
                               errors={"time_limit_seconds": [f"Between 1 and {MAX_TIME_LIMIT}."]})
    policies = {}
    setup = data.get("family_setup_minutes") or 0
    if not isinstance(setup, int) or not 0 <= setup <= MAX_SETUP_MINUTES:
        raise ValidationFailed("The cleaning time between product families is out of range.",
                               errors={"family_setup_minutes": [f"Between 0 and {MAX_SETUP_MINUTES}."]})
    if setup:
        policies["family_setup_minutes"] = setup
    cap = data.get("share_cap_percent")
    if cap is not None:
        if not isinstance(cap, int) or not 1 <= cap <= 100:
            raise ValidationFailed("A member's share cap is a percentage from 1 to 100.",
                                   errors={"share_cap_percent": ["Between 1 and 100."]})
        policies["share_cap_percent"] = cap
    run = ScheduleRun(house_id=house.id, horizon_start=start, horizon_end=end,
                      time_limit_seconds=limit, status=RunStatus.queued, attempts=0,
                      requested_by_id=actor.user_id, purpose="plan", policies=policies)
    session.add(run)
    session.flush()
    audit.record(session, actor, "schedule_run.queued", run,
                 after=audit.snapshot(run))
    return run


def queue_replan(session: Session, actor: Actor, downtime: Any, hit: list[Any],
                 now: dt.datetime | None = None, *, house_id: int | None = None,
                 cause: dict[str, Any] | None = None) -> ScheduleRun | None:
    """Queue a re-plan of the published work a downtime hit, or None when it hit none.

    A change of the house's calendar (a closure, its opening hours, slot grid or zone) passes
    `downtime=None` with its `house_id` and a `cause` such as `{"closure_id": 7}`, recorded in
    the run's policies in place of `downtime_id`.

    Only the requests whose solver bookings were hit are placed again; every other booking
    stays where it is, and the re-placed operations stay as close as they can to their old
    slots. The manager reviews and publishes it like any run.
    """
    from sqlalchemy import select

    from factoryshare.models.bookings import BookingSource
    from factoryshare.models.scheduling import ProductionRequest, RequestOperation, ScheduleAssignment

    solver_booking_ids = [b.id for b in hit if b.source is BookingSource.solver]
    if not solver_booking_ids:
        return None
    requests = list(session.scalars(
        select(ProductionRequest).join(RequestOperation, RequestOperation.request_id == ProductionRequest.id)
        .join(ScheduleAssignment, ScheduleAssignment.operation_id == RequestOperation.id)
        .where(ScheduleAssignment.booking_id.in_(solver_booking_ids)).distinct()))
    if not requests:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    # Nothing can be placed in the past, nor before the requests may start.
    start = max(now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1),
                min(r.earliest_start for r in requests))
    latest = max([r.due for r in requests] + [b.end_at for b in hit]
                 + ([downtime.end_at] if downtime is not None else []))
    end = min(start + MAX_HORIZON, max(latest, start) + dt.timedelta(days=7))
    if downtime is not None:
        house_id, cause = downtime.machine.house_id, {"downtime_id": downtime.id}
    run = ScheduleRun(house_id=house_id, horizon_start=start, horizon_end=end,
                      time_limit_seconds=REPLAN_TIME_LIMIT, status=RunStatus.queued, attempts=0,
                      requested_by_id=actor.user_id, purpose="replan",
                      policies={"requests": sorted(r.id for r in requests), **(cause or {})})
    session.add(run)
    session.flush()
    audit.record(session, actor, "schedule_run.queued", run, after=audit.snapshot(run))
    return run


def get_run(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    return get_scoped(session, actor, ScheduleRun, run_id)


def list_runs(session: Session, actor: Actor, *, house_id: int | None = None,
              status: str | None = None) -> Select[tuple[ScheduleRun]]:
    stmt = scoped(actor, ScheduleRun)
    if house_id is not None:
        stmt = stmt.where(ScheduleRun.house_id == house_id)
    if status is not None:
        stmt = stmt.where(ScheduleRun.status == RunStatus(status))
    return stmt.order_by(ScheduleRun.created_at.desc(), ScheduleRun.id.desc())


def list_house_runs(session: Session, actor: Actor, house_id: int) -> Select[tuple[ScheduleRun]]:
    _house_managed(session, actor, house_id)
    return list_runs(session, actor, house_id=house_id)


DISCARDABLE = (RunStatus.queued, RunStatus.running, RunStatus.succeeded, RunStatus.failed)


def discard_run(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    run = locking.for_update(session, actor, ScheduleRun, run_id)
    actor.require(Role.admin, Role.manager)
    locking.require_state(run, DISCARDABLE, f"A {run.status.value} run cannot be discarded.",
                          action="discard")
    before = audit.snapshot(run)
    run.status = RunStatus.discarded
    session.flush()
    audit.record(session, actor, "schedule_run.discarded", run, before=before,
                 after=audit.snapshot(run))
    return run


def publish_run(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    """Turn a run's proposal into confirmed bookings, all or nothing.

    Bookings already made are never moved: each proposed slot is checked against the live
    bookings of now, and one clash (a booking made since the run) refuses the whole publish
    with `booking_conflict`, so the manager re-runs instead of publishing half a plan.
    """
    from factoryshare.models import Machine
    from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingSource, BookingStatus
    from factoryshare.models.scheduling import ProductionRequest, RequestStatus
    from factoryshare.services.bookings import assert_machine_free, price_for

    from factoryshare.services.bookings import _cancel
    from factoryshare.services.solving import published_bookings

    run = locking.for_update(session, actor, ScheduleRun, run_id)
    _house_managed(session, actor, run.house_id)
    locking.require_state(run, (RunStatus.succeeded,),
                          f"Only a succeeded run can be published; this one is {run.status.value}.",
                          action="publish")
    before = audit.snapshot(run)
    now = dt.datetime.now(dt.timezone.utc)
    replan = run.purpose == "replan"
    expected = RequestStatus.scheduled if replan else RequestStatus.open
    # Two runs of one house proposing the same request: lock the requests (in id order) so that
    # only the first publish finds them open.
    locking.rows_for_update(session, ProductionRequest,
                            {a.operation.request_id for a in run.assignments})
    for a in run.assignments:
        request = a.operation.request
        if request.status is not expected:
            raise Conflict(f"Production request {request.id} is {request.status.value} now; "
                           "run the schedule again.",
                           code="request_not_open", details={"request_id": request.id})
    if replan:
        # The re-placed operations give up their old slots first, so the new plan may reuse them.
        old = published_bookings(session, [a.operation_id for a in run.assignments])
        for booking in old.values():
            if booking.status in LIVE_STATUSES:
                _cancel(session, actor, booking, f"re-planned by schedule run {run.id}")
    requests = {}
    for a in run.assignments:
        request = a.operation.request
        assert_machine_free(session, a.machine_id, a.start_at, a.end_at)
        machine = session.get(Machine, a.machine_id)
        assert machine is not None
        booking = Booking(
            machine_id=machine.id, member_id=request.member_id, product_id=request.product_id,
            start_at=a.start_at, end_at=a.end_at, status=BookingStatus.confirmed,
            source=BookingSource.solver, hourly_rate=machine.hourly_rate,
            price=price_for(machine, a.start_at, a.end_at),
            note=f"Production request {request.id}, step {a.operation.position}",
            created_by_id=actor.user_id, created_at=now, updated_at=now,
        )
        session.add(booking)
        session.flush()
        a.booking_id = booking.id
        requests[request.id] = request
    for request in requests.values():
        request.status = RequestStatus.scheduled
    run.status = RunStatus.published
    session.flush()
    audit.record(session, actor, "schedule_run.published", run, before=before,
                 after=audit.snapshot(run, extra={"bookings": [a.booking_id for a in run.assignments]}))
    return run


def problem_of(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """The exact problem a run solved, so that it can be replayed with `factoryshare solve`."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    if run.problem is None:
        raise Conflict("This run has not been solved yet.", code="run_not_solved")
    return run.problem


def diff_run(session: Session, actor: Actor, run_id: int) -> list[dict[str, Any]]:
    """Each proposed operation against what is published for it now: new, moved or unchanged."""
    from sqlalchemy import select

    from factoryshare.models.bookings import LIVE_STATUSES, Booking
    from factoryshare.models.scheduling import ScheduleAssignment

    run = get_scoped(session, actor, ScheduleRun, run_id)
    published = {
        a.operation_id: b
        for a, b in session.execute(
            select(ScheduleAssignment, Booking)
            .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
            .join(Booking, Booking.id == ScheduleAssignment.booking_id)
            .where(ScheduleRun.house_id == run.house_id, ScheduleRun.status == RunStatus.published,
                   Booking.status.in_(LIVE_STATUSES))
        )
    }
    changes = []
    for a in run.assignments:
        booking = published.get(a.operation_id)
        if booking is None:
            change = "new"
        elif (booking.machine_id, booking.start_at, booking.end_at) == (a.machine_id, a.start_at, a.end_at):
            change = "unchanged"
        else:
            change = "moved"
        changes.append({
            "operation_id": a.operation_id, "request_id": a.operation.request_id, "change": change,
            "proposed": {"machine_id": a.machine_id, "start": a.start_at, "end": a.end_at},
            "published": None if booking is None else {
                "booking_id": booking.id, "machine_id": booking.machine_id,
                "start": booking.start_at, "end": booking.end_at},
        })
    return changes
