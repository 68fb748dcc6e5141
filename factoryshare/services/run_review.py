"""What a manager reads to judge a plan: a schedule run request by request, a house's
utilisation over a week, and where a production request was placed (or why not).

Per production request of a run (the jobs of its problem, plus the requests no active machine
could make): member, product, quantity, due, planned start and finish (the first start and
the last end of its assignments in this run), lateness in whole minutes (0 when on time) and
machine cost. For a request the run left out: the reason as a kind (solving.WHY_NOT_PLACED,
read from this run's KPIs) and in words, with what would place it. A suggestion is given only
where it follows from the kind:

- `no_machine`: `another_machine` that can do the capabilities no active machine has;
- `no_window` (a step longer than its machines are open in one go): `split` into lots, with
  the largest lot whose every step fits the longest opening of one of its machines when that
  can be computed, and `another_machine` open longer in one go;
- `deadline` (a permit it needs runs out before it can be finished: the only hard deadline a
  plan has): `permit` valid for longer. A later *due* date is not suggested: the due date is
  soft here (a request is placed late rather than left out), so moving it would place nothing;
- `share_cap`: `higher_share_cap` in the next run;
- `capacity` (the machines are full for the run's horizon): `later_due`, a due date after the
  horizon's end planned in a later run (the earliest due that would fit cannot be known from
  this run, so `not_before` is the horizon's end), and `another_machine` of its capabilities;
- `unknown`: nothing.

Machine cost of a request: the sum over its assignments of working minutes x the machine's
hourly rate / 60, each assignment rounded to whole rupiah half to even. Working minutes are
the machine's open minutes inside the assignment (its end minus its start, except for a step
that pauses while the machine is closed, which works only in the open minutes it spans).

On-time share of a run: the requests placed whose last step ends by their due date, over
ALL requests of the run (one left out is not on time).

Utilisation of a house over a week: per active or maintenance machine, the minutes it is open
(opening hours less holidays, closures and downtimes: calendar.open_windows), the minutes of
its bookings inside those open minutes (held, confirmed, completed and no-show: a no-show
still kept the machine from others) and their share.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.access import Actor, get_scoped
from factoryshare.errors import NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Machine, MachineStatus, Member, ProductionHouse, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestOperation,
    RequestStatus,
    RunStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services import calendar, solving

# Bookings that keep a machine from others, for utilisation.
BOOKED_STATUSES = (
    BookingStatus.held,
    BookingStatus.confirmed,
    BookingStatus.completed,
    BookingStatus.no_show,
)
# A machine booked for at least this share of its open time is busy (drawn in the warning
# colour on the utilisation page).
BUSY_SHARE = 0.85


# -- words --------------------------------------------------------------------------------


def why_words(kind: str, *, to_member: bool = False) -> i18n.Message:
    """Why a plan left a request out, in words for its kind, to its member or to a manager."""
    if kind == "no_machine":
        return N_("no machine of the house can do one of its steps.")
    if kind == "no_window":
        return N_(
            "one of its steps takes longer than its machines are open in one go before it is due."
        )
    if kind == "deadline":
        return N_("it cannot be finished by its deadline, or before a permit it needs runs out.")
    if kind == "share_cap":
        return (
            N_("it would take you above your share of the house's scarce machines.")
            if to_member
            else N_("it would take the member above its share of the house's scarce machines.")
        )
    return (
        N_("the machines are taken for the planned period; the manager can plan it in a later run.")
        if to_member
        else N_("the machines are taken for the planned period.")
    )


# -- money and minutes ----------------------------------------------------------------------


def rupiah_for(minutes: int, hourly_rate: int) -> int:
    """minutes x hourly_rate / 60 in whole rupiah, half to even (exact integer arithmetic)."""
    whole, rest = divmod(minutes * hourly_rate, 60)
    if 2 * rest > 60 or (2 * rest == 60 and whole % 2):
        whole += 1
    return whole


def _minute(run: ScheduleRun, t: dt.datetime) -> int:
    return int((t - run.horizon_start).total_seconds() // 60)


def _windows(run: ScheduleRun) -> dict[int, list[tuple[int, int]]]:
    """Each machine's open windows in the run's problem (minutes from its horizon start)."""
    found: dict[int, list[tuple[int, int]]] = {}
    for m in (run.problem or {}).get("machines", []):
        found[int(str(m["id"]).split("-")[1])] = [(int(s), int(e)) for s, e in m.get("open", [])]
    return found


def _working_minutes(
    run: ScheduleRun, a: ScheduleAssignment, windows: dict[int, list[tuple[int, int]]]
) -> int:
    s, e = _minute(run, a.start_at), _minute(run, a.end_at)
    open_ = windows.get(a.machine_id)
    if not open_:
        return e - s
    inside = sum(max(0, min(e, we) - max(s, ws)) for ws, we in open_)
    return inside or e - s


def _lateness(finish: dt.datetime, due: dt.datetime) -> int:
    seconds = (finish - due).total_seconds()
    return 0 if seconds <= 0 else int(-(-seconds // 60))


def _local(house: ProductionHouse, t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.astimezone(calendar.house_zone(house))


# -- a run, request by request --------------------------------------------------------------


def left_out_of(run: ScheduleRun) -> dict[int, str]:
    """The requests this run left out and why (one of solving.WHY_NOT_PLACED)."""
    figures = run.kpis or {}
    why: dict[int, str] = {
        rid: "no_machine" for rid in figures.get("requests_without_machine") or []
    }
    for item in figures.get("unscheduled") or []:
        kind = item.get("kind")
        why.setdefault(
            solving.request_id_of(item["job"]),
            kind if kind in solving.WHY_NOT_PLACED else "unknown",
        )
    return why


def _run_request_ids(run: ScheduleRun) -> list[int]:
    ids = {solving.request_id_of(j["id"]) for j in (run.problem or {}).get("jobs", [])}
    ids.update((run.kpis or {}).get("requests_without_machine") or [])
    return sorted(ids)


def _missing_capabilities(session: Session, request: ProductionRequest) -> list[str]:
    have = {
        c.id
        for m in session.scalars(
            select(Machine).where(
                Machine.house_id == request.house_id, Machine.status == MachineStatus.active
            )
        )
        for c in m.capabilities
    }
    return sorted({op.capability.code for op in request.operations if op.capability_id not in have})


def _largest_lot(
    session: Session,
    run: ScheduleRun,
    request: ProductionRequest,
    windows: dict[int, list[tuple[int, int]]],
) -> int | None:
    """The largest quantity whose every step fits the longest opening in one go of one of its
    machines in this run (None: not computable, or a lot of one does not fit either)."""
    machines = list(
        session.scalars(
            select(Machine).where(
                Machine.house_id == request.house_id, Machine.status == MachineStatus.active
            )
        )
    )
    steps = {s.position: s for s in request.product.routing}
    lot: int | None = None
    for op in request.operations:
        longest = max(
            (
                e - s
                for m in machines
                if op.capability_id in {c.id for c in m.capabilities}
                for s, e in windows.get(m.id, [])
            ),
            default=0,
        )
        if op.minutes <= longest:
            continue
        step = steps.get(op.position)
        if step is None or step.minutes_per_unit <= 0 or longest <= step.setup_minutes:
            return None
        fits = (longest - step.setup_minutes) // step.minutes_per_unit
        if fits < 1:
            return None
        lot = fits if lot is None else min(lot, fits)
    return lot if lot is not None and lot < request.quantity else None


def suggestions(
    session: Session,
    run: ScheduleRun,
    request: ProductionRequest,
    kind: str,
    windows: dict[int, list[tuple[int, int]]],
) -> list[dict[str, Any]]:
    """What would place a request this run left out for `kind` (see the module docstring)."""
    codes = sorted({op.capability.code for op in request.operations})
    if kind == "no_machine":
        missing = _missing_capabilities(session, request) or codes
        return [
            {
                "kind": "another_machine",
                "capabilities": missing,
                "words": N_(
                    "A machine that can do %(capabilities)s: no active machine of the house can.",
                    capabilities=", ".join(missing),
                ),
            }
        ]
    if kind == "no_window":
        lot = _largest_lot(session, run, request, windows)
        split: dict[str, Any] = {"kind": "split", "max_lot": lot}
        split["words"] = (
            N_(
                "Split it into lots of at most %(quantity)s, so that each step fits in one opening "
                "of its machines.",
                quantity=lot,
            )
            if lot is not None
            else N_(
                "Split it into smaller lots, so that each step fits in one opening of its machines."
            )
        )
        return [
            split,
            {
                "kind": "another_machine",
                "capabilities": codes,
                "words": N_(
                    "Another machine for %(capabilities)s that is open longer in one go.",
                    capabilities=", ".join(codes),
                ),
            },
        ]
    if kind == "deadline":
        return [
            {
                "kind": "permit",
                "words": N_(
                    "A permit valid for longer: a permit it needs runs out before it can "
                    "be finished."
                ),
            }
        ]
    if kind == "share_cap":
        return [
            {
                "kind": "higher_share_cap",
                "words": N_("A run with a higher share cap for the member."),
            }
        ]
    if kind == "capacity":
        return [
            {
                "kind": "later_due",
                "earliest_due": None,
                "not_before": _local(run.house, run.horizon_end),
                "words": N_(
                    "A due date after %(end)s, planned in a later run: the machines are "
                    "full until then.",
                    end=i18n.moment(run.horizon_end, run.house.timezone),
                ),
            },
            {
                "kind": "another_machine",
                "capabilities": codes,
                "words": N_(
                    "Another machine for %(capabilities)s adds the time it needs.",
                    capabilities=", ".join(codes),
                ),
            },
        ]
    return []


def review_requests(session: Session, run: ScheduleRun) -> list[dict[str, Any]]:
    """The run's production requests with their planned figures (see the module docstring).

    Nothing before the run is solved: a queued or running run has its problem but no plan yet,
    and a request without a placement then would read as "left out"."""
    ids = _run_request_ids(run)
    if not ids or run.solution is None:
        return []
    requests = {
        r.id: r
        for r in session.scalars(select(ProductionRequest).where(ProductionRequest.id.in_(ids)))
    }
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(Member.id.in_({r.member_id for r in requests.values()}))
        )
    }
    machines = (
        {
            m.id: m
            for m in session.scalars(
                select(Machine).where(Machine.id.in_({a.machine_id for a in run.assignments}))
            )
        }
        if run.assignments
        else {}
    )
    by_request: dict[int, list[ScheduleAssignment]] = defaultdict(list)
    for a in run.assignments:
        by_request[a.operation.request_id].append(a)
    why = left_out_of(run)
    windows = _windows(run)
    rows = []
    for rid in ids:
        request = requests.get(rid)
        if request is None:
            continue
        placed = by_request.get(rid, [])
        member = members.get(request.member_id)
        row: dict[str, Any] = {
            "request_id": rid,
            "member": {
                "id": request.member_id,
                "business_name": member.business_name if member else None,
            },
            "product": {"id": request.product_id, "name": request.product.name},
            "quantity": request.quantity,
            "due": _local(run.house, request.due),
            "status": request.status.value,
            "placed": bool(placed) and rid not in why,
            "start": None,
            "finish": None,
            "lateness_minutes": None,
            "machine_cost": 0,
            "on_time": False,
            "why_not": None,
        }
        if placed:
            start = min(a.start_at for a in placed)
            finish = max(a.end_at for a in placed)
            row["start"], row["finish"] = _local(run.house, start), _local(run.house, finish)
            row["machine_cost"] = sum(
                rupiah_for(_working_minutes(run, a, windows), machines[a.machine_id].hourly_rate)
                for a in placed
            )
        if row["placed"]:
            row["lateness_minutes"] = _lateness(max(a.end_at for a in placed), request.due)
            row["on_time"] = row["lateness_minutes"] == 0
        else:
            kind = why.get(rid, "unknown")
            row["why_not"] = {
                "kind": kind,
                "words": why_words(kind),
                "suggestions": suggestions(session, run, request, kind, windows),
            }
        rows.append(row)
    return rows


def on_time_share(rows: list[dict[str, Any]]) -> float | None:
    """On time over every request of the run: a request left out is not on time."""
    return round(sum(1 for r in rows if r["on_time"]) / len(rows), 4) if rows else None


def solved_on_time_share(problem: Any, solution: Any, without_machine: list[int]) -> float | None:
    """The same share from a solved problem (solver.Problem, solver.Solution) and the requests
    no machine could make, for the run's KPIs: a request is on time when every job of it is
    placed and each ends by its due; every request of the run counts."""
    ends = {a.operation: a.end for a in solution.assignments}
    on_time: dict[int, bool] = {}
    for job in problem.jobs:
        rid = solving.request_id_of(job.id)
        end = ends.get(job.operations[-1].id)
        ok = end is not None and (job.due is None or end <= job.due)
        on_time[rid] = on_time.get(rid, True) and ok
    for rid in without_machine:
        on_time[rid] = False
    return round(sum(on_time.values()) / len(on_time), 4) if on_time else None


def review_run(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """A run's requests, its on-time share over all of them and its machine cost."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    rows = review_requests(session, run)
    return {
        "run": run,
        "requests": rows,
        "on_time": sum(1 for r in rows if r["on_time"]),
        "lateness_minutes": sum(r["lateness_minutes"] or 0 for r in rows),
        "on_time_share": on_time_share(rows),
        "machine_cost": sum(r["machine_cost"] for r in rows),
    }


