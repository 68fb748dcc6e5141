"""A solution back into the run: its assignments (in pieces where a step pauses), the KPIs,
and why the latest plan left a request out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import solver
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestStatus,
    RunStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services.solving.names import machine_id_of, operation_of, request_id_of
from factoryshare.services.solving.problem import policies_of
from solver.check import objective_terms, objective_value


def _request_ids_without_machines(
    session: Session, run: ScheduleRun, problem: dict[str, Any]
) -> list[int]:
    if run.purpose == "replan":
        return []  # a re-plan places only the work a downtime hit, never the open requests
    placed = {request_id_of(j["id"]) for j in problem["jobs"]}
    # Their ids only: the worker stores this after every solve, and needs no request objects.
    return [
        request_id
        for request_id in session.scalars(
            select(ProductionRequest.id).where(
                ProductionRequest.house_id == run.house_id,
                ProductionRequest.status == RequestStatus.open,
                ProductionRequest.earliest_start < run.horizon_end,
            )
        )
        if request_id not in placed
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
                    machine_id=machine_id_of(a.machine),
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
    # A machine is busy for the open minutes an operation holds it: a pausable step holds its
    # machine through the nights and closed days it pauses over, which are no open time, so
    # utilisation (busy / open minutes) stays within 0..1, as the week's utilisation does.
    windows = {m.id: problem.windows(m.id) for m in problem.machines}

    def held_open(a: solver.Assignment) -> int:
        return sum(max(0, min(e, a.end) - max(s, a.start)) for s, e in windows.get(a.machine, ()))

    busy: dict[str, int] = defaultdict(int)
    for a in solution.assignments:
        busy[a.machine] += held_open(a)
    utilisation = {}
    for m in problem.machines:
        open_minutes = sum(e - s for s, e in windows[m.id])
        utilisation[m.id] = round(busy[m.id] / open_minutes, 4) if open_minutes else 0.0
    owner_of = {o.id: j.owner for j in problem.jobs for o in j.operations}
    hours: dict[str, int] = defaultdict(int)
    for a in solution.assignments:
        hours[owner_of[a.operation] or "unknown"] += held_open(a)
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
