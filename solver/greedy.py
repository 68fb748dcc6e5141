"""A greedy schedule that honours every hard constraint, built in milliseconds.

Jobs in order of due date (then release, then weight); each operation goes on the mode that
ends earliest, at the first gap of that machine inside one open window. A job that cannot be
placed (no window fits, or its deadline cannot be met) is left out whole, with the reason.
"""

from __future__ import annotations

import bisect

from solver.problem import Assignment, Job, Problem, Unscheduled

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


def greedy(problem: Problem) -> tuple[list[Assignment], list[Unscheduled]]:
    busy: dict[str, list[tuple[int, int]]] = {m.id: [] for m in problem.machines}
    for f in problem.fixed:
        bisect.insort(busy[f.machine], (f.start, f.end))
    windows = {m.id: problem.windows(m.id) for m in problem.machines}
    assignments: list[Assignment] = []
    unscheduled: list[Unscheduled] = []
    for job in sorted(problem.jobs, key=_job_order):
        placed: list[Assignment] = []
        earliest = job.release
        reason = None
        for op in job.operations:
            earliest += op.min_lag if placed else 0
            best = None
            for mode in op.modes:
                start = _earliest_fit(windows[mode.machine], busy[mode.machine], earliest, mode.duration)
                if start is not None and (best is None or start + mode.duration < best.end):
                    best = Assignment(op.id, mode.machine, start, start + mode.duration)
            if best is None:
                reason = f"operation {op.id} fits in no open window of its machines after {earliest}"
                break
            placed.append(best)
            bisect.insort(busy[best.machine], (best.start, best.end))
            earliest = best.end
        if reason is None and job.deadline is not None and placed[-1].end > job.deadline:
            reason = f"the earliest finish found ({placed[-1].end}) is after the deadline {job.deadline}"
        if reason is not None:
            for a in placed:
                busy[a.machine].remove((a.start, a.end))
            unscheduled.append(Unscheduled(job.id, reason))
            continue
        assignments.extend(placed)
    return assignments, unscheduled