def publish_effects(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """What publishing a run would do now, for the manager to read before confirming: the
    bookings it creates, moves, cancels (work published before that the run no longer holds)
    and leaves unchanged, and the members it tells (a request placed, a booking moved or
    cancelled, and, for a plan, a request left out); and the bookings of its house and horizon
    made, moved or cancelled since it was solved (`changed_since`: publishing would refuse and
    mark it stale, so the manager re-runs instead). Its house's managers only."""
    from factoryshare.services import scheduling

    run = get_scoped(session, actor, ScheduleRun, run_id)
    _house_for_utilisation(session, actor, run.house_id)
    changes = scheduling.diff_run(session, actor, run.id) if run.problem is not None else []
    counts = {
        kind: sum(1 for c in changes if c["change"] == kind)
        for kind in ("new", "moved", "dropped", "unchanged")
    }
    told_requests = {
        c["request_id"]
        for c in changes
        if c["change"] != "unchanged" and c["request_id"] is not None
    }
    if run.purpose == "plan":
        told_requests.update(left_out_of(run))
    member_ids = (
        set(
            session.scalars(
                select(ProductionRequest.member_id).where(ProductionRequest.id.in_(told_requests))
            )
        )
        if told_requests
        else set()
    )
    waiting = run.status in (RunStatus.succeeded, RunStatus.stale)
    return {
        "run_id": run.id,
        "creates": counts["new"],
        "moves": counts["moved"],
        "cancels": counts["dropped"],
        "unchanged": counts["unchanged"],
        "members_told": len(member_ids),
        "changed_since": scheduling.changed_since_solve(session, run) if waiting else [],
    }


def plan_horizon(
    house: ProductionHouse, first_day: dt.date, days: int, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The horizon of a run over `days` local days from `first_day`: from that day's local
    midnight, but never from the past (nothing can be placed before now: it starts at the next
    whole hour at the earliest), to the local midnight after its last day."""
    zone = calendar.house_zone(house)
    midnight = dt.datetime.combine(first_day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    start = max(
        midnight,
        now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1),
    )
    end = dt.datetime.combine(
        first_day + dt.timedelta(days=days), dt.time(0), tzinfo=zone
    ).astimezone(dt.UTC)
    return start, end


def get_run_reviewed(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    """The run with its review attached as `run.review` (a plain attribute, not stored)."""
    review = review_run(session, actor, run_id)
    run = review.pop("run")
    run.review = review
    return run


# -- a production request: placed where, or why not ---------------------------------------


def placement(session: Session, actor: Actor, request: ProductionRequest) -> dict[str, Any]:
    """Where a request (loaded in the caller's scope) was placed: the bookings published runs
    made for it, in its house's time; or, while it waits, why the latest plan left it out."""
    rows = session.scalars(
        select(Booking)
        .join(ScheduleAssignment, ScheduleAssignment.booking_id == Booking.id)
        .join(RequestOperation, RequestOperation.id == ScheduleAssignment.operation_id)
        .where(RequestOperation.request_id == request.id)
        .distinct()
        .order_by(Booking.start_at, Booking.id)
    )
    bookings = [
        {
            "booking_id": b.id,
            "machine_id": b.machine_id,
            "machine_name": b.machine.name,
            "start": _local(request.house, b.start_at),
            "end": _local(request.house, b.end_at),
            "status": b.status.value,
        }
        for b in rows
    ]
    why_not = None
    if request.status is RequestStatus.open:
        kind = solving.why_not_placed(session, [request]).get(request.id)
        if kind is not None:
            why_not = {"kind": kind, "words": why_words(kind, to_member=actor.role is Role.member)}
    return {"bookings": bookings, "why_not": why_not}


def get_request_placed(session: Session, actor: Actor, request_id: int) -> ProductionRequest:
    """The request with `request.placement` attached (a plain attribute, not stored)."""
    request = get_scoped(session, actor, ProductionRequest, request_id)
    request.placement = placement(session, actor, request)  # type: ignore[attr-defined]
    return request


# -- utilisation ------------------------------------------------------------------------------

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def parse_week(value: str) -> dt.date:
    """The Monday of an ISO week written YYYY-Www; 422 naming `week` otherwise."""
    match = _WEEK.fullmatch(value or "")
    try:
        if match is None:
            raise ValueError(value)
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValidationFailed(
            N_("Give the week as YYYY-Www, e.g. 2030-W10."),
            errors={"week": [N_("Give the week as YYYY-Www, e.g. 2030-W10.")]},
        ) from None


def _house_for_utilisation(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    actor.require(Role.admin, Role.manager)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise NotFound(
            N_(
                "%(name)s %(object_id)s was not found.",
                name=i18n.label(ProductionHouse),
                object_id=house_id,
            )
        )
    return house


def _overlap(start: dt.datetime, end: dt.datetime, windows: list[calendar.Window]) -> float:
    return sum(max(0.0, (min(end, we) - max(start, ws)).total_seconds() / 60) for ws, we in windows)


def utilisation_between(
    session: Session, actor: Actor, house_id: int, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Per machine of a house the caller manages, over [start, end): open minutes, booked
    minutes inside them and the share (None when the machine is not open at all)."""
    house = _house_for_utilisation(session, actor, house_id)
    machines = list(
        session.scalars(
            select(Machine)
            .where(Machine.house_id == house.id, Machine.status != MachineStatus.retired)
            .order_by(Machine.id)
        )
    )
    booked_by: dict[int, list[Booking]] = defaultdict(list)
    if machines:
        for b in session.scalars(
            select(Booking).where(
                Booking.machine_id.in_([m.id for m in machines]),
                Booking.status.in_(BOOKED_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
        ):
            booked_by[b.machine_id].append(b)
    rows = []
    for machine in machines:
        windows = calendar.open_windows(session, house, start, end, machine=machine)
        open_minutes = _overlap(start, end, windows)
        booked = sum(_overlap(b.start_at, b.end_at, windows) for b in booked_by[machine.id])
        share = booked / open_minutes if open_minutes else None
        rows.append(
            {
                "machine": machine,
                "open": round(open_minutes),
                "booked": round(booked),
                "share": share,
                "busy": share is not None and share >= BUSY_SHARE,
            }
        )
    return rows


def week_utilisation(session: Session, actor: Actor, house_id: int, week: str) -> dict[str, Any]:
    """Utilisation of a house over an ISO week (YYYY-Www), Monday to Sunday in its time."""
    monday = parse_week(week)
    house = _house_for_utilisation(session, actor, house_id)
    zone = calendar.house_zone(house)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone).astimezone(
        dt.UTC
    )
    rows = utilisation_between(session, actor, house.id, start, end)
    return {
        "house_id": house.id,
        "week": week,
        "start": start.astimezone(zone),
        "end": end.astimezone(zone),
        "machines": [
            {
                "machine_id": r["machine"].id,
                "machine_name": r["machine"].name,
                "open_minutes": r["open"],
                "booked_minutes": r["booked"],
                "share": round(r["share"], 4) if r["share"] is not None else None,
            }
            for r in rows
        ],
    }
