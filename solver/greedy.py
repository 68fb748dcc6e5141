"""A greedy schedule that honours every hard constraint, built in milliseconds.

Jobs in order of due date (then release, then weight); each operation goes on the mode that
ends earliest, at the first gap of that machine inside one open window. A job that cannot be
placed (no window fits, or its deadline cannot be met) is left out whole, with the reason.
With policies, an operation keeps the cleaning gap from other families' work on its machine
and an owner never goes above a share cap.
"""

from __future__ import annotations

import bisect

from collections import defaultdict

from solver.problem import Assignment, Job, Policies, Problem, Unscheduled

INFINITY = 10**12


def _earliest_fit(windows, busy: list[tuple[int, int]], earliest: int, duration: int) -> int | None:
    for ws, we in windows:
        if we - duration < earliest:
            continue
        start = max(ws, earliest)
        i = max(0, bisect.bisect_left(busy, (start, start)) - 1)
        while start + duration <= we:
            clash = None
            for bs, be in busy[i:]:
                if bs >= start + duration:
                    break
                if be > start:
                    clash = be
                    break
            if clash is None:
                return start
            start = clash
        # try the next window
    return None


def _job_order(job: Job) -> tuple[int, int, int]:
    return (job.due if job.due is not None else (job.deadline if job.deadline is not None else INFINITY),
            job.release, -job.weight)


def _blocked(busy: list[tuple[int, int]], family_work: list[tuple[int, int, str]],
             family: str | None, setup: int) -> list[tuple[int, int]]:
    """The machine's busy intervals as seen by an operation of `family`: other families' work
    widened by the cleaning time on both sides."""
    if family is None or setup <= 0:
        return busy
    widened = [(s - setup, e + setup) for s, e, f in family_work if f != family]
    if not widened:
        return busy
    # Merged into disjoint intervals: the gap search assumes they do not overlap.
    merged: list[tuple[int, int]] = []
    for s, e in sorted(busy + widened):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def greedy(problem: Problem, policies: Policies | None = None) -> tuple[list[Assignment], list[Unscheduled]]:
    policies = policies or Policies()
    setup = policies.setup.minutes if policies.setup else 0
    busy: dict[str, list[tuple[int, int]]] = {m.id: [] for m in problem.machines}
    family_work: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    share_used: dict[tuple[int, str], int] = defaultdict(int)
    caps_of: dict[str, list[int]] = defaultdict(list)
    for k, cap in enumerate(policies.share_caps):
        for m in cap.machines:
            caps_of[m].append(k)
    for f in problem.fixed:
        bisect.insort(busy[f.machine], (f.start, f.end))
    windows = {m.id: problem.windows(m.id) for m in problem.machines}
    assignments: list[Assignment] = []
    unscheduled: list[Unscheduled] = []
    for job in sorted(problem.jobs, key=_job_order):
        placed: list[Assignment] = []
        earliest = job.release
        reason = None
        family = policies.family(job.id)
        owner = job.owner or ""
        for op in job.operations:
            earliest += op.min_lag if placed else 0
            best = None
            capped = False
            for mode in op.modes:
                if any(share_used[(k, owner)] + mode.duration > policies.share_caps[k].max_minutes
                       for k in caps_of.get(mode.machine, ())):
                    capped = True
                    continue
                blocked = _blocked(busy[mode.machine], family_work[mode.machine], family, setup)
                start = _earliest_fit(windows[mode.machine], blocked, earliest, mode.duration)
                if start is not None and (best is None or start + mode.duration < best.end):
                    best = Assignment(op.id, mode.machine, start, start + mode.duration)
            if best is None:
                reason = (f"operation {op.id} would take its owner above a share cap" if capped else
                          f"operation {op.id} fits in no open window of its machines after {earliest}")
                break
            placed.append(best)
            bisect.insort(busy[best.machine], (best.start, best.end))
            if family is not None:
                family_work[best.machine].append((best.start, best.end, family))
            for k in caps_of.get(best.machine, ()):
                share_used[(k, owner)] += best.end - best.start
            earliest = best.end
        if reason is None and job.deadline is not None and placed[-1].end > job.deadline:
            reason = f"the earliest finish found ({placed[-1].end}) is after the deadline {job.deadline}"
        if reason is not None:
            for a in placed:
                busy[a.machine].remove((a.start, a.end))
                if family is not None:
                    family_work[a.machine].remove((a.start, a.end, family))
                for k in caps_of.get(a.machine, ()):
                    share_used[(k, owner)] -= a.end - a.start
            unscheduled.append(Unscheduled(job.id, reason))
            continue
        assignments.extend(placed)
    return assignments, unscheduled
