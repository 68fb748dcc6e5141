"""Queueing schedule runs and reading them: a manager queues a solve of the house's open
requests (`queue_run`), a downtime or a change of the house's calendar queues a re-plan of the
published work it hit (`queue_replan`), a stale run is asked for again (`queue_again`); a run
is read, listed, discarded, and its problem given for replay.

A run answers at once with status `queued`; a worker (factoryshare/worker.py) claims it.
Discarding locks the run's row first and reads its status after the lock
(factoryshare/locking.py), as publishing does (publishing.py): of a publish and a discard at
once one wins, the other answers 409 `invalid_transition`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session, joinedload, selectinload

from factoryshare import audit, clock, i18n, locking
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Role
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun
from factoryshare.services.scheduling.common import (
    MAX_HORIZON,
    MAX_SETUP_MINUTES,
    MAX_TIME_LIMIT,
    REPLAN_TIME_LIMIT,
    house_managed,
)


def _aware(field: str, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationFailed(
            N_("Give a date and time with its offset."),
            errors={field: [N_("Give a date and time with its offset.")]},
        )
    return value.astimezone(dt.UTC)


def queue_run(session: Session, actor: Actor, house_id: int, data: dict[str, Any]) -> ScheduleRun:
    house = house_managed(session, actor, house_id)
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
    house_managed(session, actor, old.house_id)
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
    house_managed(session, actor, house_id)
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


def problem_of(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """The exact problem a run solved, so that it can be replayed with `factoryshare solve`."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    if run.problem is None:
        raise Conflict(N_("This run has not been solved yet."), code="run_not_solved")
    return run.problem
