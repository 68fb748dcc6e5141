"""The CP-SAT model of a factoryshare problem, warm-started from the greedy schedule.

- One start variable per operation, shared by its optional intervals, one per mode (machine).
  Exactly one is present, so an operation runs on one machine; the chosen mode confines the
  start to the times that keep the operation inside one open window, so it never spans a
  closed gap. (One interval per mode and window instead made 29 intervals an operation on a
  two-week house, and CP-SAT's presolve alone then took most of a 10 s limit.)
- A pausable operation (it may wait while its machine is closed) has, per mode, one literal
  for each number of closed minutes it can wait through (solver.calendar.pause_segments: a
  few per machine, however many candidate starts); the literal confines the start to the
  starts that give that wait and fixes end = start + duration + wait. (A table of every
  candidate start for AddElement would be thousands of entries an operation on a two-week
  house at a one-minute grid.)
- The slot grid: start = grid * slot; the machine's interval runs to the end rounded up to
  the grid, a constant length per mode (and per wait) since the start is on the grid.
- A frozen operation keeps only its frozen mode, its start confined to the frozen one.
- NoOverlap per machine over those intervals and the fixed ones.
- Order with minimum lags, release dates, hard deadlines.
- Weighted tardiness, makespan and machine cost (per mode literal, its operation_cost),
  weighted as the problem says.
- A job the greedy could not place is optional: placing it is worth more than any objective
  term, so CP-SAT places it if it can; otherwise it stays unscheduled with the reason.
- Policies (optional): a cleaning gap between product families on a machine (a disjunction per
  pair of candidate intervals of different families in the same or nearby windows), a cap on
  each owner's minutes on a group of machines, and a penalty for moving operations away from a
  previous solution.
"""

from __future__ import annotations

import time
from typing import Any

from ortools.sat.python import cp_model

from solver import formulation as fm
from solver.check import objective_terms, objective_value
from solver.greedy import greedy
from solver.problem import (
    Assignment,
    Policies,
    Problem,
    Solution,
    SolveOptions,
    Status,
    Unscheduled,
    UnscheduledKind,
)

# Share of the time given to neighbourhood search alone before the full search (see _search()).
IMPROVE_SHARE = 0.8
# Below this the full search alone runs: both phases need time to be worth their start-up.
IMPROVE_MIN_SECONDS = 2.0
# Share of the time given first to the search without machine cost, when cost counts (see
# _search()).
COST_FREE_SHARE = 0.3

_STATUS: dict[Any, Status] = {
    cp_model.OPTIMAL: Status.optimal,
    cp_model.FEASIBLE: Status.feasible,
    cp_model.INFEASIBLE: Status.infeasible,
    cp_model.MODEL_INVALID: Status.unknown,
    cp_model.UNKNOWN: Status.unknown,
}
_FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _greedy_solution(
    problem: Problem,
    policies: Policies,
    assignments,
    unscheduled,
    seconds: float,
    greedy_seconds: float,
) -> Solution:
    by_op = {a.operation: a for a in assignments}
    terms = objective_terms(problem, by_op, policies)
    return Solution(
        status=Status.feasible if assignments or not problem.jobs else Status.unknown,
        objective=objective_value(problem, terms, policies),
        bound=None,
        seconds=seconds,
        assignments=tuple(assignments),
        unscheduled=tuple(unscheduled),
        terms=terms,
        first_feasible_seconds=greedy_seconds,
        cost=terms["cost"],
    )


