"""The CP-SAT formulation of a problem: its variables, one function per constraint family, the
objective and the warm start. solver.model builds it in that order and searches it; what the
model means is described there.

Variables are created in one pass over the jobs (`add_variables`), in a fixed order, so the same
problem always gives the same model; every constraint family then reads them from `Formulation`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.calendar import Calendar, round_up
from solver.problem import (
    Assignment,
    Job,
    Mode,
    Operation,
    Policies,
    Problem,
    Unscheduled,
    UnscheduledKind,
    operation_cost,
)


@dataclass
class ModeChoice:
    """One machine an operation may run on: its literal and where on that machine it may start.

    `ranges`: per number of closed minutes waited through (0 for an unpausable operation), the
    inclusive ranges of starts (of grid slots when the problem has a grid) that give it;
    `which`: the literal of each waiting time (just `lit` when there is one); `holds`: how long
    the machine is held for each, and `size` its variable (pausable operations only)."""

    job: Job
    op: Operation
    mode: Mode
    lit: cp_model.IntVar
    ranges: dict[int, list[tuple[int, int]]]
    which: list[cp_model.IntVar] = field(default_factory=list)
    holds: list[int] = field(default_factory=list)
    size: cp_model.IntVar | None = None


@dataclass
class Formulation:
    problem: Problem
    policies: Policies
    horizon: int
    # The greedy schedule, by operation: the warm start.
    hint: dict[str, Assignment]
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    windows: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    makespan: cp_model.IntVar = field(init=False)
    present: dict[str, cp_model.IntVar] = field(default_factory=dict)
    start_of: dict[str, cp_model.IntVar] = field(default_factory=dict)
    end_of: dict[str, cp_model.IntVar] = field(default_factory=dict)
    slot_of: dict[str, cp_model.IntVar] = field(default_factory=dict)
    # The chosen machine of each operation, and where on it the operation may run, first to last.
    choice: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    span: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    modes: list[ModeChoice] = field(default_factory=list)
    intervals: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    late: dict[str, cp_model.IntVar] = field(default_factory=dict)
    # Jobs with an operation that has no machine it could run on: left out, with the reason.
    impossible: dict[str, Unscheduled] = field(default_factory=dict)
    # Hints for the variables that only follow from the schedule: with every variable hinted,
    # CP-SAT takes the greedy schedule as its first solution at once (an incomplete hint is only
    # a search guide, and neighbourhood search alone would start from nothing).
    aux_hints: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)
    # The objective, and the same without machine cost (None when cost does not count): what
    # solver.model's warm-up searches first (see set_objective).
    objective: cp_model.LinearExprT = 0
    objective_without_cost: cp_model.LinearExprT | None = None

    def __post_init__(self) -> None:
        self.makespan = self.model.new_int_var(0, self.horizon, "makespan")

    @property
    def job_of(self) -> dict[str, Job]:
        return {o.id: j for j in self.problem.jobs for o in j.operations}

    @property
    def duration_on(self) -> dict[tuple[str, str], int]:
        return {
            (o.id, m.machine): m.duration
            for j in self.problem.jobs
            for o in j.operations
            for m in o.modes
        }


# -- variables ------------------------------------------------------------------------------


def add_variables(f: Formulation) -> None:
    """Fixed time, the makespan, and per job: placed, per operation start, end (and grid slot),
    per mode its literal and interval on the machine, and the job's lateness."""
    problem, model = f.problem, f.model
    for fx in problem.fixed:
        f.intervals[fx.machine].append(
            model.new_fixed_size_interval_var(fx.start, fx.end - fx.start, f"fixed_{fx.id}")
        )
    f.windows = {
        m.id: tuple((ws, min(we, f.horizon)) for ws, we in problem.windows(m.id) if ws < f.horizon)
        for m in problem.machines
    }
    f.calendars = {m: Calendar(w) for m, w in f.windows.items()}
    f.aux_hints.append((f.makespan, max((a.end for a in f.hint.values()), default=0)))
    for job in problem.jobs:
        f.present[job.id] = model.new_bool_var(f"placed_{job.id}")
        for op in job.operations:
            _add_operation(f, job, op)
        if job.due is not None and job.weight:
            f.late[job.id] = model.new_int_var(0, f.horizon, f"late_{job.id}")
            last = f.hint.get(job.operations[-1].id)
            f.aux_hints.append((f.late[job.id], max(0, last.end - job.due) if last else 0))


