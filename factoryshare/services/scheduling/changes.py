"""A run's proposal against the published schedule: per operation `new`, `moved`,
`unchanged` or `dropped` (`proposed_changes`, `diff_run`), where a published booking of it
ends (`booked_end`, on the slot grid the run was solved on), and the bookings of the run's
house and horizon made, moved or cancelled since it was solved (`changed_since_solve`: a
publish then refuses and marks the run stale).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from factoryshare.access import Actor, get_scoped
from factoryshare.models.scheduling import ScheduleRun


def solved_grid(run: ScheduleRun) -> int:
    """The slot grid the run was solved on, in minutes (1: none)."""
    return int((run.problem or {}).get("grid") or 1)


def booked_end(run: ScheduleRun, a: Any) -> dt.datetime:
    """Until when a published assignment holds its machine: its end, rounded up to the grid
    the run was solved on (counted from the horizon start, as the solver counts), so that a
    booking of it lies on the house's slot grid like a member's."""
    grid = solved_grid(run)
    if grid <= 1:
        return a.end_at
    minutes = -(-int((a.end_at - run.horizon_start).total_seconds()) // 60)
    return run.horizon_start + dt.timedelta(minutes=-(-minutes // grid) * grid)


def proposed_changes(
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
            booked_end(run, a),
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


def diff_run(session: Session, actor: Actor, run_id: int) -> list[dict[str, Any]]:
    """Each proposed operation against what is published for it now: new, moved or unchanged;
    then each operation the run would drop (its published booking is cancelled on publish)."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    changes, dropped = proposed_changes(session, run)

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
                "end": booked_end(run, c["assignment"]),
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
