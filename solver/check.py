"""An independent checker: recomputes every constraint and the objective from scratch.

It shares nothing with the model or the greedy builder but the dataclasses, so a bug in
either shows up here. An empty list means the solution is valid.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from solver.problem import Assignment, Policies, Problem, Solution, operation_cost


def objective_terms(
    problem: Problem, assignments: dict[str, Assignment], policies: Policies | None = None
) -> dict[str, int]:
    tardiness = 0
    weighted = 0
    makespan = 0
    for job in problem.jobs:
        last = assignments.get(job.operations[-1].id)
        if last is None:
            continue
        makespan = max(makespan, last.end)
        if job.due is not None:
            late = max(0, last.end - job.due)
            tardiness += late
            weighted += job.weight * late
    terms = {
        "weighted_tardiness": weighted,
        "tardiness": tardiness,
        "makespan": makespan,
        "cost": _machine_cost(problem, assignments),
    }
    if policies is not None and policies.stability is not None:
        moved = changed = 0
        for before in policies.stability.previous:
            now = assignments.get(before.operation)
            if now is None:
                continue
            moved += abs(now.start - before.start)
            changed += now.machine != before.machine
        terms["moved_minutes"] = moved
        terms["machines_changed"] = changed
    return terms


def _machine_cost(problem: Problem, assignments: dict[str, Assignment]) -> int:
    """Rupiah of machine time: each operation's duration at its machine's rate, rounded to the
    nearest rupiah per operation (operation_cost)."""
    rate = {m.id: m.cost_per_hour for m in problem.machines}
    total = 0
    for job in problem.jobs:
        for op in job.operations:
            a = assignments.get(op.id)
            if a is None or not rate.get(a.machine):
                continue
            duration = next((m.duration for m in op.modes if m.machine == a.machine), None)
            if duration is not None:
                total += operation_cost(duration, rate[a.machine])
    return total


def objective_value(
    problem: Problem, terms: dict[str, int], policies: Policies | None = None
) -> int:
    value = (
        problem.objective.weighted_tardiness * terms["weighted_tardiness"]
        + problem.objective.makespan * terms["makespan"]
    )
    if problem.objective.cost:
        value += problem.objective.cost * terms["cost"]
    if policies is not None and policies.stability is not None:
        st = policies.stability
        value += st.weight * (
            terms["moved_minutes"] + st.machine_change * terms["machines_changed"]
        )
    return value


def _check_policies(
    problem: Problem, by_op: dict[str, Assignment], policies: Policies
) -> list[str]:
    problems: list[str] = []
    job_of = {o.id: j for j in problem.jobs for o in j.operations}
    work = {
        (o.id, m.machine): m.duration for j in problem.jobs for o in j.operations for m in o.modes
    }
    if policies.setup is not None and policies.setup.minutes > 0:
        gap = policies.setup.minutes
        per_machine: dict[str, list[tuple[Assignment, str]]] = defaultdict(list)
        for a in by_op.values():
            family = policies.family(job_of[a.operation].id) if a.operation in job_of else None
            if family is not None:
                per_machine[a.machine].append((a, family))
        for machine, items in per_machine.items():
            for i, (a, fa) in enumerate(items):
                for b, fb in items[i + 1 :]:
                    if fa != fb and max(b.start - a.end, a.start - b.end) < gap:
                        problems.append(
                            f"operations {a.operation} ({fa}) and {b.operation} ({fb}) "
                            f"on {machine} are less than {gap} minutes apart for cleaning"
                        )
    for cap in policies.share_caps:
        used: dict[str, int] = defaultdict(int)
        machines = set(cap.machines)
        for a in by_op.values():
            if a.machine in machines and a.operation in job_of:
                used[job_of[a.operation].owner or ""] += work.get(
                    (a.operation, a.machine), a.end - a.start
                )
        for owner, minutes in sorted(used.items()):
            if minutes > cap.max_minutes:
                problems.append(
                    f"{owner or 'an owner'} holds {minutes} minutes of {cap.name or 'a capped group'},"
                    f" above its cap of {cap.max_minutes}"
                )
    return problems


def check(problem: Problem, solution: Solution, policies: Policies | None = None) -> list[str]:
    problems: list[str] = []
    by_op: dict[str, Assignment] = {}
    for a in solution.assignments:
        if a.operation in by_op:
            problems.append(f"operation {a.operation} is assigned twice")
        by_op[a.operation] = a
    unscheduled = {u.job for u in solution.unscheduled}
    known_ops: set[str] = set()
    busy: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for f in problem.fixed:
        busy[f.machine].append((f.start, f.end, f"fixed {f.id}"))
    for job in problem.jobs:
        assigned = [by_op.get(o.id) for o in job.operations]
        known_ops.update(o.id for o in job.operations)
        if job.id in unscheduled:
            if any(assigned):
                problems.append(f"job {job.id} is unscheduled but has assigned operations")
            continue
        if not all(assigned):
            problems.append(f"job {job.id} is neither fully scheduled nor listed as unscheduled")
            continue
        previous_end = None
        for op, maybe in zip(job.operations, assigned):
            assert maybe is not None
            a = maybe
            durations = {m.machine: m.duration for m in op.modes}
            if a.machine not in durations:
                problems.append(
                    f"operation {op.id} runs on {a.machine}, which is not one of its modes"
                )
                continue
            windows = problem.windows(a.machine)
            if op.pausable:
                # Open minutes used, counted over the windows: exactly the duration, from a start
                # inside a window to an end inside one.
                used = sum(max(0, min(a.end, e) - max(a.start, s)) for s, e in windows)
                if used != durations[a.machine]:
                    problems.append(
                        f"operation {op.id} uses {used} open minutes, its mode needs {durations[a.machine]}"
                    )
                if not any(s <= a.start < e for s, e in windows):
                    problems.append(
                        f"operation {op.id} starts at {a.start}, when {a.machine} is closed"
                    )
                if not any(s < a.end <= e for s, e in windows):
                    problems.append(
                        f"operation {op.id} ends at {a.end}, when {a.machine} is closed"
                    )
            else:
                if a.end - a.start != durations[a.machine]:
                    problems.append(
                        f"operation {op.id} lasts {a.end - a.start}, its mode needs {durations[a.machine]}"
                    )
                if not any(s <= a.start and a.end <= e for s, e in windows):
                    problems.append(
                        f"operation {op.id} [{a.start}, {a.end}) is not inside one open window of {a.machine}"
                    )
            if a.start < 0 or a.end > problem.horizon:
                problems.append(f"operation {op.id} lies outside the horizon")
            if a.start % problem.grid:
                problems.append(
                    f"operation {op.id} starts at {a.start}, off the grid of {problem.grid} minutes"
                )
            if op.frozen is not None and (a.machine, a.start) != (
                op.frozen.machine,
                op.frozen.start,
            ):
                problems.append(
                    f"frozen operation {op.id} moved from {op.frozen.start} on {op.frozen.machine} "
                    f"to {a.start} on {a.machine}"
                )
            if a.start < job.release:
                problems.append(f"operation {op.id} starts before the job's release {job.release}")
            if previous_end is not None and a.start < previous_end + op.min_lag:
                problems.append(
                    f"operation {op.id} starts before its predecessor ends plus lag {op.min_lag}"
                )
            previous_end = a.end
            # Held until the end rounded up to the grid.
            busy[a.machine].append(
                (a.start, -(-a.end // problem.grid) * problem.grid, f"operation {op.id}")
            )
        if job.deadline is not None and previous_end is not None and previous_end > job.deadline:
            problems.append(
                f"job {job.id} ends at {previous_end}, after its deadline {job.deadline}"
            )
    for op_id in set(by_op) - known_ops:
        problems.append(f"operation {op_id} is not in the problem")
    for machine, intervals in busy.items():
        intervals.sort()
        for (_s1, e1, n1), (s2, _e2, n2) in itertools.pairwise(intervals):
            if s2 < e1:
                problems.append(f"{n1} and {n2} overlap on {machine}")
    if policies is not None:
        problems.extend(_check_policies(problem, by_op, policies))
    if solution.objective is not None and not problems:
        expected = objective_value(problem, objective_terms(problem, by_op, policies), policies)
        if expected != solution.objective:
            problems.append(f"objective is {solution.objective}, recomputed {expected}")
    if solution.cost is not None and not problems:
        expected = _machine_cost(problem, by_op)
        if expected != solution.cost:
            problems.append(f"machine cost is {solution.cost}, recomputed {expected}")
    return problems
