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
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import solver
from factoryshare.models import Machine, MachineStatus
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

# Lateness dominates; the makespan only breaks ties between equally punctual schedules.
OBJECTIVE = {"weighted_tardiness": 100, "makespan": 1}


def _minute(start: dt.datetime, t: dt.datetime, *, up: bool) -> int:
    seconds = (t - start).total_seconds()
    whole = int(seconds // 60)
    return whole + 1 if up and seconds % 60 else whole


def published_bookings(session: Session, operation_ids: list[int]) -> dict[int, Booking]:
    """The booking each operation got from the latest published run that placed it."""
    found: dict[int, Booking] = {}
    rows = session.execute(
        select(ScheduleAssignment.operation_id, Booking)
        .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
        .join(Booking, Booking.id == ScheduleAssignment.booking_id)
        .where(ScheduleAssignment.operation_id.in_(operation_ids),
               ScheduleRun.status == RunStatus.published)
        .order_by(ScheduleRun.id.desc()))
    for operation_id, booking in rows:
        found.setdefault(operation_id, booking)
    return found


def _replan_operations(session: Session, run: ScheduleRun, request: ProductionRequest
                       ) -> tuple[list[RequestOperation], int, dict[int, Booking]]:
    """The operations of a hit request to place again (those whose published booking has not
    started, or was cancelled), the minute they may start from, and their old bookings."""
    bookings = published_bookings(session, [op.id for op in request.operations])
    start = run.horizon_start
    release = 0
    again: list[RequestOperation] = []
    for op in request.operations:
        booking = bookings.get(op.id)
        started = (booking is not None and booking.status in LIVE_STATUSES
                   and booking.start_at < start)
        if started and not again:
            release = max(release, _minute(start, booking.end_at, up=True) + op.min_lag_minutes)
            continue
        again.append(op)
    return again, release, bookings


def build_problem(session: Session, run: ScheduleRun) -> dict[str, Any]:
    start, end = run.horizon_start, run.horizon_end
    settings = dict(run.policies or {})
    replan = run.purpose == "replan"
    horizon = _minute(start, end, up=False)
    machines = list(session.scalars(
        select(Machine).where(Machine.house_id == run.house_id, Machine.status == MachineStatus.active)
        .order_by(Machine.id)))
    problem_machines = []
    for m in machines:
        windows = []
        for ws, we in calendar.open_windows(session, run.house, start, end, machine=m):
            s, e = max(0, _minute(start, ws, up=True)), min(horizon, _minute(start, we, up=False))
            if e > s:
                windows.append([s, e])
        problem_machines.append({"id": f"machine-{m.id}", "open": windows})
    if replan:
        requests = list(session.scalars(select(ProductionRequest).where(
            ProductionRequest.id.in_(settings.get("requests") or []),
            ProductionRequest.house_id == run.house_id,
            ProductionRequest.status == RequestStatus.scheduled).order_by(ProductionRequest.id)))
    else:
        requests = list(session.scalars(select(ProductionRequest).where(
            ProductionRequest.house_id == run.house_id, ProductionRequest.status == RequestStatus.open,
            ProductionRequest.earliest_start < end).order_by(ProductionRequest.id)))
    moving: dict[int, tuple[list[RequestOperation], int]] = {}
    previous: list[dict[str, Any]] = []
    replaced_bookings: set[int] = set()
    for request in requests:
        if not replan:
            moving[request.id] = (list(request.operations), 0)
            continue
        again, release, old = _replan_operations(session, run, request)
        if not again:
            continue
        moving[request.id] = (again, release)
        for op in again:
            booking = old.get(op.id)
            if booking is None:
                continue
            replaced_bookings.add(booking.id)
            s_min = _minute(start, booking.start_at, up=False)
            if 0 <= s_min and booking.machine_id in {m.id for m in machines}:
                previous.append({"operation": f"operation-{op.id}", "machine": f"machine-{booking.machine_id}",
                                 "start": s_min, "end": _minute(start, booking.end_at, up=True)})
    fixed = []
    machine_ids = [m.id for m in machines]
    for b in session.scalars(select(Booking).where(
            Booking.machine_id.in_(machine_ids), Booking.status.in_(LIVE_STATUSES),
            Booking.start_at < end, Booking.end_at > start).order_by(Booking.id)):
        if b.id in replaced_bookings:
            continue  # this work is being placed again
        s, e = max(0, _minute(start, b.start_at, up=False)), min(horizon, _minute(start, b.end_at, up=True))
        if e > s:
            fixed.append({"id": f"booking-{b.id}", "machine": f"machine-{b.machine_id}", "start": s, "end": e})
    by_capability: dict[int, list[Machine]] = defaultdict(list)
    for m in machines:
        for c in m.capabilities:
            by_capability[c.id].append(m)
    jobs = []
    families: dict[str, str] = {}
    for request in requests:
        if request.id not in moving:
            continue
        ops, release_after = moving[request.id]
        operations = []
        for op in ops:
            operations.append({
                "id": f"operation-{op.id}",
                **({"min_lag": op.min_lag_minutes} if op.min_lag_minutes else {}),
                "modes": [{"machine": f"machine-{m.id}", "duration": op.minutes}
                          for m in by_capability.get(op.capability_id, [])],
            })
        if any(not o["modes"] for o in operations):
            # No active machine can do a step: the request cannot be placed in this house now;
            # it stays open and the run's report names it.
            continue
        jobs.append({
            "id": f"request-{request.id}", "owner": f"member-{request.member_id}",
            "release": max(0, _minute(start, request.earliest_start, up=True), release_after),
            "due": max(0, _minute(start, request.due, up=False)),
            "deadline": permits.deadline_minute(session, request.product, request.earliest_start, start),
            "weight": request.priority, "operations": operations,
        })
        if request.product.family:
            families[f"request-{request.id}"] = request.product.family
    problem = {"format": "factoryshare-problem/1", "name": f"house-{run.house_id}-run-{run.id}",
               "horizon": horizon, "machines": problem_machines, "fixed": fixed, "jobs": jobs,
               "objective": OBJECTIVE}
    settings["resolved"] = _resolve_policies(settings, problem, machines, families, previous, replan)
    run.policies = settings
    return problem


# A re-plan weighs each minute an operation moves like this many minutes of weighted
# lateness would weigh (see OBJECTIVE), so lateness still wins over staying put.
REPLAN_STABILITY_WEIGHT = 10


def _resolve_policies(settings: dict[str, Any], problem: dict[str, Any], machines: list[Machine],
                      families: dict[str, str], previous: list[dict[str, Any]],
                      replan: bool) -> dict[str, Any]:
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
            caps.append({"name": code, "machines": group, "max_minutes": capacity * int(percent) // 100})
        resolved["share_caps"] = caps
    if replan and previous:
        resolved["stability"] = {"weight": int(settings.get("stability_weight") or REPLAN_STABILITY_WEIGHT),
                                 "machine_change": 60, "previous": previous}
    return resolved


def policies_of(run: ScheduleRun) -> solver.Policies:
    """The solver policies resolved for a run when its problem was built."""
    resolved = (run.policies or {}).get("resolved") or {}
    setup = resolved.get("setup")
    stability = resolved.get("stability")
    return solver.Policies(
        setup=solver.FamilySetup(families=dict(setup["families"]), minutes=int(setup["minutes"]))
        if setup else None,
        share_caps=tuple(solver.ShareCap(machines=tuple(c["machines"]), max_minutes=int(c["max_minutes"]),
                                         name=c["name"]) for c in resolved.get("share_caps", [])),
        stability=solver.Stability(
            previous=tuple(solver.Assignment(p["operation"], p["machine"], p["start"], p["end"])
                           for p in stability["previous"]),
            weight=int(stability["weight"]), machine_change=int(stability["machine_change"]))
        if stability else None,
    )


def _request_ids_without_machines(session: Session, run: ScheduleRun, problem: dict[str, Any]) -> list[int]:
    if run.purpose == "replan":
        return []  # a re-plan places only the work a downtime hit, never the open requests
    placed = {int(j["id"].split("-")[1]) for j in problem["jobs"]}
    return [r.id for r in session.scalars(select(ProductionRequest).where(
        ProductionRequest.house_id == run.house_id, ProductionRequest.status == RequestStatus.open,
        ProductionRequest.earliest_start < run.horizon_end)) if r.id not in placed]


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
            .where(ScheduleRun.house_id == house_id, ScheduleRun.purpose == "plan",
                   ScheduleRun.status.in_([RunStatus.succeeded, RunStatus.published]))
            .order_by(ScheduleRun.id.desc()).limit(1)).first()
        if run is None:
            continue
        figures = run.kpis or {}
        for request_id in figures.get("requests_without_machine") or []:
            if request_id in waiting:
                why[request_id] = "no_machine"
        for item in figures.get("unscheduled") or []:
            request_id = int(item["job"].split("-")[1])  # build_problem names jobs request-<id>
            if request_id in waiting:
                kind = item.get("kind")
                why.setdefault(request_id, kind if kind in WHY_NOT_PLACED else "unknown")
    return why


def store_solution(session: Session, run: ScheduleRun, problem: solver.Problem,
                   solution: solver.Solution) -> None:
    """Keep the solution, its assignments in UTC and the KPIs on the run."""
    start = run.horizon_start
    run.solution = solver.solution_to_dict(solution)
    run.assignments = [
        ScheduleAssignment(operation_id=int(a.operation.split("-")[1]), machine_id=int(a.machine.split("-")[1]),
                           start_at=start + dt.timedelta(minutes=a.start), end_at=start + dt.timedelta(minutes=a.end))
        for a in solution.assignments
    ]
    figures = kpis(problem, solution)
    figures["requests_without_machine"] = _request_ids_without_machines(session, run, run.problem or {})
    run.kpis = figures


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
        "unscheduled": [{"job": u.job, "reason": u.reason, "kind": u.kind} for u in solution.unscheduled],
        "on_time_share": round(len(on_time) / len(scheduled), 4) if scheduled else None,
        "weighted_tardiness": solution.terms.get("weighted_tardiness"),
        "makespan_minutes": solution.terms.get("makespan"),
        "utilisation": utilisation,
        "member_share_of_hours": {k: round(v / total, 4) for k, v in sorted(hours.items())},
    }
