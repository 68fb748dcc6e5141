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
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.calendar import Calendar, round_up
from solver.check import objective_terms, objective_value
from solver.greedy import greedy
from solver.problem import Assignment, Policies, Problem, Solution, SolveOptions, Unscheduled, operation_cost

# Share of the time given to neighbourhood search alone before the full search (see solve()).
IMPROVE_SHARE = 0.8
# Below this the full search alone runs: both phases need time to be worth their start-up.
IMPROVE_MIN_SECONDS = 2.0

_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "unknown",
    cp_model.UNKNOWN: "unknown",
}


def _greedy_solution(problem: Problem, policies: Policies, assignments, unscheduled,
                     seconds: float, greedy_seconds: float) -> Solution:
    by_op = {a.operation: a for a in assignments}
    terms = objective_terms(problem, by_op, policies)
    return Solution(status="feasible" if assignments or not problem.jobs else "unknown",
                    objective=objective_value(problem, terms, policies), bound=None, seconds=seconds,
                    assignments=tuple(assignments), unscheduled=tuple(unscheduled), terms=terms,
                    first_feasible_seconds=greedy_seconds, cost=terms["cost"])


def _add_load_bounds(model, problem: Problem, choice, makespan) -> None:
    """Redundant linear cuts that give CP-SAT's LP a real lower bound: on a machine that is
    always open, the work it is given all lies before the makespan, and the always-open
    machines together cannot beat their average load. (Fixed time is left out: a booking may
    lie after the makespan.)"""
    durations = {(o.id, m.machine): m.duration for j in problem.jobs for o in j.operations for m in o.modes}
    always_open = {m.id for m in problem.machines if m.open is None}
    load: dict[str, list] = defaultdict(list)
    for (op_id, machine), lit in choice.items():
        if machine in always_open:
            load[machine].append(durations[(op_id, machine)] * lit)
    for terms in load.values():
        model.add(sum(terms) <= makespan)
    # Work that can only go to always-open machines, spread over all of them.
    if always_open and all(m.machine in always_open for j in problem.jobs for o in j.operations
                           for m in o.modes):
        total = [t for terms in load.values() for t in terms]
        model.add(sum(total) <= len(always_open) * makespan)


