"""Schedule runs: a manager queues a solve of the house's open requests; workers run it.

This module holds the queue side: queue, read, list and discard. A run answers at once with
status `queued`; a worker (factoryshare/worker.py) claims it.

Publishing and discarding lock the run's row first and read its status after the lock
(factoryshare/locking.py): of a publish and a discard at once one wins, the other answers
409 `invalid_transition`, and bookings exist only if the publish won.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Select, false
from sqlalchemy.orm import Session, joinedload, selectinload

from factoryshare import audit, clock, i18n, locking
from factoryshare.access import Actor, get_scoped, register_scope, scoped
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun

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
        raise ValidationFailed(
            N_("Give a date and time with its offset."),
            errors={field: [N_("Give a date and time with its offset.")]},
        )
    return value.astimezone(dt.UTC)


def _house_managed(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    actor.require(Role.admin, Role.manager)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise Forbidden(N_("Only this house's managers may schedule it."))
    return house


def queue_run(session: Session, actor: Actor, house_id: int, data: dict[str, Any]) -> ScheduleRun:
    house = _house_managed(session, actor, house_id)
    start = _aware("horizon_start", data["horizon_start"])
    end = _aware("horizon_end", data["horizon_end"])
    if end <= start:
        raise ValidationFailed(
            N_("The horizon must end after it starts."),
            errors={"horizon_end": [N_("Must be after horizon_start.")]},
        )
    if end - start > MAX_HORIZON:
        raise ValidationFailed(
            N_("The horizon may be at most 62 days."),
            errors={"horizon_end": [N_("At most 62 days after horizon_start.")]},
        )
    limit = data.get("time_limit_seconds", 10)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_TIME_LIMIT:
        raise ValidationFailed(
            N_("The time limit is out of range."),
            errors={
                "time_limit_seconds": [
                    N_("Between 1 and %(max_time_limit)s.", max_time_limit=MAX_TIME_LIMIT)
                ]
            },
        )
    policies = {}
    setup = data.get("family_setup_minutes") or 0
    if not isinstance(setup, int) or not 0 <= setup <= MAX_SETUP_MINUTES:
        raise ValidationFailed(
            N_("The cleaning time between product families is out of range."),
            errors={
                "family_setup_minutes": [
                    N_("Between 0 and %(max_setup_minutes)s.", max_setup_minutes=MAX_SETUP_MINUTES)
                ]
            },
        )
    if setup:
        policies["family_setup_minutes"] = setup
    cap = data.get("share_cap_percent")
    if cap is not None:
        if not isinstance(cap, int) or not 1 <= cap <= 100:
            raise ValidationFailed(
                N_("A member's share cap is a percentage from 1 to 100."),
                errors={"share_cap_percent": [N_("Between 1 and 100.")]},
            )
        policies["share_cap_percent"] = cap
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=start,
        horizon_end=end,
        time_limit_seconds=limit,
        status=RunStatus.queued,
        attempts=0,
        requested_by_id=actor.user_id,
        purpose="plan",
        policies=policies,
    )
    session.add(run)
    session.flush()
    audit.record(session, actor, "schedule_run.queued", run, after=audit.snapshot(run))
    return run


def queue_replan(
    session: Session,
    actor: Actor,
    downtime: Any,
    hit: list[Any],
    now: dt.datetime | None = None,
    *,
    house_id: int | None = None,
    cause: dict[str, Any] | None = None,
) -> ScheduleRun | None:
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
    from factoryshare.models.scheduling import (
        ProductionRequest,
        RequestOperation,
        ScheduleAssignment,
    )

    solver_booking_ids = [b.id for b in hit if b.source is BookingSource.solver]
    if not solver_booking_ids:
        return None
    requests = list(
        session.scalars(
            select(ProductionRequest)
            .join(RequestOperation, RequestOperation.request_id == ProductionRequest.id)
            .join(ScheduleAssignment, ScheduleAssignment.operation_id == RequestOperation.id)
            .where(ScheduleAssignment.booking_id.in_(solver_booking_ids))
            .distinct()
        )
    )
    if not requests:
        return None
    now = now or clock.now()
    # Nothing can be placed in the past, nor before the requests may start.
    start = max(
        now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1),
        min(r.earliest_start for r in requests),
    )
    latest = max(
        [r.due for r in requests]
        + [b.end_at for b in hit]
        + ([downtime.end_at] if downtime is not None else [])
    )
    end = min(start + MAX_HORIZON, max(latest, start) + dt.timedelta(days=7))
    if downtime is not None:
        house_id, cause = downtime.machine.house_id, {"downtime_id": downtime.id}
    run = ScheduleRun(
        house_id=house_id,
        horizon_start=start,
        horizon_end=end,
        time_limit_seconds=REPLAN_TIME_LIMIT,
        status=RunStatus.queued,
        attempts=0,
        requested_by_id=actor.user_id,
        purpose="replan",
        policies={
            "requests": sorted(r.id for r in requests),
            "hit_bookings": sorted(solver_booking_ids),
            **(cause or {}),
        },
    )
    session.add(run)
    session.flush()
    audit.record(session, actor, "schedule_run.queued", run, after=audit.snapshot(run))
    return run


def queue_again(
    session: Session, actor: Actor, run_id: int, now: dt.datetime | None = None
) -> ScheduleRun:
    """Queue a fresh run asked for like this one (a stale run, typically): the same purpose,
    policies, time limit and horizon end, starting no earlier than now."""
    old = get_scoped(session, actor, ScheduleRun, run_id)
    _house_managed(session, actor, old.house_id)
    now = now or clock.now()
    start = max(old.horizon_start, now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1))
    if old.horizon_end <= start:
        raise Conflict(
            N_("This run's horizon has passed; queue a new run for the days ahead."),
            code="horizon_passed",
            details={"run_id": old.id},
        )
    policies = {k: v for k, v in (old.policies or {}).items() if k != "resolved"}
    run = ScheduleRun(
        house_id=old.house_id,
        horizon_start=start,
        horizon_end=old.horizon_end,
        time_limit_seconds=old.time_limit_seconds,
        status=RunStatus.queued,
        attempts=0,
        requested_by_id=actor.user_id,
        purpose=old.purpose,
        policies={**policies, "again_of": old.id},
    )
    session.add(run)
    session.flush()
    audit.record(session, actor, "schedule_run.queued", run, after=audit.snapshot(run))
    return run


def get_run(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    return get_scoped(session, actor, ScheduleRun, run_id)


def list_runs(
    session: Session, actor: Actor, *, house_id: int | None = None, status: str | None = None
) -> Select[tuple[ScheduleRun]]:
    stmt = scoped(actor, ScheduleRun)
    if house_id is not None:
        stmt = stmt.where(ScheduleRun.house_id == house_id)
    if status is not None:
        stmt = stmt.where(ScheduleRun.status == RunStatus(status))
    # What a list shows of each run, loaded with the page instead of row by row.
    stmt = stmt.options(
        joinedload(ScheduleRun.house),
        selectinload(ScheduleRun.assignments).joinedload(ScheduleAssignment.operation),
    )
    return stmt.order_by(ScheduleRun.created_at.desc(), ScheduleRun.id.desc())


def list_house_runs(session: Session, actor: Actor, house_id: int) -> Select[tuple[ScheduleRun]]:
    _house_managed(session, actor, house_id)
    return list_runs(session, actor, house_id=house_id)


DISCARDABLE = (
    RunStatus.queued,
    RunStatus.running,
    RunStatus.succeeded,
    RunStatus.failed,
    RunStatus.stale,
)


def discard_run(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    run = locking.for_update(session, actor, ScheduleRun, run_id)
    actor.require(Role.admin, Role.manager)
    locking.require_state(
        run,
        DISCARDABLE,
        N_("A %(status)s run cannot be discarded.", status=i18n.status(run.status)),
        action="discard",
    )
    before = audit.snapshot(run)
    run.status = RunStatus.discarded
    session.flush()
    audit.record(
        session, actor, "schedule_run.discarded", run, before=before, after=audit.snapshot(run)
    )
    return run


def _grid(run: ScheduleRun) -> int:
    """The slot grid the run was solved on, in minutes (1: none)."""
    return int((run.problem or {}).get("grid") or 1)


def _booked_end(run: ScheduleRun, a: Any) -> dt.datetime:
    """Until when a published assignment holds its machine: its end, rounded up to the grid
    the run was solved on (counted from the horizon start, as the solver counts), so that a
    booking of it lies on the house's slot grid like a member's."""
    grid = _grid(run)
    if grid <= 1:
        return a.end_at
    minutes = -(-int((a.end_at - run.horizon_start).total_seconds()) // 60)
    return run.horizon_start + dt.timedelta(minutes=-(-minutes // grid) * grid)


def _changes(
    session: Session, run: ScheduleRun
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The run's proposal against what is published for its operations now.

    For each assignment: `new` (nothing live is published for the operation), `moved` or
    `unchanged`, with the live booking of the latest published run that placed it. Then the
    `dropped` ones: operations the run was asked to place (its problem's jobs) whose live
    published booking the proposal no longer holds (a re-plan that could not place them).
    """
    from factoryshare.models.bookings import LIVE_STATUSES
    from factoryshare.services.solving import operation_of, published_pieces

    # Keyed by (operation, lot, piece): each lot of a request in lots, and each piece of a step
    # that pauses overnight, is booked on its own.
    asked_ops = {
        operation_of(op["id"])
        for job in (run.problem or {}).get("jobs", [])
        for op in job.get("operations", [])
    }
    proposed = {(a.operation_id, a.lot, a.piece) for a in run.assignments}
    published = {
        key: b
        for key, b in published_pieces(
            session, sorted({key[0] for key in proposed} | {op for op, _lot in asked_ops})
        ).items()
        if b.status in LIVE_STATUSES
    }
    asked = sorted(
        (key for key in published if key[:2] in asked_ops),
        key=lambda k: (k[0], k[1] or 0, k[2] or 0),
    )
    changes = []
    for a in run.assignments:
        booking = published.get((a.operation_id, a.lot, a.piece))
        if booking is None:
            change = "new"
        elif (booking.machine_id, booking.start_at, booking.end_at) == (
            a.machine_id,
            a.start_at,
            _booked_end(run, a),
        ):
            change = "unchanged"
        else:
            change = "moved"
        changes.append(
            {
                "assignment": a,
                "operation_id": a.operation_id,
                "lot": a.lot,
                "piece": a.piece,
                "request_id": a.operation.request_id,
                "change": change,
                "booking": booking,
            }
        )
    dropped = [
        {"operation_id": key[0], "lot": key[1], "piece": key[2], "booking": published[key]}
        for key in asked
        if key not in proposed
    ]
    return changes, dropped


