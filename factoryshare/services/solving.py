"""Turning a house into a solver problem, and a solution back into a run's proposal.

Time in the problem is whole minutes from the run's horizon start (UTC). Machines are open
where `calendar.open_windows` says (opening hours less holidays, closures and downtimes);
live bookings are fixed time; each open request is a job whose operations may run on every
active machine of the house with the operation's capability.

A re-plan (after a downtime hit published work) makes jobs of the hit requests only: their
operations not yet started are placed again, everything else stays fixed, and stability keeps
each re-placed operation as close as it can to where it was published.

Policies the run was asked for are resolved here, next to the problem, into plain data kept
on the run (`policies["resolved"]`), so the worker and any replay use exactly the same rules.

Real houses (see README "Solver format: fields for real houses"):
- a step whose capability is `pausable` may pause while its machine is closed;
- the problem is on the house's slot grid (`grid` = slot_minutes; the horizon start is moved
  up to the next slot of the house's day, so time 0 is on it) and the published bookings sit
  on the same grid as members' own;
- each machine's `cost_per_hour` is its hourly rate; the cost only breaks ties (OBJECTIVE);
- a request in lots (`lot_size`) is one job per lot, `request-<id>-lot-<n>`, its operations
  `operation-<op id>-lot-<n>` (job_id / operation_key; request_of_job / operation_of read them
  back); a request is placed only when every lot is;
- in a re-plan, published work starting within the house's `frozen_hours` is frozen.
"""

from __future__ import annotations

import dataclasses
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
    RunStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services import calendar, permits
from solver.check import objective_terms, objective_value

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


# ---------------------------------------------------------------------------------------------
# Names in the problem. ONE place encodes and reads them: request-<id>[-lot-<n>] for a job,
# operation-<id>[-lot-<n>] for an operation (n from 1; no suffix: the request in one lot).


def job_id(request_id: int, lot: int | None = None) -> str:
    return f"request-{request_id}" + (f"-lot-{lot}" if lot else "")


def operation_key(operation_id: int, lot: int | None = None) -> str:
    return f"operation-{operation_id}" + (f"-lot-{lot}" if lot else "")


def _read(name: str) -> tuple[int, int | None]:
    parts = str(name).split("-")
    lot = int(parts[3]) if len(parts) >= 4 and parts[2] == "lot" else None
    return int(parts[1]), lot


def request_of_job(job: str) -> tuple[int, int | None]:
    """(request id, lot or None) of a job id made by job_id."""
    return _read(job)


def request_id_of(job: str) -> int:
    return _read(job)[0]


def operation_of(key: str) -> tuple[int, int | None]:
    """(request operation id, lot or None) of an operation id made by operation_key."""
    return _read(key)