def _horizon(
    problem: Problem, policies: Policies, hint: dict[str, Assignment], all_placed: bool
) -> int:
    """A tight horizon from the greedy schedule: with every job placed and a makespan term in
    the objective, no better schedule ends later than greedy objective / makespan weight."""
    if all_placed and problem.objective.makespan > 0:
        greedy_objective = objective_value(
            problem, objective_terms(problem, hint, policies), policies
        )
        return min(problem.horizon, greedy_objective // problem.objective.makespan)
    return problem.horizon


def formulate(
    problem: Problem,
    policies: Policies,
    hint_assignments: list[Assignment],
    hint_unscheduled: list[Unscheduled],
) -> fm.Formulation:
    """The CP-SAT model of the problem, warm-started from the greedy schedule."""
    hint = {a.operation: a for a in hint_assignments}
    all_placed = bool(hint_assignments) and not hint_unscheduled
    f = fm.Formulation(problem, policies, _horizon(problem, policies, hint, all_placed), hint)
    fm.add_variables(f)
    fm.add_calendar(f)
    fm.add_one_machine(f, all_placed)
    fm.add_routing(f)
    fm.add_tardiness(f)
    fm.add_no_overlap(f)
    fm.add_load_bounds(f)
    fm.add_family_setup(f)
    fm.add_share_caps(f)
    stability_cost, stability_worst = fm.add_stability(f)
    fm.set_objective(f, stability_cost, stability_worst)
    fm.add_hints(f, {u.job for u in hint_unscheduled})
    return f


def solve(
    problem: Problem, options: SolveOptions | None = None, policies: Policies | None = None
) -> Solution:
    options = options or SolveOptions()
    policies = policies or Policies()
    started = time.perf_counter()
    hint_assignments, hint_unscheduled = greedy(problem, policies)
    greedy_seconds = time.perf_counter() - started
    if not problem.jobs:
        return _greedy_solution(problem, policies, [], [], greedy_seconds, greedy_seconds)
    f = formulate(problem, policies, hint_assignments, hint_unscheduled)
    all_placed = bool(hint_assignments) and not hint_unscheduled
    first: dict[str, float] = {}
    status, solver, bound_value = _search(f, options, started, greedy_seconds, all_placed, first)
    seconds = time.perf_counter() - started
    if status not in _FOUND:
        # CP-SAT found nothing in time: the greedy schedule is still valid.
        return _greedy_solution(
            problem, policies, hint_assignments, hint_unscheduled, seconds, greedy_seconds
        )
    left_out_by_greedy = {u.job: u for u in hint_unscheduled}
    assignments: list[Assignment] = []
    unscheduled: list[Unscheduled] = []
    for job in problem.jobs:
        if not solver.boolean_value(f.present[job.id]):
            unscheduled.append(
                f.impossible.get(job.id)
                or left_out_by_greedy.get(job.id)
                or Unscheduled(
                    job.id, "it cannot be placed with the other jobs", UnscheduledKind.capacity
                )
            )
            continue
        for op in job.operations:
            s, e = solver.value(f.start_of[op.id]), solver.value(f.end_of[op.id])
            machine = next(
                mode.machine
                for mode in op.modes
                if (op.id, mode.machine) in f.choice
                and solver.boolean_value(f.choice[(op.id, mode.machine)])
            )
            assignments.append(Assignment(op.id, machine, s, e))
    terms = objective_terms(problem, {a.operation: a for a in assignments}, policies)
    objective = objective_value(problem, terms, policies)
    bound = int(bound_value) if not unscheduled else None
    if bound is not None:
        bound = min(bound, objective)
    return Solution(
        status=_STATUS[status],
        objective=objective,
        bound=bound,
        seconds=seconds,
        assignments=tuple(assignments),
        unscheduled=tuple(unscheduled),
        terms=terms,
        cost=terms["cost"],
        # The greedy schedule is the first feasible one whenever it placed anything.
        first_feasible_seconds=greedy_seconds if hint_assignments else first.get("t", seconds),
    )


def _search(
    f: fm.Formulation,
    options: SolveOptions,
    started: float,
    greedy_seconds: float,
    all_placed: bool,
    first: dict[str, float],
) -> tuple[Any, cp_model.CpSolver, float]:
    """Improve, then prove: with two workers CP-SAT gives one thread to the LP-based search
    and shares the other among a dozen neighbourhood searches, which is where a makespan
    improves. So most of the time goes to neighbourhood search alone, started from the
    greedy schedule; the rest to the full search started from the best schedule found,
    which brings the lower bound (and proves optimality when the load cuts suffice).
    Measured 2026-12-01, 10 s, 2 workers, 3 seeds: Brandimarte mk10 mean makespan 217.3
    against 219.3 with the full search alone, mk06 60.3 against 60.7; the generated 17-machine
    house medium-1 34 500 against 59 750.

    With `options.deterministic_time`, CP-SAT's own work measure limits each phase instead of
    the clock (the wall-clock limit still caps it): with one worker the same problem, seed and
    limit then give the same schedule however loaded the machine is.

    Returns the status, the solver holding the best schedule and the best lower bound."""
    model = f.model
    calendar = any(m.open is not None for m in f.problem.machines)
    deterministic = options.deterministic_time
    remaining = max(0.05, options.time_limit - greedy_seconds)

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            first.setdefault("t", time.perf_counter() - started)

    def run(seconds: float, work: float | None, lns_only: bool) -> tuple[Any, cp_model.CpSolver]:
        cp = cp_model.CpSolver()
        params = cp.parameters
        params.max_time_in_seconds = max(0.05, seconds)
        if work is not None:
            params.max_deterministic_time = max(0.01, work)
        params.num_workers = max(1, options.workers)
        params.random_seed = options.seed
        # The load cuts are worth having in the LP from the start (mk06-mk10, 10 s, 2 workers:
        # mean mk10 makespan 225 against 234 with lazy constraints, 4 seeds each).
        params.add_lp_constraints_lazily = False
        if calendar:
            # Probing the window domains in presolve took 2-8 s of a 10 s limit on a two-week
            # house of 17 machines and 140 jobs and left no time to improve on the greedy
            # schedule (objective 84 370; 33 500 without it). On always-open shops it pays:
            # Brandimarte mk10 217 against 220 without it, mean of 3 seeds.
            params.cp_model_probing_level = 0
        params.use_lns_only = lns_only
        params.log_search_progress = options.log
        return cp.solve(model, _First()), cp

    variables = [model.get_int_var_from_proto_index(i) for i in range(len(model.proto.variables))]

    def restart_from(values: list[int]) -> None:
        model.clear_hints()
        for var, value in zip(variables, values):
            model.add_hint(var, value)

    budget = deterministic if deterministic is not None else remaining
    if (
        f.objective_without_cost is not None
        and COST_FREE_SHARE > 0
        and budget >= IMPROVE_MIN_SECONDS
    ):
        # Warm-up without machine cost: with it, the cost of every mode literal competes with
        # lateness in each step and CP-SAT finds a good order slowly; without it a small house
        # is often solved to optimality in seconds (house small-1 with lots, 2 workers, load
        # 13: optimal in 3.1 s; with the cost, 10 s ended with 4-15 % more weighted lateness
        # than that optimum). The schedule found starts the rest of the search if it is better
        # with the cost counted. Measured on small-1 with 1 worker, 5 s of CP-SAT's
        # deterministic time (three of the four runs stopped by a 120 s wall limit at load
        # 22-26), seeds 0 and 1: 14 794 332 and 14 786 415 against 14 827 415 and 14 894 831
        # without the warm-up; machine cost does not count on Brandimarte's instances.
        model.minimize(f.objective_without_cost)
        warm_status, warm = run(
            remaining * COST_FREE_SHARE,
            None if deterministic is None else deterministic * COST_FREE_SHARE,
            lns_only=False,
        )
        model.minimize(f.objective)
        if warm_status in _FOUND:
            values = [warm.value(v) for v in variables]
            at_hint = _objective_at(
                model.proto,
                dict(zip(model.proto.solution_hint.vars, model.proto.solution_hint.values)),
            )
            at_warm = _objective_at(model.proto, dict(enumerate(values)))
            if at_warm is not None and (at_hint is None or at_warm < at_hint):
                restart_from(values)
        remaining = max(0.05, options.time_limit - (time.perf_counter() - started))
        if deterministic is not None:
            deterministic *= 1 - COST_FREE_SHARE
        budget = deterministic if deterministic is not None else remaining
    if budget >= IMPROVE_MIN_SECONDS and options.workers >= 2 and all_placed:
        first_work = None if deterministic is None else deterministic * IMPROVE_SHARE
        status, solver = run(
            remaining * IMPROVE_SHARE if deterministic is None else remaining,
            first_work,
            lns_only=True,
        )
        if status in _FOUND:
            restart_from([solver.value(v) for v in variables])
        left = options.time_limit - (time.perf_counter() - started)
        prove_work = None if deterministic is None else deterministic * (1 - IMPROVE_SHARE)
        prove_status, prover = run(left, prove_work, lns_only=False)
        bound_value = prover.best_objective_bound
        if prove_status in _FOUND and (
            status not in _FOUND or prover.objective_value <= solver.objective_value
        ):
            status, solver = prove_status, prover
        elif status in _FOUND and bound_value >= solver.objective_value:
            status = cp_model.OPTIMAL
    else:
        status, solver = run(remaining, deterministic, lns_only=False)
        bound_value = solver.best_objective_bound
    return status, solver, bound_value


def _objective_at(proto: Any, value_of: dict[int, int]) -> int | None:
    """The model's objective at the given values of its variables (by proto index), or None
    if one it needs has no value."""
    total = proto.objective.offset
    for ref, coeff in zip(proto.objective.vars, proto.objective.coeffs):
        index = ref if ref >= 0 else -ref - 1
        if index not in value_of:
            return None
        # A negative reference is the negation of a Boolean variable.
        value = value_of[index] if ref >= 0 else 1 - value_of[index]
        total += coeff * value
    return total