# A change of the published schedule: a booking made, moved or cancelled (an expired hold is
# cancelled too). A confirmation or a note changes nothing the solver saw.
_SCHEDULE_CHANGES = ("booking.created", "booking.moved", "booking.cancelled")


def changed_since_solve(session: Session, run: ScheduleRun) -> list[dict[str, Any]]:
    """The bookings of the run's house and horizon made, moved or cancelled after its problem
    was built (its `started_at`), oldest change first, each once: `booking_id`, `change`
    (created, moved or cancelled) and `at`."""
    from sqlalchemy import select

    from factoryshare.models import AuditEvent

    if run.started_at is None:
        return []
    found: dict[int, dict[str, Any]] = {}
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.house_id == run.house_id,
            AuditEvent.object_type == "bookings",
            AuditEvent.action.in_(_SCHEDULE_CHANGES),
            AuditEvent.at > run.started_at,
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    for event in events:
        before, after = event.before or {}, event.after or {}
        spans = [
            (v.get("machine_id"), v.get("start_at"), v.get("end_at")) for v in (before, after) if v
        ]
        if event.action == "booking.moved" and len(set(spans)) < 2:
            continue  # only the note changed
        inside = False
        for _machine, start, end in spans:
            if (
                start
                and end
                and (
                    dt.datetime.fromisoformat(start) < run.horizon_end
                    and dt.datetime.fromisoformat(end) > run.horizon_start
                )
            ):
                inside = True
        if not inside or not event.object_id.isdigit():
            continue
        change = {
            "booking.created": "created",
            "booking.moved": "moved",
            "booking.cancelled": "cancelled",
        }[event.action]
        found.setdefault(
            int(event.object_id),
            {"booking_id": int(event.object_id), "change": change, "at": event.at},
        )
    return list(found.values())