def lot_quantities(request: ProductionRequest) -> list[int]:
    """The quantity of each lot: the request's quantity in as few lots of at most `lot_size` as
    it takes, as even as they can be (500 in lots of at most 120: five of 100)."""
    size = request.lot_size
    if not size or request.quantity <= size:
        return [request.quantity]
    count = -(-request.quantity // size)
    base, extra = divmod(request.quantity, count)
    return [base + 1] * extra + [base] * (count - extra)


def lot_minutes(request: ProductionRequest, op: RequestOperation, quantity: int) -> int:
    """Minutes of `op` for a lot of `quantity` units: its setup again, plus its run time per unit."""
    if quantity >= request.quantity:
        return op.minutes
    setup = op.setup_minutes or 0
    per_unit = (op.minutes - setup) / request.quantity
    return max(1, setup + round(per_unit * quantity))


def request_lots(request: ProductionRequest) -> list[tuple[int | None, int]]:
    """(lot number or None, quantity) for each lot of the request."""
    quantities = lot_quantities(request)
    if len(quantities) == 1:
        return [(None, quantities[0])]
    return list(enumerate(quantities, start=1))


def house_grid(house: Any) -> int:
    """The slot grid a house's problems are solved on (1 when its slot does not divide a day)."""
    slot = int(house.slot_minutes or 1)
    return slot if slot > 1 and (24 * 60) % slot == 0 else 1


def _grid_start(house: Any, start: dt.datetime, grid: int) -> dt.datetime:
    """The first instant at or after `start` on the house's slot grid (local midnight + k slots)."""
    if grid <= 1:
        return start
    local = start.astimezone(calendar.house_zone(house))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = (local - midnight).total_seconds()
    slots = -(-int(seconds) // (grid * 60))
    return (midnight + dt.timedelta(minutes=slots * grid)).astimezone(dt.UTC)


def _minute(start: dt.datetime, t: dt.datetime, *, up: bool) -> int:
    seconds = (t - start).total_seconds()
    whole = int(seconds // 60)
    return whole + 1 if up and seconds % 60 else whole


def published_pieces(
    session: Session, operation_ids: list[int]
) -> dict[tuple[int, int | None, int | None], Booking]:
    """The booking of each (operation, lot, piece) from the latest published run that placed
    that operation's lot (a step that pauses overnight is booked in pieces, see _pieces)."""
    found: dict[tuple[int, int | None, int | None], Booking] = {}
    latest: dict[tuple[int, int | None], int] = {}
    rows = session.execute(
        select(
            ScheduleAssignment.run_id,
            ScheduleAssignment.operation_id,
            ScheduleAssignment.lot,
            ScheduleAssignment.piece,
            Booking,
        )
        .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
        .join(Booking, Booking.id == ScheduleAssignment.booking_id)
        .where(
            ScheduleAssignment.operation_id.in_(operation_ids),
            ScheduleRun.status == RunStatus.published,
        )
        .order_by(ScheduleRun.id.desc())
    )
    for run_id, operation_id, lot, piece, booking in rows:
        if latest.setdefault((operation_id, lot), run_id) == run_id:
            found[(operation_id, lot, piece)] = booking
    return found


def published_lot_bookings(
    session: Session, operation_ids: list[int]
) -> dict[tuple[int, int | None], list[Booking]]:
    """The bookings (its pieces, in time order) each (operation, lot) got from the latest
    published run that placed it."""
    found: dict[tuple[int, int | None], list[Booking]] = defaultdict(list)
    for (operation_id, lot, _piece), booking in published_pieces(session, operation_ids).items():
        found[(operation_id, lot)].append(booking)
    return {key: sorted(bookings, key=lambda b: b.start_at) for key, bookings in found.items()}


def published_bookings(session: Session, operation_ids: list[int]) -> dict[int, Booking]:
    """The booking each operation got from the latest published run that placed it."""
    found: dict[int, Booking] = {}
    rows = session.execute(
        select(ScheduleAssignment.operation_id, Booking)
        .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
        .join(Booking, Booking.id == ScheduleAssignment.booking_id)
        .where(
            ScheduleAssignment.operation_id.in_(operation_ids),
            ScheduleRun.status == RunStatus.published,
        )
        .order_by(ScheduleRun.id.desc())
    )
    for operation_id, booking in rows:
        found.setdefault(operation_id, booking)
    return found


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
            release = max(release, _minute(start, end_at, up=True) + op.min_lag_minutes)
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
    aligned = _grid_start(run.house, run.horizon_start, grid)
    if aligned != run.horizon_start and aligned < run.horizon_end:
        run.horizon_start = aligned
    start, end = run.horizon_start, run.horizon_end
    now = now or run.started_at or utcnow()
    settings = dict(run.policies or {})
    replan = run.purpose == "replan"
    horizon = _minute(start, end, up=False)
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
    problem_machines = []
    for m in machines:
        windows = []
        for ws, we in calendar.open_windows(
            session, run.house, start, end, closures=closures, downtimes=downtimes[m.id]
        ):
            s, e = max(0, _minute(start, ws, up=True)), min(horizon, _minute(start, we, up=False))
            if e > s:
                windows.append([s, e])
        problem_machines.append(
            {
                "id": f"machine-{m.id}",
                "open": windows,
                **({"cost_per_hour": int(m.hourly_rate)} if m.hourly_rate else {}),
            }
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
                s_min = _minute(start, booking.start_at, up=False)
                if s_min >= 0 and booking.machine_id in machine_ids:
                    previous.append(
                        {
                            "operation": operation_key(op.id, lot),
                            "machine": f"machine-{booking.machine_id}",
                            "start": s_min,
                            "end": _minute(start, pieces[-1].end_at, up=True),
                        }
                    )
                    if (
                        all(b.status in LIVE_STATUSES and b.id not in hit for b in pieces)
                        and booking.start_at < frozen_until
                    ):
                        frozen[(op.id, lot)] = {
                            "machine": f"machine-{booking.machine_id}",
                            "start": s_min,
                        }
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
        if b.id in replaced_bookings:
            continue  # this work is being placed again
        s, e = (
            max(0, _minute(start, b.start_at, up=False)),
            min(horizon, _minute(start, b.end_at, up=True)),
        )
        if e > s:
            fixed.append(
                {
                    "id": f"booking-{b.id}",
                    "machine": f"machine-{b.machine_id}",
                    "start": s,
                    "end": e,
                }
            )
    by_capability: dict[int, list[Machine]] = defaultdict(list)
    for m in machines:
        for c in m.capabilities:
            by_capability[c.id].append(m)
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
                operations.append(
                    {
                        "id": operation_key(op.id, lot),
                        **({"min_lag": op.min_lag_minutes} if op.min_lag_minutes else {}),
                        **({"pausable": True} if op.capability.pausable else {}),
                        "modes": [
                            {
                                "machine": f"machine-{m.id}",
                                "duration": lot_minutes(request, op, quantity),
                            }
                            for m in by_capability[op.capability_id]
                        ],
                        **(
                            {"frozen": frozen[key]}
                            if key in frozen
                            and frozen[key]["machine"]
                            in {f"machine-{m.id}" for m in by_capability[op.capability_id]}
                            else {}
                        ),
                    }
                )
            jobs.append(
                {
                    "id": job_id(request.id, lot),
                    "owner": f"member-{request.member_id}",
                    "release": max(
                        0, _minute(start, request.earliest_start, up=True), release_after
                    ),
                    "due": max(0, _minute(start, request.due, up=False)),
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
                groups[c.code].append(f"machine-{m.id}")
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


def _request_ids_without_machines(
    session: Session, run: ScheduleRun, problem: dict[str, Any]
) -> list[int]:
    if run.purpose == "replan":
        return []  # a re-plan places only the work a downtime hit, never the open requests
    placed = {request_id_of(j["id"]) for j in problem["jobs"]}
    return [
        r.id
        for r in session.scalars(
            select(ProductionRequest).where(
                ProductionRequest.house_id == run.house_id,
                ProductionRequest.status == RequestStatus.open,
                ProductionRequest.earliest_start < run.horizon_end,
            )
        )
        if r.id not in placed
    ]


# Why the latest plan left a request out, as a member is told it (see solver.UNSCHEDULED_KINDS):
# no_machine when no active machine of the house has a capability its routing needs.
WHY_NOT_PLACED = ("no_machine",) + solver.UNSCHEDULED_KINDS


def why_not_placed(session: Session, requests: list[ProductionRequest]) -> dict[int, str]:
    """For each of these open requests that the latest finished plan of its house left out,
    why (one of WHY_NOT_PLACED). The caller passes requests it was allowed to load."""
    waiting = {r.id: r for r in requests if r.status == RequestStatus.open}
    why: dict[int, str] = {}
    for house_id in {r.house_id for r in waiting.values()}:
        run = session.scalars(
            select(ScheduleRun)
            .where(
                ScheduleRun.house_id == house_id,
                ScheduleRun.purpose == "plan",
                ScheduleRun.status.in_([RunStatus.succeeded, RunStatus.published]),
            )
            .order_by(ScheduleRun.id.desc())
            .limit(1)
        ).first()
        if run is None:
            continue
        figures = run.kpis or {}
        for request_id in figures.get("requests_without_machine") or []:
            if request_id in waiting:
                why[request_id] = "no_machine"
        for item in figures.get("unscheduled") or []:
            request_id = request_id_of(item["job"])
            if request_id in waiting:
                kind = item.get("kind")
                why.setdefault(request_id, kind if kind in WHY_NOT_PLACED else "unknown")
    return why


def store_solution(
    session: Session, run: ScheduleRun, problem: solver.Problem, solution: solver.Solution
) -> None:
    """Keep the solution, its assignments in UTC and the KPIs on the run.

    A request in lots is placed only when every lot is: if the solver left a lot out, the other
    lots of that request are left out too (with that lot's reason), so that publishing never
    books half an order."""
    start = run.horizon_start
    left_out = {request_id_of(u.job): u for u in solution.unscheduled}
    dropped: list[solver.Unscheduled] = []
    for j in problem.jobs:
        rid = request_id_of(j.id)
        if rid in left_out and j.id not in {u.job for u in solution.unscheduled}:
            u = left_out[rid]
            dropped.append(solver.Unscheduled(j.id, u.reason, u.kind))
    if dropped:
        gone = {
            o.id for j in problem.jobs if j.id in {d.job for d in dropped} for o in j.operations
        }
        kept = tuple(a for a in solution.assignments if a.operation not in gone)
        policies = policies_of(run)
        terms = objective_terms(problem, {a.operation: a for a in kept}, policies)
        objective = objective_value(problem, terms, policies)
        # No longer the solver's own plan: whether it is optimal is not known.
        solution = dataclasses.replace(
            solution,
            assignments=kept,
            unscheduled=solution.unscheduled + tuple(dropped),
            terms=terms,
            objective=objective,
            cost=terms["cost"],
            bound=None,
            status=solver.Status.feasible
            if solution.status == solver.Status.optimal
            else solution.status,
        )
    run.solution = solver.solution_to_dict(solution)
    assignments = []
    for a in solution.assignments:
        operation_id, lot = operation_of(a.operation)
        pieces = _pieces(problem, a)
        for number, (s, e) in enumerate(pieces, start=1):
            assignments.append(
                ScheduleAssignment(
                    operation_id=operation_id,
                    lot=lot,
                    piece=number if len(pieces) > 1 else None,
                    machine_id=int(a.machine.split("-")[1]),
                    start_at=start + dt.timedelta(minutes=s),
                    end_at=start + dt.timedelta(minutes=e),
                )
            )
    run.assignments = assignments
    figures = kpis(problem, solution)
    figures["requests_without_machine"] = _request_ids_without_machines(
        session, run, run.problem or {}
    )
    # On time over every request of the run: one left out (unscheduled, no machine) is not.
    from factoryshare.services.run_review import solved_on_time_share

    figures["on_time_share"] = solved_on_time_share(
        problem, solution, figures["requests_without_machine"]
    )
    run.kpis = figures


def _pieces(problem: solver.Problem, a: solver.Assignment) -> list[tuple[int, int]]:
    """The stretches of open time an assignment works in: one, [start, end), unless it pauses
    while its machine is closed; then one per open window it works in (the first from its start,
    the last to its end), each booked on its own so that every booking lies inside the opening
    hours and on the grid like a member's, and is priced for the open time only."""
    windows = problem.windows(a.machine)
    if any(ws <= a.start and a.end <= we for ws, we in windows):
        return [(a.start, a.end)]
    grid = problem.grid
    pieces = []
    for ws, we in windows:
        s, e = max(ws, a.start), min(we, a.end)
        if e <= s:
            continue
        s = -(-s // grid) * grid  # a window opening off the grid: from its next slot
        if e < a.end:
            e = e // grid * grid  # and one closing off it: to its last
        if e > s:
            pieces.append((s, e))
    return pieces or [(a.start, a.end)]


def _duration(problem: solver.Problem, a: solver.Assignment) -> int:
    for j in problem.jobs:
        for o in j.operations:
            if o.id == a.operation:
                return next(m.duration for m in o.modes if m.machine == a.machine)
    return a.end - a.start


def kpis(problem: solver.Problem, solution: solver.Solution) -> dict[str, Any]:
    ends = {a.operation: a.end for a in solution.assignments}
    scheduled = [j for j in problem.jobs if j.operations[-1].id in ends]
    on_time = [j for j in scheduled if j.due is None or ends[j.operations[-1].id] <= j.due]
    busy: dict[str, int] = defaultdict(int)
    for a in solution.assignments:
        busy[a.machine] += a.end - a.start
    utilisation = {}
    for m in problem.machines:
        open_minutes = sum(e - s for s, e in problem.windows(m.id))
        utilisation[m.id] = round(busy[m.id] / open_minutes, 4) if open_minutes else 0.0
    owner_of = {o.id: j.owner for j in problem.jobs for o in j.operations}
    hours: dict[str, int] = defaultdict(int)
    for a in solution.assignments:
        hours[owner_of[a.operation] or "unknown"] += a.end - a.start
    total = sum(hours.values()) or 1
    return {
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": round(solution.gap, 4) if solution.gap is not None else None,
        "seconds": round(solution.seconds, 3),
        "jobs": len(problem.jobs),
        "scheduled": len(scheduled),
        "unscheduled": [
            {"job": u.job, "reason": u.reason, "kind": u.kind} for u in solution.unscheduled
        ],
        # Over all jobs: a job left out is not on time (store_solution counts per request).
        "on_time_share": round(len(on_time) / len(problem.jobs), 4) if problem.jobs else None,
        "weighted_tardiness": solution.terms.get("weighted_tardiness"),
        "makespan_minutes": solution.terms.get("makespan"),
        "utilisation": utilisation,
        "member_share_of_hours": {k: round(v / total, 4) for k, v in sorted(hours.items())},
        # The plan's machine cost in rupiah (each operation's minutes at its machine's rate).
        "cost": solution.cost
        if solution.cost is not None
        else sum(
            solver.operation_cost(_duration(problem, a), problem.machine(a.machine).cost_per_hour)
            for a in solution.assignments
        ),
    }