def _add_family_setup(model, policies: Policies, choice, span, job_of, start_of, end_of,
                      hint, aux_hints) -> None:
    """Operations of different families on one machine are `minutes` apart, in either order.
    Candidates whose possible times on the machine are that far apart already need nothing."""
    gap = policies.setup.minutes  # type: ignore[union-attr]
    per_machine: dict[str, list[tuple[str, str, object]]] = defaultdict(list)
    for (op_id, machine), lit in choice.items():
        family = policies.family(job_of[op_id].id)
        if family is not None:
            per_machine[machine].append((op_id, family, lit))
    for machine, items in per_machine.items():
        for i, (op_a, fam_a, lit_a) in enumerate(items):
            first_a, last_a = span[(op_a, machine)]
            for op_b, fam_b, lit_b in items[i + 1:]:
                if fam_a == fam_b or op_a == op_b:
                    continue
                first_b, last_b = span[(op_b, machine)]
                if first_b - last_a >= gap or first_a - last_b >= gap:
                    continue
                a_first = model.new_bool_var(f"order_{op_a}_{op_b}_{machine}")
                a, b = hint.get(op_a), hint.get(op_b)
                aux_hints.append((a_first, int(a is not None and b is not None and a.end <= b.start)))
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
        return _greedy_solution(problem, policies, [], [], greedy_seconds, greedy_seconds)
    hint = {a.operation: a for a in hint_assignments}
    left_out_by_greedy = {u.job: u for u in hint_unscheduled}

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
    calendars = {m: Calendar(w) for m, w in windows.items()}
    grid = problem.grid

    # The chosen machine of each operation; where on it the operation may run, first to last.
    choice: dict[tuple[str, str], cp_model.IntVar] = {}
    span: dict[tuple[str, str], tuple[int, int]] = {}
    start_of: dict[str, cp_model.IntVar] = {}
    end_of: dict[str, cp_model.IntVar] = {}
    present: dict[str, cp_model.IntVar] = {}
    impossible: dict[str, Unscheduled] = {}
    tardiness_terms = []
    # Hints for the variables that only follow from the schedule: with every variable hinted,
    # CP-SAT takes the greedy schedule as its first solution at once (an incomplete hint is only
    # a search guide, and neighbourhood search alone would start from nothing).
    aux_hints: list[tuple[cp_model.IntVar, int]] = []
    makespan = model.new_int_var(0, horizon, "makespan")
    aux_hints.append((makespan, max((a.end for a in hint_assignments), default=0)))
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
            if grid > 1:
                # Starts on the grid: start = grid * slot.
                slot = model.new_int_var(0, horizon // grid, f"k_{op.id}")
                model.add(start == grid * slot)
                aux_hints.append((slot, hint[op.id].start // grid if op.id in hint else 0))
            for mode in op.modes:
                if op.frozen is not None and mode.machine != op.frozen.machine:
                    continue
                if op.pausable:
                    # Per number of closed minutes waited through, the starts that give it.
                    ranges = calendars[mode.machine].pause_segments(lo, min(hi, horizon) - 1, mode.duration)
                else:
                    # The starts that keep the operation inside one open window of this machine.
                    ranges = {0: [(max(ws, lo), we - mode.duration) for ws, we in windows[mode.machine]
                                  if max(ws, lo) <= we - mode.duration and ws < hi]}
                if op.frozen is not None:
                    pin = op.frozen.start
                    ranges = {d: [(pin, pin)] for d, rs in ranges.items() if any(a <= pin <= b for a, b in rs)}
                if grid > 1:
                    ranges = {d: [(-(-a // grid), b // grid) for a, b in rs if -(-a // grid) <= b // grid]
                              for d, rs in ranges.items()}
                ranges = {d: rs for d, rs in sorted(ranges.items()) if rs}
                if not ranges:
                    continue
                lit = model.new_bool_var(f"x_{op.id}_{mode.machine}")
                choice[(op.id, mode.machine)] = lit
                lits.append(lit)
                scale = grid if grid > 1 else 1
                span[(op.id, mode.machine)] = (min(rs[0][0] for rs in ranges.values()) * scale,
                                               max(rs[-1][1] * scale + mode.duration + d for d, rs in ranges.items()))
                placed_here = hint.get(op.id)
                placed_here = placed_here if placed_here is not None and placed_here.machine == mode.machine else None
                on = slot if grid > 1 else start
                if not op.pausable and grid == 1:
                    intervals[mode.machine].append(
                        model.new_optional_interval_var(start, mode.duration, end, lit, f"i_{op.id}_{mode.machine}"))
                    model.add_linear_expression_in_domain(
                        start, cp_model.Domain.from_intervals([list(r) for r in ranges[0]])).only_enforce_if(lit)
                    continue
                if not op.pausable:
                    # Held until the end rounded up to the grid: a constant length from a start on it.
                    intervals[mode.machine].append(model.new_optional_fixed_size_interval_var(
                        start, round_up(mode.duration, grid), lit, f"i_{op.id}_{mode.machine}"))
                    model.add(end == start + mode.duration).only_enforce_if(lit)
                    model.add_linear_expression_in_domain(
                        on, cp_model.Domain.from_intervals([list(r) for r in ranges[0]])).only_enforce_if(lit)
                    continue
                # Pausable: one literal per waiting time; the machine is held for the duration,
                # the wait and the rounding up to the grid, a constant for each.
                waits = list(ranges)
                if len(waits) == 1:
                    which = [lit]
                else:
                    which = [model.new_bool_var(f"w_{op.id}_{mode.machine}_{w}") for w in waits]
                    model.add(sum(which) == lit)
                    for w, b in zip(waits, which):
                        aux_hints.append((b, int(placed_here is not None
                                                 and placed_here.end - placed_here.start - mode.duration == w)))
                for w, b in zip(waits, which):
                    model.add_linear_expression_in_domain(
                        on, cp_model.Domain.from_intervals([list(r) for r in ranges[w]])).only_enforce_if(b)
                model.add(end == start + mode.duration + sum(w * b for w, b in zip(waits, which))).only_enforce_if(lit)
                holds = [round_up(mode.duration + w, grid) for w in waits]
                size = model.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(holds))),
                                                     f"h_{op.id}_{mode.machine}")
                model.add(size == sum(h * b for h, b in zip(holds, which))).only_enforce_if(lit)
                held = model.new_int_var(0, horizon + max(holds), f"he_{op.id}_{mode.machine}")
                intervals[mode.machine].append(
                    model.new_optional_interval_var(start, size, held, lit, f"i_{op.id}_{mode.machine}"))
                if placed_here is not None:
                    hold = problem.held_until(placed_here.end) - placed_here.start
                else:
                    hold = holds[0]
                aux_hints.append((size, hold))
                aux_hints.append((held, (placed_here.start if placed_here else 0) + hold))
            if not lits:
                if op.frozen is not None:
                    reason = (f"frozen operation {op.id} can no longer run at {op.frozen.start} on "
                              f"{op.frozen.machine} (closed, off the grid, or outside the job's dates)")
                elif op.pausable:
                    reason = f"operation {op.id} finds too little open time on its machines"
                else:
                    reason = f"operation {op.id} fits in no open window of its machines"
                impossible[job.id] = Unscheduled(job.id, reason, "no_window")
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
            last = hint.get(job.operations[-1].id)
            aux_hints.append((late, max(0, last.end - job.due) if last else 0))
    for machine, ivs in intervals.items():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)
    _add_load_bounds(model, problem, choice, makespan)

    job_of = {o.id: j for j in problem.jobs for o in j.operations}
    duration_on = {(o.id, m.machine): m.duration for j in problem.jobs for o in j.operations for m in o.modes}
    if policies.setup is not None and policies.setup.minutes > 0:
        _add_family_setup(model, policies, choice, span, job_of, start_of, end_of, hint, aux_hints)
    for cap in policies.share_caps:
        machines = set(cap.machines)
        per_owner: dict[str, list] = defaultdict(list)
        for (op_id, machine), lit in choice.items():
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
            same = choice.get((before.operation, before.machine))
            changed = model.new_bool_var(f"changed_{before.operation}")
            model.add(changed + (same if same is not None else 0) >= placed)
            now = hint.get(before.operation)
            aux_hints.append((moved, abs(now.start - before.start) if now else 0))
            aux_hints.append((changed, int(now is not None and now.machine != before.machine)))
            stability_cost.append(st.weight * (moved + st.machine_change * changed))
            stability_worst += st.weight * (horizon + st.machine_change)

    obj = problem.objective
    weighted = (obj.weighted_tardiness * sum(tardiness_terms) + obj.makespan * makespan
                + sum(stability_cost))
    worst = ((obj.weighted_tardiness * sum(j.weight for j in problem.jobs) + obj.makespan) * horizon
             + stability_worst + 1)
    if obj.cost:
        # Machine cost: each operation's rupiah on the machine chosen (see operation_cost).
        rate = {m.id: m.cost_per_hour for m in problem.machines}
        op_cost = {key: operation_cost(duration_on[key], rate[key[1]]) for key in choice}
        weighted += obj.cost * sum(op_cost[key] * lit for key, lit in choice.items() if op_cost[key])
        most: dict[str, int] = defaultdict(int)
        for (op_id, _machine), c in op_cost.items():
            most[op_id] = max(most[op_id], c)
        worst += obj.cost * sum(most.values())
    # Leaving a job out costs more than any schedule of the others.
    model.minimize(weighted + worst * sum(1 - p for p in present.values()))

    # Warm start from the greedy schedule.
    for job in problem.jobs:
        model.add_hint(present[job.id], job.id not in left_out_by_greedy)
    for (op_id, machine), lit in choice.items():
        a = hint.get(op_id)
        model.add_hint(lit, a is not None and a.machine == machine)
    for op_id, a in hint.items():
        model.add_hint(start_of[op_id], a.start)
        model.add_hint(end_of[op_id], a.end)
    for op_id in start_of.keys() - hint.keys():
        # An operation of a job the greedy left out: absent, so any value does.
        model.add_hint(start_of[op_id], 0)
        model.add_hint(end_of[op_id], 0)
    for var, value in aux_hints:
        model.add_hint(var, value)

    calendar = any(m.open is not None for m in problem.machines)
    remaining = max(0.05, options.time_limit - greedy_seconds)
    first: dict[str, float] = {}

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            first.setdefault("t", time.perf_counter() - started)

    def run(seconds: float, lns_only: bool) -> tuple[int, cp_model.CpSolver]:
        cp = cp_model.CpSolver()
        params = cp.parameters
        params.max_time_in_seconds = max(0.05, seconds)
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

    # Improve, then prove: with two workers CP-SAT gives one thread to the LP-based search
    # and shares the other among a dozen neighbourhood searches, which is where a makespan
    # improves. So most of the time goes to neighbourhood search alone, started from the
    # greedy schedule; the rest to the full search started from the best schedule found,
    # which brings the lower bound (and proves optimality when the load cuts suffice).
    # Measured 2026-12-01, 10 s, 2 workers, 3 seeds: Brandimarte mk10 mean makespan 217.3
    # against 219.3 with the full search alone, mk06 60.3 against 60.7; the generated 17-machine
    # house medium-1 34 500 against 59 750.
    found = (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if remaining >= IMPROVE_MIN_SECONDS and options.workers >= 2 and all_placed_by_greedy:
        status, solver = run(remaining * IMPROVE_SHARE, lns_only=True)
        if status in found:
            variables = [model.get_int_var_from_proto_index(i)
                         for i in range(len(model.proto.variables))]
            best = [solver.value(v) for v in variables]
            model.clear_hints()
            for var, value in zip(variables, best):
                model.add_hint(var, value)
        left = options.time_limit - (time.perf_counter() - started)
        prove_status, prover = run(left, lns_only=False)
        bound_value = prover.best_objective_bound
        if prove_status in found and (status not in found
                                      or prover.objective_value <= solver.objective_value):
            status, solver = prove_status, prover
        elif status in found and bound_value >= solver.objective_value:
            status = cp_model.OPTIMAL
    else:
        status, solver = run(remaining, lns_only=False)
        bound_value = solver.best_objective_bound
    seconds = time.perf_counter() - started
    if status not in found:
        # CP-SAT found nothing in time: the greedy schedule is still valid.
        return _greedy_solution(problem, policies, hint_assignments, hint_unscheduled, seconds,
                                greedy_seconds)

    assignments: list[Assignment] = []
    unscheduled: list[Unscheduled] = []
    for job in problem.jobs:
        if not solver.boolean_value(present[job.id]):
            unscheduled.append(impossible.get(job.id) or left_out_by_greedy.get(job.id)
                               or Unscheduled(job.id, "it cannot be placed with the other jobs", "capacity"))
            continue
        for op in job.operations:
            s, e = solver.value(start_of[op.id]), solver.value(end_of[op.id])
            machine = next(mode.machine for mode in op.modes
                           if (op.id, mode.machine) in choice and solver.boolean_value(choice[(op.id, mode.machine)]))
            assignments.append(Assignment(op.id, machine, s, e))
    terms = objective_terms(problem, {a.operation: a for a in assignments}, policies)
    objective = objective_value(problem, terms, policies)
    all_placed = not unscheduled
    bound = int(bound_value) if all_placed else None
    if bound is not None:
        bound = min(bound, objective)
    return Solution(
        status=_STATUS[status],
        objective=objective, bound=bound, seconds=seconds, assignments=tuple(assignments),
        unscheduled=tuple(unscheduled), terms=terms, cost=terms["cost"],
        # The greedy schedule is the first feasible one whenever it placed anything.
        first_feasible_seconds=greedy_seconds if hint_assignments else first.get("t", seconds),
    )