def _start_ranges(
    f: Formulation, job: Job, op: Operation, mode: Mode
) -> dict[int, list[tuple[int, int]]]:
    """Where on `mode`'s machine `op` may start (in grid slots when there is a grid), per number
    of closed minutes it waits through; empty when nowhere."""
    lo = job.release
    hi = f.horizon if job.deadline is None else min(f.horizon, job.deadline)
    grid = f.problem.grid
    if op.pausable:
        # Per number of closed minutes waited through, the starts that give it.
        ranges = f.calendars[mode.machine].pause_segments(lo, min(hi, f.horizon) - 1, mode.duration)
    else:
        # The starts that keep the operation inside one open window of this machine.
        ranges = {
            0: [
                (max(ws, lo), we - mode.duration)
                for ws, we in f.windows[mode.machine]
                if max(ws, lo) <= we - mode.duration and ws < hi
            ]
        }
    if op.frozen is not None:
        pin = op.frozen.start
        ranges = {d: [(pin, pin)] for d, rs in ranges.items() if any(a <= pin <= b for a, b in rs)}
    if grid > 1:
        ranges = {
            d: [(-(-a // grid), b // grid) for a, b in rs if -(-a // grid) <= b // grid]
            for d, rs in ranges.items()
        }
    return {d: rs for d, rs in sorted(ranges.items()) if rs}


def _add_operation(f: Formulation, job: Job, op: Operation) -> None:
    model, grid, horizon = f.model, f.problem.grid, f.horizon
    start = model.new_int_var(0, horizon, f"s_{op.id}")
    end = model.new_int_var(0, horizon, f"e_{op.id}")
    f.start_of[op.id], f.end_of[op.id] = start, end
    if grid > 1:
        # Starts on the grid: start = grid * slot.
        slot = model.new_int_var(0, horizon // grid, f"k_{op.id}")
        model.add(start == grid * slot)
        f.slot_of[op.id] = slot
        f.aux_hints.append((slot, f.hint[op.id].start // grid if op.id in f.hint else 0))
    for mode in op.modes:
        if op.frozen is not None and mode.machine != op.frozen.machine:
            continue
        ranges = _start_ranges(f, job, op, mode)
        if not ranges:
            continue
        lit = model.new_bool_var(f"x_{op.id}_{mode.machine}")
        f.choice[(op.id, mode.machine)] = lit
        scale = max(1, grid)
        f.span[(op.id, mode.machine)] = (
            min(rs[0][0] for rs in ranges.values()) * scale,
            max(rs[-1][1] * scale + mode.duration + d for d, rs in ranges.items()),
        )
        choice = ModeChoice(job, op, mode, lit, ranges, which=[lit])
        f.modes.append(choice)
        name = f"i_{op.id}_{mode.machine}"
        if not op.pausable and grid == 1:
            f.intervals[mode.machine].append(
                model.new_optional_interval_var(start, mode.duration, end, lit, name)
            )
        elif not op.pausable:
            # Held until the end rounded up to the grid: a constant length from a start on it.
            f.intervals[mode.machine].append(
                model.new_optional_fixed_size_interval_var(
                    start, round_up(mode.duration, grid), lit, name
                )
            )
        else:
            _add_pausable_interval(f, choice, name)


def _add_pausable_interval(f: Formulation, choice: ModeChoice, name: str) -> None:
    """One literal per waiting time; the machine is held for the duration, the wait and the
    rounding up to the grid, a constant for each."""
    model, op, mode = f.model, choice.op, choice.mode
    placed_here = f.hint.get(op.id)
    placed_here = (
        placed_here if placed_here is not None and placed_here.machine == mode.machine else None
    )
    waits = list(choice.ranges)
    if len(waits) > 1:
        choice.which = [model.new_bool_var(f"w_{op.id}_{mode.machine}_{w}") for w in waits]
        for w, b in zip(waits, choice.which):
            f.aux_hints.append(
                (
                    b,
                    int(
                        placed_here is not None
                        and placed_here.end - placed_here.start - mode.duration == w
                    ),
                )
            )
    choice.holds = [round_up(mode.duration + w, f.problem.grid) for w in waits]
    choice.size = model.new_int_var_from_domain(
        cp_model.Domain.from_values(sorted(set(choice.holds))), f"h_{op.id}_{mode.machine}"
    )
    held = model.new_int_var(0, f.horizon + max(choice.holds), f"he_{op.id}_{mode.machine}")
    f.intervals[mode.machine].append(
        model.new_optional_interval_var(f.start_of[op.id], choice.size, held, choice.lit, name)
    )
    if placed_here is not None:
        hold = f.problem.held_until(placed_here.end) - placed_here.start
    else:
        hold = choice.holds[0]
    f.aux_hints.append((choice.size, hold))
    f.aux_hints.append((held, (placed_here.start if placed_here else 0) + hold))


# -- constraint families --------------------------------------------------------------------


def add_calendar(f: Formulation) -> None:
    """The chosen mode confines the start to the starts that keep the operation in one open
    window (or, pausable, to those that give the waiting time chosen) and fixes its end."""
    model = f.model
    for c in f.modes:
        start, end = f.start_of[c.op.id], f.end_of[c.op.id]
        on = f.slot_of.get(c.op.id, start)
        if not c.op.pausable:
            if f.problem.grid > 1:
                model.add(end == start + c.mode.duration).only_enforce_if(c.lit)
            model.add_linear_expression_in_domain(
                on, cp_model.Domain.from_intervals([list(r) for r in c.ranges[0]])
            ).only_enforce_if(c.lit)
            continue
        waits = list(c.ranges)
        if len(waits) > 1:
            model.add(sum(c.which) == c.lit)
        for w, b in zip(waits, c.which):
            model.add_linear_expression_in_domain(
                on, cp_model.Domain.from_intervals([list(r) for r in c.ranges[w]])
            ).only_enforce_if(b)
        model.add(
            end == start + c.mode.duration + sum(w * b for w, b in zip(waits, c.which))
        ).only_enforce_if(c.lit)
        model.add(c.size == sum(h * b for h, b in zip(c.holds, c.which))).only_enforce_if(c.lit)


def add_one_machine(f: Formulation, all_placed_by_greedy: bool) -> None:
    """A placed job's every operation runs on exactly one of its machines; a job with an
    operation that has none is left out. When the greedy schedule placed every job, no job is
    optional, which keeps the model (and its LP) free of the big penalty for leaving one out."""
    lits: dict[str, list] = defaultdict(list)
    for (op_id, _machine), lit in f.choice.items():
        lits[op_id].append(lit)
    for job in f.problem.jobs:
        placed = f.present[job.id]
        if all_placed_by_greedy:
            f.model.add(placed == 1)
        for op in job.operations:
            if lits[op.id]:
                f.model.add(sum(lits[op.id]) == placed)
                continue
            if op.frozen is not None:
                reason = (
                    f"frozen operation {op.id} can no longer run at {op.frozen.start} on "
                    f"{op.frozen.machine} (closed, off the grid, or outside the job's dates)"
                )
            elif op.pausable:
                reason = f"operation {op.id} finds too little open time on its machines"
            else:
                reason = f"operation {op.id} fits in no open window of its machines"
            f.impossible[job.id] = Unscheduled(job.id, reason, UnscheduledKind.no_window)
            f.model.add(placed == 0)


def add_routing(f: Formulation) -> None:
    """Release dates, order with minimum lags, hard deadlines, and the makespan after every
    placed job."""
    for job in f.problem.jobs:
        placed = f.present[job.id]
        previous_end = None
        for op in job.operations:
            start = f.start_of[op.id]
            f.model.add(start >= job.release).only_enforce_if(placed)
            if previous_end is not None:
                f.model.add(start >= previous_end + op.min_lag).only_enforce_if(placed)
            previous_end = f.end_of[op.id]
        assert previous_end is not None  # a job has at least one operation
        if job.deadline is not None:
            f.model.add(previous_end <= job.deadline).only_enforce_if(placed)
        f.model.add(f.makespan >= previous_end).only_enforce_if(placed)


def add_tardiness(f: Formulation) -> None:
    for job in f.problem.jobs:
        if job.id in f.late:
            assert job.due is not None
            last_end = f.end_of[job.operations[-1].id]
            f.model.add(f.late[job.id] >= last_end - job.due).only_enforce_if(f.present[job.id])


def add_no_overlap(f: Formulation) -> None:
    """One machine does one thing at a time: its operations' intervals and its fixed time."""
    for ivs in f.intervals.values():
        if len(ivs) > 1:
            f.model.add_no_overlap(ivs)


def add_load_bounds(f: Formulation) -> None:
    """Redundant linear cuts that give CP-SAT's LP a real lower bound: on a machine that is
    always open, the work it is given all lies before the makespan, and the always-open
    machines together cannot beat their average load. (Fixed time is left out: a booking may
    lie after the makespan.)"""
    problem, model = f.problem, f.model
    durations = f.duration_on
    always_open = {m.id for m in problem.machines if m.open is None}
    load: dict[str, list] = defaultdict(list)
    for (op_id, machine), lit in f.choice.items():
        if machine in always_open:
            load[machine].append(durations[(op_id, machine)] * lit)
    for terms in load.values():
        model.add(sum(terms) <= f.makespan)
    # Work that can only go to always-open machines, spread over all of them.
    if always_open and all(
        m.machine in always_open for j in problem.jobs for o in j.operations for m in o.modes
    ):
        total = [t for terms in load.values() for t in terms]
        model.add(sum(total) <= len(always_open) * f.makespan)


def add_family_setup(f: Formulation) -> None:
    """Operations of different families on one machine are `minutes` apart, in either order.
    Candidates whose possible times on the machine are that far apart already need nothing."""
    policies, model = f.policies, f.model
    if policies.setup is None or policies.setup.minutes <= 0:
        return
    gap = policies.setup.minutes
    job_of = f.job_of
    per_machine: dict[str, list[tuple[str, str, object]]] = defaultdict(list)
    for (op_id, machine), lit in f.choice.items():
        family = policies.family(job_of[op_id].id)
        if family is not None:
            per_machine[machine].append((op_id, family, lit))
    for machine, items in per_machine.items():
        for i, (op_a, fam_a, lit_a) in enumerate(items):
            first_a, last_a = f.span[(op_a, machine)]
            for op_b, fam_b, lit_b in items[i + 1 :]:
                if fam_a == fam_b or op_a == op_b:
                    continue
                first_b, last_b = f.span[(op_b, machine)]
                if first_b - last_a >= gap or first_a - last_b >= gap:
                    continue
                a_first = model.new_bool_var(f"order_{op_a}_{op_b}_{machine}")
                a, b = f.hint.get(op_a), f.hint.get(op_b)
                f.aux_hints.append(
                    (a_first, int(a is not None and b is not None and a.end <= b.start))
                )
                model.add(f.end_of[op_a] + gap <= f.start_of[op_b]).only_enforce_if(
                    [a_first, lit_a, lit_b]
                )
                model.add(f.end_of[op_b] + gap <= f.start_of[op_a]).only_enforce_if(
                    [a_first.Not(), lit_a, lit_b]
                )


def add_share_caps(f: Formulation) -> None:
    """An owner's minutes on a capped group of machines stay within the cap."""
    job_of, duration_on = f.job_of, f.duration_on
    for cap in f.policies.share_caps:
        machines = set(cap.machines)
        per_owner: dict[str, list] = defaultdict(list)
        for (op_id, machine), lit in f.choice.items():
            if machine in machines:
                per_owner[job_of[op_id].owner or ""].append(duration_on[(op_id, machine)] * lit)
        for terms in per_owner.values():
            f.model.add(sum(terms) <= cap.max_minutes)


def add_stability(f: Formulation) -> tuple[list, int]:
    """The cost of moving operations away from a previous solution, and its worst value."""
    stability_cost: list = []
    stability_worst = 0
    if f.policies.stability is None:
        return stability_cost, stability_worst
    st, model, job_of = f.policies.stability, f.model, f.job_of
    for before in st.previous:
        if before.operation not in f.start_of:
            continue
        placed = f.present[job_of[before.operation].id]
        start = f.start_of[before.operation]
        moved = model.new_int_var(0, f.horizon, f"moved_{before.operation}")
        model.add(moved >= start - before.start).only_enforce_if(placed)
        model.add(moved >= before.start - start).only_enforce_if(placed)
        same = f.choice.get((before.operation, before.machine))
        changed = model.new_bool_var(f"changed_{before.operation}")
        model.add(changed + (same if same is not None else 0) >= placed)
        now = f.hint.get(before.operation)
        f.aux_hints.append((moved, abs(now.start - before.start) if now else 0))
        f.aux_hints.append((changed, int(now is not None and now.machine != before.machine)))
        stability_cost.append(st.weight * (moved + st.machine_change * changed))
        stability_worst += st.weight * (f.horizon + st.machine_change)
    return stability_cost, stability_worst


# -- objective and warm start ---------------------------------------------------------------


def set_objective(f: Formulation, stability_cost: list, stability_worst: int) -> None:
    """Weighted tardiness, makespan, moves and machine cost (per mode literal, its
    operation_cost), weighted as the problem says; leaving a job out costs more than any
    schedule of the others."""
    problem = f.problem
    obj = problem.objective
    weighted = (
        obj.weighted_tardiness
        * sum(job.weight * f.late[job.id] for job in problem.jobs if job.id in f.late)
        + obj.makespan * f.makespan
        + sum(stability_cost)
    )
    worst = (
        (obj.weighted_tardiness * sum(j.weight for j in problem.jobs) + obj.makespan) * f.horizon
        + stability_worst
        + 1
    )
    left_out = sum(1 - p for p in f.present.values())
    f.objective_without_cost = None
    if obj.cost:
        # Without the cost, leaving a job out must still cost more than any schedule.
        f.objective_without_cost = weighted + worst * left_out
        # Machine cost: each operation's rupiah on the machine chosen (see operation_cost).
        rate = {m.id: m.cost_per_hour for m in problem.machines}
        duration_on = f.duration_on
        op_cost = {key: operation_cost(duration_on[key], rate[key[1]]) for key in f.choice}
        weighted += obj.cost * sum(
            op_cost[key] * lit for key, lit in f.choice.items() if op_cost[key]
        )
        most: dict[str, int] = defaultdict(int)
        for (op_id, _machine), c in op_cost.items():
            most[op_id] = max(most[op_id], c)
        worst += obj.cost * sum(most.values())
    f.objective = weighted + worst * left_out
    f.model.minimize(f.objective)


def add_hints(f: Formulation, left_out_by_greedy: set[str]) -> None:
    """Warm start from the greedy schedule, every variable hinted."""
    model = f.model
    for job in f.problem.jobs:
        model.add_hint(f.present[job.id], job.id not in left_out_by_greedy)
    for (op_id, machine), lit in f.choice.items():
        a = f.hint.get(op_id)
        model.add_hint(lit, a is not None and a.machine == machine)
    for op_id, a in f.hint.items():
        model.add_hint(f.start_of[op_id], a.start)
        model.add_hint(f.end_of[op_id], a.end)
    for op_id in f.start_of.keys() - f.hint.keys():
        # An operation of a job the greedy left out: absent, so any value does.
        model.add_hint(f.start_of[op_id], 0)
        model.add_hint(f.end_of[op_id], 0)
    for var, value in f.aux_hints:
        model.add_hint(var, value)
