"""Turning a house into a solver problem, and a solution back into a run's proposal.

Time in the problem is whole minutes from the run's horizon start (UTC). Machines are open
where `calendar.open_windows` says (opening hours less holidays, closures and downtimes);
live bookings are fixed time; each open request is a job whose operations may run on every
active machine of the house with the operation's capability.
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
    RequestStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services import calendar

# Lateness dominates; the makespan only breaks ties between equally punctual schedules.
OBJECTIVE = {"weighted_tardiness": 100, "makespan": 1}


def _minute(start: dt.datetime, t: dt.datetime, *, up: bool) -> int:
    seconds = (t - start).total_seconds()
    whole = int(seconds // 60)
    return whole + 1 if up and seconds % 60 else whole


def build_problem(session: Session, run: ScheduleRun) -> dict[str, Any]:
    start, end = run.horizon_start, run.horizon_end
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
    fixed = []
    machine_ids = [m.id for m in machines]
    for b in session.scalars(select(Booking).where(
            Booking.machine_id.in_(machine_ids), Booking.status.in_(LIVE_STATUSES),
            Booking.start_at < end, Booking.end_at > start).order_by(Booking.id)):
        s, e = max(0, _minute(start, b.start_at, up=False)), min(horizon, _minute(start, b.end_at, up=True))
        if e > s:
            fixed.append({"id": f"booking-{b.id}", "machine": f"machine-{b.machine_id}", "start": s, "end": e})
    by_capability: dict[int, list[Machine]] = defaultdict(list)
    for m in machines:
        for c in m.capabilities:
            by_capability[c.id].append(m)
    jobs = []
    for request in session.scalars(select(ProductionRequest).where(
            ProductionRequest.house_id == run.house_id, ProductionRequest.status == RequestStatus.open,
            ProductionRequest.earliest_start < end).order_by(ProductionRequest.id)):
        operations = []
        for op in request.operations:
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
            "release": max(0, _minute(start, request.earliest_start, up=True)),
            "due": max(0, _minute(start, request.due, up=False)), "deadline": None,
            "weight": request.priority, "operations": operations,
        })
    return {"format": "factoryshare-problem/1", "name": f"house-{run.house_id}-run-{run.id}",
            "horizon": horizon, "machines": problem_machines, "fixed": fixed, "jobs": jobs,
            "objective": OBJECTIVE}


def _request_ids_without_machines(session: Session, run: ScheduleRun, problem: dict[str, Any]) -> list[int]:
    placed = {int(j["id"].split("-")[1]) for j in problem["jobs"]}
    return [r.id for r in session.scalars(select(ProductionRequest).where(
        ProductionRequest.house_id == run.house_id, ProductionRequest.status == RequestStatus.open,
        ProductionRequest.earliest_start < run.horizon_end)) if r.id not in placed]


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
        "seconds": round(solution.seconds, 3),
        "jobs": len(problem.jobs),
        "scheduled": len(scheduled),
        "unscheduled": [{"job": u.job, "reason": u.reason} for u in solution.unscheduled],
        "on_time_share": round(len(on_time) / len(scheduled), 4) if scheduled else None,
        "weighted_tardiness": solution.terms.get("weighted_tardiness"),
        "makespan_minutes": solution.terms.get("makespan"),
        "utilisation": utilisation,
        "member_share_of_hours": {k: round(v / total, 4) for k, v in sorted(hours.items())},
    }
