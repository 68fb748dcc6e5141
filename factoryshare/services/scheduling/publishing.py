"""Publishing a run: its change list applied to the published schedule, all or nothing
(`publish_run`), a run found stale on the way (`StaleRun`), and the members told what the plan
placed and what it left out.

Publishing locks the run's row first and reads its status after the lock
(factoryshare/locking.py): of a publish and a discard at once one wins, the other answers
409 `invalid_transition`, and bookings exist only if the publish won.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy.orm import Session

from factoryshare import audit, clock, i18n, locking
from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services.scheduling.changes import (
    booked_end,
    changed_since_solve,
    proposed_changes,
    solved_grid,
)
from factoryshare.services.scheduling.common import house_managed


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


# The states a run may be published from: solved, its proposal not yet applied.
PUBLISHABLE = (RunStatus.succeeded,)


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
    house_managed(session, actor, run.house_id)
    locking.require_state(
        run,
        PUBLISHABLE,
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
    changes, dropped = proposed_changes(session, run)
    zone = house_zone(run.house)
    # A run solved on the house's slot grid books on it and is checked against it.
    on_grid = solved_grid(run) > 1
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
                        booked_end(run, a),
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
            end = booked_end(run, a)
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