def _mark_stale(
    session: Session, actor: Actor, run: ScheduleRun, changed: list[dict[str, Any]]
) -> None:
    before = audit.snapshot(run)
    run.status = RunStatus.stale
    session.flush()
    audit.record(
        session,
        actor,
        "schedule_run.outdated",
        run,
        before=before,
        after=audit.snapshot(run, extra={"changed_bookings": [c["booking_id"] for c in changed]}),
    )


class StaleRun(Conflict):
    """409 stale_run: the run is marked stale, and that mark is meant to be kept. The service
    has changed nothing else when it raises this, so the caller commits before answering."""

    code = "stale_run"


def publish_run(
    session: Session, actor: Actor, run_id: int, *, now: dt.datetime | None = None
) -> ScheduleRun:
    """Apply a run's change list to the published schedule, all or nothing.

    First, if the published schedule of the run's house and horizon changed after the run was
    solved (a booking made, moved or cancelled since), nothing is published: the run becomes
    `stale` and this raises StaleRun (409 `stale_run`) naming those bookings; the manager
    queues a fresh run. Else, per operation (see `diff_run`): an unchanged booking keeps its
    id and times; a moved one is moved (one `booking.move` audit event, one `booking_moved`
    event for the member); a new one is booked; a dropped one (the run was asked to place it
    and did not) is cancelled with the reason. Every booking made or moved passes the same
    checks as a member's booking (bookings.check_slot); one that does not refuses the whole
    publish with 409 naming the assignment, so the manager re-runs instead of publishing half
    a plan.
    """
    from factoryshare.models import Machine
    from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
    from factoryshare.models.scheduling import ProductionRequest, RequestStatus
    from factoryshare.services import bookings as booking_service
    from factoryshare.services.calendar import house_zone

    run = locking.for_update(session, actor, ScheduleRun, run_id)
    _house_managed(session, actor, run.house_id)
    locking.require_state(
        run,
        (RunStatus.succeeded,),
        N_(
            "Only a succeeded run can be published; this one is %(status)s.",
            status=i18n.status(run.status),
        ),
        action="publish",
    )
    now = now or clock.now()
    changed = changed_since_solve(session, run)
    if changed:
        _mark_stale(session, actor, run, changed)
        ids = [c["booking_id"] for c in changed]
        raise StaleRun(
            N_(
                "The published schedule changed after schedule run %(run)s was solved "
                "(bookings %(bookings)s); queue a fresh run.",
                run=run.id,
                bookings=", ".join(map(str, ids)),
            ),
            details={
                "run_id": run.id,
                "booking_ids": ids,
                "changes": [
                    {"booking_id": c["booking_id"], "change": c["change"]} for c in changed
                ],
            },
        )
    before = audit.snapshot(run)
    replan = run.purpose == "replan"
    expected = RequestStatus.scheduled if replan else RequestStatus.open
    # Two runs of one house proposing the same request: lock the requests (in id order) so that
    # only the first publish finds them open.
    locking.rows_for_update(
        session, ProductionRequest, {a.operation.request_id for a in run.assignments}
    )
    for a in run.assignments:
        request = a.operation.request
        if request.status is not expected:
            raise Conflict(
                N_(
                    "Production request %(id)s is %(status)s now; run the schedule again.",
                    id=request.id,
                    status=i18n.status(request.status),
                ),
                code="request_not_open",
                details={"request_id": request.id},
            )
    changes, dropped = _changes(session, run)
    zone = house_zone(run.house)
    # A run solved on the house's slot grid books on it and is checked against it.
    on_grid = _grid(run) > 1
    why = (
        N_("re-planned by schedule run %(run)s", run=run.id)
        if replan
        else N_("planned by schedule run %(run)s", run=run.id)
    )

    def refused(a: Any, err: Any) -> Conflict:
        machine = session.get(Machine, a.machine_id)
        where = (
            f"{machine.name if machine else a.machine_id}, "
            f"{booking_service.house_moment(run.house, a.start_at)}"
        )
        # The refusal as the manager needs it (not the member's "choose another slot").
        reason = (
            N_("The machine is booked at that time.")
            if err.code == "booking_conflict"
            else err.message
        )
        return Conflict(
            N_(
                "Request %(request_id)s step %(position)s (%(where)s) can no longer be booked: "
                "%(reason)s Queue a fresh run.",
                request_id=a.operation.request_id,
                position=a.operation.position,
                where=where,
                reason=reason,
            ),
            code=err.code,
            errors=err.errors,
            details={
                **err.details,
                "operation_id": a.operation_id,
                "lot": a.lot,
                "request_id": a.operation.request_id,
                "machine_id": a.machine_id,
                "start": a.start_at.astimezone(zone).isoformat(),
                "end": a.end_at.astimezone(zone).isoformat(),
            },
        )

    # All or nothing also for a caller that goes on after the 409: the whole change list is
    # applied inside one SAVEPOINT.
    with session.begin_nested():
        for item in dropped:
            booking_service.cancel_loaded_booking(
                session, actor, item["booking"], N_("%(why)s: no longer in the plan", why=why)
            )
        moving = [c for c in changes if c["change"] == "moved"]
        # The moved bookings give up their old slots first (under their row locks), so that
        # the plan may hand one's old slot to another; each then takes its new slot after the
        # same checks as any booking.
        for c in moving:
            booking = locking.refresh_for_update(session, c["booking"])
            locking.require_state(
                booking,
                (BookingStatus.held, BookingStatus.confirmed),
                N_("A %(status)s booking cannot be moved.", status=i18n.status(booking.status)),
                action="move",
            )
            c["before"], c["status"] = audit.snapshot(booking), booking.status
            booking.status = BookingStatus.cancelled  # only while the plan is applied
        session.flush()
        for c in changes:
            a = c["assignment"]
            request = a.operation.request
            machine = session.get(Machine, a.machine_id)
            assert machine is not None
            if c["change"] == "unchanged":
                a.booking_id = c["booking"].id
                continue
            if c["change"] == "moved":
                booking = c["booking"]
                try:
                    booking_service.move_loaded_booking(
                        session,
                        actor,
                        booking,
                        machine,
                        a.start_at,
                        _booked_end(run, a),
                        now=now,
                        before=c["before"],
                        placed_by_plan=True,
                        on_grid=on_grid,
                        reason=why,
                        status=c["status"],
                    )
                except (Conflict, ValidationFailed) as err:
                    raise refused(a, err) from None
                a.booking_id = booking.id
                continue
            product = request.product
            end = _booked_end(run, a)
            try:
                booking_service.check_slot(
                    session,
                    machine,
                    request.member_id,
                    a.start_at,
                    end,
                    now=now,
                    product=product,
                    placed_by_plan=True,
                    on_grid=on_grid,
                )
            except (Conflict, ValidationFailed) as err:
                raise refused(a, err) from None
            booking = Booking(
                machine_id=machine.id,
                member_id=request.member_id,
                product_id=request.product_id,
                start_at=a.start_at,
                end_at=end,
                status=BookingStatus.confirmed,
                source=BookingSource.solver,
                hourly_rate=machine.hourly_rate,
                price=booking_service.price_for(machine, a.start_at, end),
                note=N_(
                    "Production request %(request)s, step %(step)s",
                    request=request.id,
                    step=a.operation.position,
                ),
                created_by_id=actor.user_id,
                created_at=now,
                updated_at=now,
            )
            try:
                booking_service.flush_guarded(session, functools.partial(session.add, booking))
            except Conflict as err:
                raise refused(a, err) from None
            audit.record(session, actor, "booking.created", booking, after=audit.snapshot(booking))
            a.booking_id = booking.id
        for request in {
            a.operation.request_id: a.operation.request for a in run.assignments
        }.values():
            request.status = RequestStatus.scheduled
        run.status = RunStatus.published
        session.flush()
    counts = {
        kind: sum(1 for c in changes if c["change"] == kind)
        for kind in ("new", "moved", "unchanged")
    }
    audit.record(
        session,
        actor,
        "schedule_run.published",
        run,
        before=before,
        after=audit.snapshot(
            run,
            extra={
                "bookings": [a.booking_id for a in run.assignments],
                "cancelled": [d["booking"].id for d in dropped],
                **counts,
            },
        ),
    )
    _tell_members(session, actor, run, changes)
    return run


