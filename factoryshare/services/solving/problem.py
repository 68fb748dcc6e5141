"""A house as a solver problem: `build_problem` reads the house's machines, calendar, live
bookings and open (or, in a re-plan, hit) requests, and resolves the run's policies into plain
data on the run (`policies["resolved"]`), which `policies_of` turns into the solver's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

import solver
from factoryshare.db import utcnow
from factoryshare.models import Downtime, HouseClosure, Machine, MachineStatus
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestOperation,
    RequestStatus,
    ScheduleRun,
)
from factoryshare.services import calendar, permits
from factoryshare.services.solving.names import (
    grid_start,
    house_grid,
    job_id,
    lot_minutes,
    machine_name,
    minute,
    operation_key,
    request_lots,
)
from factoryshare.services.solving.published import published_lot_bookings

# The objective is one sum (solver/model.py): weighted_tardiness x (priority x minutes late)
# + makespan x minutes + cost x rupiah of machine time. Weighed in rupiah (cost = 1): a minute
# of weighted lateness is worth Rp1.000.000, a minute of makespan Rp10.000. Lateness dominates:
# a minute late outweighs ~66 hours on a Rp15.000/h dearer machine (the demo's spread between
# two machines of one capability); the makespan breaks ties between equally punctual plans,
# and the cost chooses the cheaper of two free machines when neither is later (a minute of
# makespan outweighs ~40 minutes at that spread). The ratio tardiness : makespan is 100 : 1 as
# before; a 62-day horizon keeps the objective far below 2^53.
OBJECTIVE_SCALE = 10_000
OBJECTIVE = {"weighted_tardiness": 100 * OBJECTIVE_SCALE, "makespan": OBJECTIVE_SCALE, "cost": 1}


def machine_entries(
    session: Session,
    house: Any,
    machines: list[Machine],
    start: dt.datetime,
    end: dt.datetime,
    *,
    closures: list[HouseClosure] | None = None,
    downtimes: dict[int, list[Downtime]] | None = None,
) -> list[dict[str, Any]]:
    """The problem's machines over [start, end): each one's open minutes (calendar.open_windows)
    and its hourly rate as `cost_per_hour`. Given `closures` and `downtimes` (read once by the
    caller for every machine), nothing more is read; else the calendar reads each machine's."""
    horizon = minute(start, end, up=False)
    entries = []
    for m in machines:
        if downtimes is None:
            open_ = calendar.open_windows(session, house, start, end, machine=m)
        else:
            open_ = calendar.open_windows(
                session, house, start, end, closures=closures, downtimes=downtimes.get(m.id, [])
            )
        windows = []
        for ws, we in open_:
            s, e = max(0, minute(start, ws, up=True)), min(horizon, minute(start, we, up=False))
            if e > s:
                windows.append([s, e])
        entries.append(
            {
                "id": machine_name(m.id),
                "open": windows,
                **({"cost_per_hour": int(m.hourly_rate)} if m.hourly_rate else {}),
            }
        )
    return entries


