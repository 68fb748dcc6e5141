"""A plain CP-SAT model of a factoryshare problem, as a baseline for the solver benchmark.

What anyone would write from the problem format (shared/benchmarks/README.md) in an afternoon,
with none of solver/'s work: no greedy start, no hint, no horizon tightening, no load cuts, no
search phases. Every job is optional (a presence literal); leaving one out costs more than any
schedule's objective, so CP-SAT places what it can.

- Per operation one start and one end variable; per mode and per open window an optional
  interval (the textbook layout), the start confined to the window so that the operation runs
  inside it; exactly one of them is present when the job is.
- A pausable operation: per mode and per pair of windows (where it starts, where it ends) an
  optional interval whose length is the duration plus the closed minutes between the two
  windows, the start confined to the starts that end in that window.
- The grid: start = grid x slot, and each interval holds the machine until the end rounded up
  to the grid (a constant length once the start is on the grid).
- A frozen operation keeps only its frozen machine and start.
- NoOverlap per machine with the fixed bookings; order with minimum lags; release dates and
  deadlines; weighted tardiness, makespan and machine cost weighted as the problem says.

    python benchmarks/plain_cpsat.py PROBLEM.json --time-limit 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model

import solver
from solver.check import objective_terms, objective_value
from solver.problem import Assignment, Problem, Solution, Unscheduled, operation_cost


def _ceil(value: int, grid: int) -> int:
    return -(-value // grid) * grid


def _floor(value: int, grid: int) -> int:
    return (value // grid) * grid


def _merged(windows) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in windows:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _alternatives(
    problem: Problem, op: solver.Operation, mode: solver.Mode, release: int, latest_end: int
) -> list[tuple[int, int, int]]:
    """(first start, last start, real length) of each way the operation can run on this mode:
    one per window, or for a pausable operation one per (start window, end window) pair."""
    g = problem.grid
    d = mode.duration
    out = []
    if not op.pausable:
        for ws, we in problem.windows(mode.machine):
            lo, hi = _ceil(max(ws, release), g), _floor(min(we, latest_end) - d, g)
            if lo <= hi:
                out.append((lo, hi, d))
        return out
    windows = _merged(problem.windows(mode.machine))
    for i, (ws, we) in enumerate(windows):
        lo = _ceil(max(ws, release), g)
        if lo >= we:
            continue
        # Starting at s in window i it ends in window j when the open minutes from s to the end
        # of window j-1 fall short of d and those to the end of window j do not; `between` is
        # the open minutes of the windows strictly between i and j.
        between = 0
        for j in range(i, len(windows)):
            wsj, wej = windows[j]
            if j == i:
                first, last, closed = lo, we - d, 0
            else:
                first = max(lo, we + between - d + 1)
                last = we + between + (wej - wsj) - d
                closed = (wsj - we) - between
                between += wej - wsj
            if first > we - 1:
                break  # later windows only need later starts still
            first, last = _ceil(first, g), _floor(min(last, we - 1, latest_end - d - closed), g)
            if first <= last:
                out.append((first, last, d + closed))
    return out


def solve_plain(
    problem: Problem,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    deterministic_time: float | None = None,
) -> Solution:
    """`deterministic_time` (CP-SAT's work measure) limits the search besides `time_limit`:
    with one worker the same problem and seed then give the same schedule on any machine."""
    started = time.perf_counter()
    g = problem.grid
    horizon = problem.horizon
    model = cp_model.CpModel()
    intervals: dict[str, list] = defaultdict(list)
    for f in problem.fixed:
        intervals[f.machine].append(
            model.new_fixed_size_interval_var(f.start, f.end - f.start, f"fixed_{f.id}")
        )
    rate = {m.id: m.cost_per_hour for m in problem.machines}
    total_weight = sum(j.weight for j in problem.jobs)
    # Leaving a job out costs more than any schedule (every end is within the horizon).
    most_cost = sum(
        max(operation_cost(m.duration, rate.get(m.machine, 0)) for m in o.modes)
        for j in problem.jobs
        for o in j.operations
    )
    penalty = (
        1
        + problem.horizon
        * (problem.objective.weighted_tardiness * total_weight + problem.objective.makespan)
        + problem.objective.cost * most_cost
    )
    present: dict[str, cp_model.IntVar] = {}
    choice: dict[
        str, list[tuple[cp_model.IntVar, str, int, int]]
    ] = {}  # op -> (lit, machine, real length)
    start_of: dict[str, cp_model.IntVar] = {}
    end_of: dict[str, cp_model.IntVar] = {}
    makespan = model.new_int_var(0, horizon, "makespan")
    tardiness = []
    cost_terms = []
    impossible = set()
    for job in problem.jobs:
        p = model.new_bool_var(f"present_{job.id}")
        present[job.id] = p
        latest_end = horizon if job.deadline is None else min(horizon, job.deadline)
        previous = None
        for op in job.operations:
            start = model.new_int_var(0, horizon, f"s_{op.id}")
            end = model.new_int_var(0, horizon, f"e_{op.id}")
            start_of[op.id], end_of[op.id] = start, end
            if g > 1:
                slot = model.new_int_var(0, horizon // g, f"k_{op.id}")
                model.add(start == g * slot)
            lits = []
            choice[op.id] = []
            for mode in op.modes:
                if op.frozen is not None and mode.machine != op.frozen.machine:
                    continue
                for k, (first, last, length) in enumerate(
                    _alternatives(problem, op, mode, job.release, latest_end)
                ):
                    if op.frozen is not None:
                        if not first <= op.frozen.start <= last:
                            continue
                        first = last = op.frozen.start
                    lit = model.new_bool_var(f"x_{op.id}_{mode.machine}_{k}")
                    model.add(start >= first).only_enforce_if(lit)
                    model.add(start <= last).only_enforce_if(lit)
                    model.add(end == start + length).only_enforce_if(lit)
                    held = _ceil(length, g) if g > 1 else length
                    intervals[mode.machine].append(
                        model.new_optional_fixed_size_interval_var(
                            start, held, lit, f"i_{op.id}_{mode.machine}_{k}"
                        )
                    )
                    lits.append(lit)
                    choice[op.id].append((lit, mode.machine, mode.duration))
                    c = operation_cost(mode.duration, rate.get(mode.machine, 0))
                    if c:
                        cost_terms.append(c * lit)
            if not lits:
                impossible.add(job.id)
            model.add(sum(lits) == p)
            if previous is not None:
                model.add(start >= end_of[previous.id] + op.min_lag).only_enforce_if(p)
            previous = op
        last = end_of[job.operations[-1].id]
        model.add(makespan >= last).only_enforce_if(p)
        if job.due is not None:
            late = model.new_int_var(0, horizon, f"late_{job.id}")
            model.add(late >= last - job.due).only_enforce_if(p)
            tardiness.append(job.weight * late)
    for ivs in intervals.values():
        model.add_no_overlap(ivs)
    objective = (
        problem.objective.weighted_tardiness * sum(tardiness)
        + problem.objective.makespan * makespan
        + penalty * sum(1 - p for p in present.values())
    )
    if problem.objective.cost and cost_terms:
        objective += problem.objective.cost * sum(cost_terms)
    model.minimize(objective)
    build = time.perf_counter() - started

    first: dict[str, float] = {}

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            first.setdefault("t", time.perf_counter() - started)

    cp = cp_model.CpSolver()
    cp.parameters.max_time_in_seconds = time_limit
    cp.parameters.num_workers = workers
    cp.parameters.random_seed = seed
    if deterministic_time is not None:
        cp.parameters.max_deterministic_time = deterministic_time
    status = cp.solve(model, _First())
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solution(
            status="infeasible" if status == cp_model.INFEASIBLE else "unknown",
            objective=None,
            bound=None,
            seconds=seconds,
            assignments=(),
            first_feasible_seconds=None,
            terms={"build_seconds": round(build, 3)},
        )
    assignments = []
    unscheduled = []
    for job in problem.jobs:
        if not cp.boolean_value(present[job.id]):
            why = (
                "no way to run an operation"
                if job.id in impossible
                else "left out by the plain model"
            )
            unscheduled.append(
                Unscheduled(job.id, why, "no_window" if job.id in impossible else "capacity")
            )
            continue
        for op in job.operations:
            machine = next(m for lit, m, _d in choice[op.id] if cp.boolean_value(lit))
            assignments.append(
                Assignment(op.id, machine, cp.value(start_of[op.id]), cp.value(end_of[op.id]))
            )
    by_op = {a.operation: a for a in assignments}
    terms = objective_terms(problem, by_op)
    value = objective_value(problem, terms)
    # The bound in our objective's units only when every job is placed (the penalty dominates).
    bound = int(cp.best_objective_bound) if not unscheduled else None
    return Solution(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        objective=value,
        bound=bound,
        seconds=seconds,
        assignments=tuple(assignments),
        unscheduled=tuple(unscheduled),
        terms={**terms, "build_seconds": round(build, 3)},
        first_feasible_seconds=first.get("t"),
        cost=terms["cost"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problem", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problem = solver.problem_from_dict(json.loads(args.problem.read_text()))
    s = solve_plain(problem, args.time_limit, args.workers, args.seed)
    violations = solver.check(problem, s)
    print(
        f"{problem.name}: {s.status}, objective {s.objective}, bound {s.bound}, "
        f"{len(s.unscheduled)} jobs left out, first {s.first_feasible_seconds}, {s.seconds:.1f} s, "
        f"checker: {'valid' if not violations else violations[:3]}"
    )


if __name__ == "__main__":
    main()