def _tell_members(
    session: Session, actor: Actor, run: ScheduleRun, changes: list[dict[str, Any]]
) -> None:
    """Each member hears what the plan placed (a request with a new booking; a moved one is
    told by its own `booking_moved`) and, for a plan, what it left out and why."""
    from factoryshare.events import publish
    from factoryshare.models.bookings import Booking
    from factoryshare.models.scheduling import ProductionRequest, RequestStatus

    placed: dict[int, list[Any]] = {}
    for c in changes:
        if c["change"] == "new":
            placed.setdefault(c["request_id"], [])
    for a in run.assignments:
        if a.operation.request_id in placed:
            placed[a.operation.request_id].append(session.get(Booking, a.booking_id))
    for request_id, made in sorted(placed.items()):
        publish(
            session,
            "request_placed",
            request=session.get(ProductionRequest, request_id),
            run=run,
            actor=actor,
            bookings=made,
        )
    if run.purpose != "plan":
        return
    figures = run.kpis or {}
    from factoryshare.services.solving import request_id_of

    left_out = {
        request_id_of(item["job"]): item.get("kind") or "unknown"
        for item in figures.get("unscheduled") or []
    }
    left_out.update({rid: "no_machine" for rid in figures.get("requests_without_machine") or []})
    for request_id, why in sorted(left_out.items()):
        request = session.get(ProductionRequest, request_id)
        if request is not None and request.status is RequestStatus.open:
            publish(session, "request_left_out", request=request, run=run, actor=actor, why=why)