def fixed_entries(
    session: Session,
    machine_ids: set[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    leave_out: set[int] | frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    """The live bookings on `machine_ids` within [start, end) as the problem's fixed time, on
    whole minutes that cover them (but those in `leave_out`: work being placed again)."""
    horizon = minute(start, end, up=False)
    fixed = []
    for b in session.scalars(
        select(Booking)
        .where(
            Booking.machine_id.in_(sorted(machine_ids)),
            Booking.status.in_(LIVE_STATUSES),
            Booking.start_at < end,
            Booking.end_at > start,
        )
        .order_by(Booking.id)
    ):
        if b.id in leave_out:
            continue
        s = max(0, minute(start, b.start_at, up=False))
        e = min(horizon, minute(start, b.end_at, up=True))
        if e > s:
            fixed.append(
                {
                    "id": f"booking-{b.id}",
                    "machine": machine_name(b.machine_id),
                    "start": s,
                    "end": e,
                }
            )
    return fixed


def _replan_operations(
    session: Session,
    run: ScheduleRun,
    request: ProductionRequest,
    bookings: dict[tuple[int, int | None], list[Booking]],
    lot: int | None,
) -> tuple[list[RequestOperation], int]:
    """The operations of a hit request's lot to place again (those whose published booking has
    not started, or was cancelled) and the minute they may start from."""
    start = run.horizon_start
    release = 0
    again: list[RequestOperation] = []
    for op in request.operations:
        pieces = bookings.get((op.id, lot)) or []
        booking = pieces[0] if pieces else None
        started = (
            booking is not None and booking.status in LIVE_STATUSES and booking.start_at < start
        )
        if started and not again:
            end_at = max(b.end_at for b in pieces)
            release = max(release, minute(start, end_at, up=True) + op.min_lag_minutes)
            continue
        again.append(op)
    return again, release


# A run's requests with what its problem reads of them: operations, their capabilities, products.
_REQUEST_LOADS = (
    selectinload(ProductionRequest.operations).joinedload(RequestOperation.capability),
    joinedload(ProductionRequest.product),
)


def build_problem(
    session: Session, run: ScheduleRun, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The run's problem (factoryshare-problem/1). The horizon start moves up to the house's
    slot grid first. `now` (default: when the run started) is where a re-plan's frozen window
    begins."""
    grid = house_grid(run.house)
    aligned = grid_start(run.house, run.horizon_start, grid)
    if aligned != run.horizon_start and aligned < run.horizon_end:
        run.horizon_start = aligned
    start, end = run.horizon_start, run.horizon_end
    now = now or run.started_at or utcnow()
    settings = dict(run.policies or {})
    replan = run.purpose == "replan"
    horizon = minute(start, end, up=False)
    # Each kind of row is read once for the whole problem, whatever the number of machines
    # and requests: machines with their capabilities, the closures, every machine's downtimes.
    machines = list(
        session.scalars(
            select(Machine)
            .where(Machine.house_id == run.house_id, Machine.status == MachineStatus.active)
            .options(selectinload(Machine.capabilities))
            .order_by(Machine.id)
        )
    )
    zone = calendar.house_zone(run.house)
    closures = list(
        session.scalars(
            select(HouseClosure).where(
                HouseClosure.house_id == run.house_id,
                HouseClosure.start_on <= end.astimezone(zone).date(),
                HouseClosure.end_on >= start.astimezone(zone).date(),
            )
        )
    )
    downtimes: dict[int, list[Downtime]] = defaultdict(list)
    for d in session.scalars(
        select(Downtime)
        .where(
            Downtime.machine_id.in_([m.id for m in machines]),
            Downtime.start_at < end,
            Downtime.end_at > start,
        )
        .order_by(Downtime.start_at)
    ):
        downtimes[d.machine_id].append(d)
    problem_machines = machine_entries(
        session, run.house, machines, start, end, closures=closures, downtimes=downtimes
    )
    if replan:
        requests = list(
            session.scalars(
                select(ProductionRequest)
                .where(
                    ProductionRequest.id.in_(settings.get("requests") or []),
                    ProductionRequest.house_id == run.house_id,
                    ProductionRequest.status == RequestStatus.scheduled,
                )
                .order_by(ProductionRequest.id)
                .options(*_REQUEST_LOADS)
            )
        )
    else:
        requests = list(
            session.scalars(
                select(ProductionRequest)
                .where(
                    ProductionRequest.house_id == run.house_id,
                    ProductionRequest.status == RequestStatus.open,
                    ProductionRequest.earliest_start < end,
                )
                .order_by(ProductionRequest.id)
                .options(*_REQUEST_LOADS)
            )
        )
    machine_ids = {m.id for m in machines}
    # Published work in the frozen near future keeps its machine and time (not the bookings a
    # downtime or calendar change hit: those are what the re-plan moves).
    frozen_until = now + dt.timedelta(hours=int(run.house.frozen_hours or 0))
    hit = set(settings.get("hit_bookings") or [])
    # (request id, lot) -> (lot quantity, operations to place, release minute)
    moving: dict[tuple[int, int | None], tuple[int, list[RequestOperation], int]] = {}
    frozen: dict[tuple[int, int | None], dict[str, Any]] = {}
    previous: list[dict[str, Any]] = []
    replaced_bookings: set[int] = set()
    for request in requests:
        lots = request_lots(request)
        if not replan:
            for lot, quantity in lots:
                moving[(request.id, lot)] = (quantity, list(request.operations), 0)
            continue
        old = published_lot_bookings(session, [op.id for op in request.operations])
        for lot, quantity in lots:
            again, release = _replan_operations(session, run, request, old, lot)
            if not again:
                continue
            moving[(request.id, lot)] = (quantity, again, release)
            for op in again:
                pieces = old.get((op.id, lot)) or []
                if not pieces:
                    continue
                booking = pieces[0]
                replaced_bookings.update(b.id for b in pieces)
                s_min = minute(start, booking.start_at, up=False)
                if s_min >= 0 and booking.machine_id in machine_ids:
                    previous.append(
                        {
                            "operation": operation_key(op.id, lot),
                            "machine": machine_name(booking.machine_id),
                            "start": s_min,
                            "end": minute(start, pieces[-1].end_at, up=True),
                        }
                    )
                    if (
                        all(b.status in LIVE_STATUSES and b.id not in hit for b in pieces)
                        and booking.start_at < frozen_until
                    ):
                        frozen[(op.id, lot)] = {
                            "machine": machine_name(booking.machine_id),
                            "start": s_min,
                        }
    # Live bookings are fixed time, but for the work being placed again.
    fixed = fixed_entries(session, machine_ids, start, end, leave_out=replaced_bookings)
    by_capability: dict[int, list[Machine]] = defaultdict(list)
    for m in machines:
        for c in m.capabilities:
            by_capability[c.id].append(m)
    # The problem's names of the machines of each capability, made once for every operation.
    names_of = {c: [machine_name(m.id) for m in ms] for c, ms in by_capability.items()}
    jobs = []
    families: dict[str, str] = {}
    # The permits' deadline per product and start: the requirements of every product at once,
    # then a product's permits only when requirements apply to it.
    requirements = permits.requirements_of(session, [r.product for r in requests])
    deadlines: dict[tuple[int, dt.datetime], int | None] = {}

    def deadline(request: ProductionRequest) -> int | None:
        wanted = requirements.get(request.product_id)
        if not wanted:
            return None
        key = (request.product_id, max(request.earliest_start, start))
        if key not in deadlines:
            deadlines[key] = permits.deadline_minute(
                session, request.product, request.earliest_start, start, requirements=wanted
            )
        return deadlines[key]

    for request in requests:
        planned = [
            (lot, moving[(request.id, lot)])
            for lot, _q in request_lots(request)
            if (request.id, lot) in moving
        ]
        if not planned:
            continue
        if any(
            not by_capability.get(op.capability_id) for _lot, (_q, ops, _r) in planned for op in ops
        ):
            # No active machine can do a step: the request cannot be placed in this house now;
            # it stays open and the run's report names it.
            continue
        for lot, (quantity, ops, release_after) in planned:
            operations = []
            for op in ops:
                key = (op.id, lot)
                names = names_of[op.capability_id]
                duration = lot_minutes(request, op, quantity)  # the same on every machine
                operations.append(
                    {
                        "id": operation_key(op.id, lot),
                        **({"min_lag": op.min_lag_minutes} if op.min_lag_minutes else {}),
                        **({"pausable": True} if op.capability.pausable else {}),
                        "modes": [{"machine": name, "duration": duration} for name in names],
                        **(
                            {"frozen": frozen[key]}
                            if key in frozen and frozen[key]["machine"] in names
                            else {}
                        ),
                    }
                )
            jobs.append(
                {
                    "id": job_id(request.id, lot),
                    "owner": f"member-{request.member_id}",
                    "release": max(
                        0, minute(start, request.earliest_start, up=True), release_after
                    ),
                    "due": max(0, minute(start, request.due, up=False)),
                    "deadline": deadline(request),
                    "weight": request.priority,
                    "operations": operations,
                }
            )
            if request.product.family:
                families[job_id(request.id, lot)] = request.product.family
    problem = {
        "format": "factoryshare-problem/1",
        "name": f"house-{run.house_id}-run-{run.id}",
        "horizon": horizon,
        "machines": problem_machines,
        "fixed": fixed,
        "jobs": jobs,
        "objective": dict(OBJECTIVE),
        **({"grid": grid} if grid > 1 else {}),
    }
    settings["resolved"] = _resolve_policies(
        settings, problem, machines, families, previous, replan
    )
    run.policies = settings
    return problem


# A re-plan weighs each minute an operation moves like a tenth of a minute of weighted
# lateness (see OBJECTIVE), so lateness still wins over staying put.
REPLAN_STABILITY_WEIGHT = 10 * OBJECTIVE_SCALE


def _resolve_policies(
    settings: dict[str, Any],
    problem: dict[str, Any],
    machines: list[Machine],
    families: dict[str, str],
    previous: list[dict[str, Any]],
    replan: bool,
) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    setup = int(settings.get("family_setup_minutes") or 0)
    if setup > 0 and len(set(families.values())) > 1:
        resolved["setup"] = {"minutes": setup, "families": families}
    percent = settings.get("share_cap_percent")
    if percent:
        open_minutes = {m["id"]: sum(e - s for s, e in m["open"]) for m in problem["machines"]}
        caps = []
        groups: dict[str, list[str]] = defaultdict(list)
        for m in machines:
            for c in m.capabilities:
                groups[c.code].append(machine_name(m.id))
        for code, group in sorted(groups.items()):
            capacity = sum(open_minutes.get(g, 0) for g in group)
            caps.append(
                {"name": code, "machines": group, "max_minutes": capacity * int(percent) // 100}
            )
        resolved["share_caps"] = caps
    if replan and previous:
        resolved["stability"] = {
            "weight": int(settings.get("stability_weight") or REPLAN_STABILITY_WEIGHT),
            "machine_change": 60,
            "previous": previous,
        }
    return resolved


def policies_of(run: ScheduleRun) -> solver.Policies:
    """The solver policies resolved for a run when its problem was built."""
    resolved = (run.policies or {}).get("resolved") or {}
    setup = resolved.get("setup")
    stability = resolved.get("stability")
    return solver.Policies(
        setup=solver.FamilySetup(families=dict(setup["families"]), minutes=int(setup["minutes"]))
        if setup
        else None,
        share_caps=tuple(
            solver.ShareCap(
                machines=tuple(c["machines"]), max_minutes=int(c["max_minutes"]), name=c["name"]
            )
            for c in resolved.get("share_caps", [])
        ),
        stability=solver.Stability(
            previous=tuple(
                solver.Assignment(p["operation"], p["machine"], p["start"], p["end"])
                for p in stability["previous"]
            ),
            weight=int(stability["weight"]),
            machine_change=int(stability["machine_change"]),
        )
        if stability
        else None,
    )
