"""The CP-SAT model of a factoryshare problem, warm-started from the greedy schedule.

- One start variable per operation, shared by its optional intervals: one per (mode, open
  window the mode fits in). Exactly one is present, so an operation runs on one machine and
  never spans a closed gap.
- NoOverlap per machine over those intervals and the fixed ones.
- Order with minimum lags, release dates, hard deadlines.
- Weighted tardiness and makespan, weighted as the problem says.
- A job the greedy could not place is optional: placing it is worth more than any objective
  term, so CP-SAT places it if it can; otherwise it stays unscheduled with the reason.
- Policies (optional): a cleaning gap between product families on a machine (a disjunction per
  pair of candidate intervals of different families in the same or nearby windows), a cap on
  each owner's minutes on a group of machines, and a penalty for moving operations away from a
  previous solution.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.check import objective_terms, objective_value
from solver.greedy import greedy
from solver.problem import Assignment, Policies, Problem, Solution, SolveOptions, Unscheduled

_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "unknown",
    cp_model.UNKNOWN: "unknown",
}


def _greedy_solution(problem: Problem, policies: Policies, assignments, unscheduled,
                     seconds: float) -> Solution:
    by_op = {a.operation: a for a in assignments}
    terms = objective_terms(problem, by_op, policies)
    return Solution(status="feasible" if assignments or not problem.jobs else "unknown",
                    objective=objective_value(problem, terms, policies), bound=None, seconds=seconds,
                    assignments=tuple(assignments), unscheduled=tuple(unscheduled), terms=terms,
                    first_feasible_seconds=seconds)


def _add_load_bounds(model, problem: Problem, choice, makespan) -> None:
    """Redundant linear cuts that give CP-SAT's LP a real lower bound: on a machine that is
    always open, the work it is given all lies before the makespan, and the always-open
    machines together cannot beat their average load. (Fixed time is left out: a booking may
    lie after the makespan.)"""
    durations = {(o.id, m.machine): m.duration for j in problem.jobs for o in j.operations for m in o.modes}
    always_open = {m.id for m in problem.machines if m.open is None}
    load: dict[str, list] = defaultdict(list)
    for (op_id, machine, _w), lit in choice.items():
        if machine in always_open:
            load[machine].append(durations[(op_id, machine)] * lit)
    for terms in load.values():
        model.add(sum(terms) <= makespan)
    # Work that can only go to always-open machines, spread over all of them.
    if always_open and all(m.machine in always_open for j in problem.jobs for o in j.operations
                           for m in o.modes):
        total = [t for terms in load.values() for t in terms]
        model.add(sum(total) <= len(always_open) * makespan)


def _add_family_setup(model, policies: Policies, choice, windows, job_of, start_of, end_of) -> None:
    """Operations of different families on one machine are `minutes` apart, in either order.
    Candidates in windows separated by at least that gap are apart already and need nothing."""
    gap = policies.setup.minutes  # type: ignore[union-attr]
    per_machine: dict[str, list[tuple[str, str, int, object]]] = defaultdict(list)
    for (op_id, machine, w), lit in choice.items():
        family = policies.family(job_of[op_id].id)
        if family is not None:
            per_machine[machine].append((op_id, family, w, lit))
    for machine, items in per_machine.items():
        wins = windows[machine]
        for i, (op_a, fam_a, w_a, lit_a) in enumerate(items):
            for op_b, fam_b, w_b, lit_b in items[i + 1:]:
                if fam_a == fam_b or op_a == op_b:
                    continue
                first, second = sorted((w_a, w_b))
                if first != second and wins[second][0] - wins[first][1] >= gap:
                    continue
                a_first = model.new_bool_var(f"order_{op_a}_{op_b}_{machine}")
                model.add(end_of[op_a] + gap <= start_of[op_b]).only_enforce_if([a_first, lit_a, lit_b])
                model.add(end_of[op_b] + gap <= start_of[op_a]).only_enforce_if([a_first.Not(), lit_a, lit_b])


def solve(problem: Problem, options: SolveOptions | None = None,
          policies: Policies | None = None) -> Solution:
    options = options or SolveOptions()
    policies = policies or Policies()
    started = time.perf_counter()
    hint_assignments, hint_unscheduled = greedy(problem, policies)
    greedy_seconds = time.perf_counter() - started
    if not problem.jobs:
        return _greedy_solution(problem, policies, [], [], greedy_seconds)
    hint = {a.operation: a for a in hint_assignments}
    greedy_reasons = {u.job: u.reason for u in hint_unscheduled}

    horizon = problem.horizon
    # A tight horizon from the greedy schedule: with every job placed and a makespan term in
    # the objective, no better schedule ends later than greedy objective / makespan weight.
    if hint_assignments and not hint_unscheduled and problem.objective.makespan > 0:
        greedy_objective = objective_value(problem, objective_terms(problem, hint, policies), policies)
        horizon = min(horizon, greedy_objective // problem.objective.makespan)
    all_placed_by_greedy = bool(hint_assignments) and not hint_unscheduled
    model = cp_model.CpModel()
    intervals: dict[str, list] = defaultdict(list)
    for f in problem.fixed:
        intervals[f.machine].append(model.new_fixed_size_interval_var(f.start, f.end - f.start, f"fixed_{f.id}"))
    windows = {m.id: tuple((ws, min(we, horizon)) for ws, we in problem.windows(m.id) if ws < horizon)
               for m in problem.machines}

    choice: dict[tuple[str, str, int], cp_model.IntVar] = {}
    start_of: dict[str, cp_model.IntVar] = {}
    end_of: dict[str, cp_model.IntVar] = {}
    present: dict[str, cp_model.IntVar] = {}
    impossible: dict[str, str] = {}
    tardiness_terms = []
    makespan = model.new_int_var(0, horizon, "makespan")
    for job in problem.jobs:
        placed = model.new_bool_var(f"placed_{job.id}")
        if all_placed_by_greedy:
            # The greedy schedule proves every job fits: no job is optional, which keeps the
            # model (and its LP) free of the big penalty for leaving one out.
            model.add(placed == 1)
        present[job.id] = placed
        previous_end = None
        for k, op in enumerate(job.operations):
            lo = job.release
            hi = horizon if job.deadline is None else min(horizon, job.deadline)
            start = model.new_int_var(0, horizon, f"s_{op.id}")
            end = model.new_int_var(0, horizon, f"e_{op.id}")
            start_of[op.id], end_of[op.id] = start, end
            lits = []
            for mode in op.modes:
                for w, (ws, we) in enumerate(windows[mode.machine]):
                    if we - ws < mode.duration or we <= lo or ws >= hi:
                        continue
                    lit = model.new_bool_var(f"x_{op.id}_{mode.machine}_{w}")
                    choice[(op.id, mode.machine, w)] = lit
                    lits.append(lit)
                    intervals[mode.machine].append(
                        model.new_optional_interval_var(start, mode.duration, end, lit, f"i_{op.id}_{mode.machine}_{w}"))
                    model.add(start >= ws).only_enforce_if(lit)
                    model.add(end <= we).only_enforce_if(lit)
            if not lits:
                impossible[job.id] = f"operation {op.id} fits in no open window of its machines"
                model.add(placed == 0)
            else:
                model.add(sum(lits) == placed)
            model.add(start >= lo).only_enforce_if(placed)
            if previous_end is not None:
                model.add(start >= previous_end + op.min_lag).only_enforce_if(placed)
            previous_end = end
        assert previous_end is not None
        if job.deadline is not None:
            model.add(previous_end <= job.deadline).only_enforce_if(placed)
        model.add(makespan >= previous_end).only_enforce_if(placed)
        if job.due is not None and job.weight:
            late = model.new_int_var(0, horizon, f"late_{job.id}")
            model.add(late >= previous_end - job.due).only_enforce_if(placed)
            tardiness_terms.append(job.weight * late)
    for machine, ivs in intervals.items():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)
    _add_load_bounds(model, problem, choice, makespan)

    job_of = {o.id: j for j in problem.jobs for o in j.operations}
    duration_on = {(o.id, m.machine): m.duration for j in problem.jobs for o in j.operations for m in o.modes}
    if policies.setup is not None and policies.setup.minutes > 0:
        _add_family_setup(model, policies, choice, windows, job_of, start_of, end_of)
    for cap in policies.share_caps:
        machines = set(cap.machines)
        per_owner: dict[str, list] = defaultdict(list)
        for (op_id, machine, _w), lit in choice.items():
            if machine in machines:
                per_owner[job_of[op_id].owner or ""].append(duration_on[(op_id, machine)] * lit)
        for terms in per_owner.values():
            model.add(sum(terms) <= cap.max_minutes)
    stability_cost = []
    stability_worst = 0
    if policies.stability is not None:
        st = policies.stability
        for before in st.previous:
            if before.operation not in start_of:
                continue
            placed = present[job_of[before.operation].id]
            moved = model.new_int_var(0, horizon, f"moved_{before.operation}")
            model.add(moved >= start_of[before.operation] - before.start).only_enforce_if(placed)
            model.add(moved >= before.start - start_of[before.operation]).only_enforce_if(placed)
            same = [lit for (o, m, _w), lit in choice.items() if o == before.operation and m == before.machine]
            changed = model.new_bool_var(f"changed_{before.operation}")
            model.add(changed + sum(same) >= placed)
            stability_cost.append(st.weight * (moved + st.machine_change * changed))
            stability_worst += st.weight * (horizon + st.machine_change)

    obj = problem.objective
    weighted = (obj.weighted_tardiness * sum(tardiness_terms) + obj.makespan * makespan
                + sum(stability_cost))
    worst = ((obj.weighted_tardiness * sum(j.weight for j in problem.jobs) + obj.makespan) * horizon
             + stability_worst + 1)
    # Leaving a job out costs more than any schedule of the others.
    model.minimize(weighted + worst * sum(1 - p for p in present.values()))

    # Warm start from the greedy schedule.
    for job in problem.jobs:
        model.add_hint(present[job.id], job.id not in greedy_reasons)
    for (op_id, machine, w), lit in choice.items():
        a = hint.get(op_id)
        ws, we = windows[machine][w]
        model.add_hint(lit, a is not None and a.machine == machine and ws <= a.start and a.end <= we)
    for op_id, a in hint.items():
        model.add_hint(start_of[op_id], a.start)
        model.add_hint(end_of[op_id], a.end)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, options.time_limit - greedy_seconds)
    params.num_workers = max(1, options.workers)
    params.random_seed = options.seed
    # The load cuts are worth having in the LP from the start (mk06-mk10, 10 s, 2 workers:
    # mean mk10 makespan 225 against 234 with lazy constraints, 4 seeds each).
    params.add_lp_constraints_lazily = False
    params.log_search_progress = options.log
    first = {}

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            first.setdefault("t", time.perf_counter() - started)

    status = solver.solve(model, _First())
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # CP-SAT found nothing in time: the greedy schedule is still valid.
        return _greedy_solution(problem, policies, hint_assignments, hint_unscheduled, seconds)

    assignments: list[Assignment] = []
    unscheduled: list[Unscheduled] = []
    for job in problem.jobs:
        if not solver.boolean_value(present[job.id]):
            reason = impossible.get(job.id) or greedy_reasons.get(job.id) or "it cannot be placed with the other jobs"
            unscheduled.append(Unscheduled(job.id, reason))
            continue
        for op in job.operations:
            s, e = solver.value(start_of[op.id]), solver.value(end_of[op.id])
            machine = next(m for (o, m, w), lit in choice.items() if o == op.id and solver.boolean_value(lit))
            assignments.append(Assignment(op.id, machine, s, e))
    terms = objective_terms(problem, {a.operation: a for a in assignments}, policies)
    objective = objective_value(problem, terms, policies)
    all_placed = not unscheduled
    bound = int(solver.best_objective_bound) if all_placed else None
    if bound is not None:
        bound = min(bound, objective)
    return Solution(
        status=_STATUS[status],
        objective=objective, bound=bound, seconds=seconds, assignments=tuple(assignments),
        unscheduled=tuple(unscheduled), terms=terms,
        # The greedy schedule is the first feasible one whenever it placed anything.
        first_feasible_seconds=greedy_seconds if hint_assignments else first.get("t", seconds),
    )