def problem_of(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """The exact problem a run solved, so that it can be replayed with `factoryshare solve`."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    if run.problem is None:
        raise Conflict(N_("This run has not been solved yet."), code="run_not_solved")
    return run.problem


def diff_run(session: Session, actor: Actor, run_id: int) -> list[dict[str, Any]]:
    """Each proposed operation against what is published for it now: new, moved or unchanged;
    then each operation the run would drop (its published booking is cancelled on publish)."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    changes, dropped = _changes(session, run)

    def slot(booking: Any) -> dict[str, Any] | None:
        return (
            None
            if booking is None
            else {
                "booking_id": booking.id,
                "machine_id": booking.machine_id,
                "start": booking.start_at,
                "end": booking.end_at,
            }
        )

    result = [
        {
            "operation_id": c["operation_id"],
            "lot": c["lot"],
            "request_id": c["request_id"],
            "change": c["change"],
            "proposed": {
                "machine_id": c["assignment"].machine_id,
                "start": c["assignment"].start_at,
                "end": _booked_end(run, c["assignment"]),
            },
            "published": slot(c["booking"]),
        }
        for c in changes
    ]
    from factoryshare.models.scheduling import RequestOperation

    for d in dropped:
        op = session.get(RequestOperation, d["operation_id"])
        result.append(
            {
                "operation_id": d["operation_id"],
                "lot": d["lot"],
                "request_id": op.request_id if op else None,
                "change": "dropped",
                "proposed": None,
                "published": slot(d["booking"]),
            }
        )
    return result
