"""Where an operation can go on one machine, and the machines' state while a greedy schedule
is built: open windows and busy time, the cleaning gap from other families' work, the slot
grid (starts on it, the machine held until the end rounded up to it), pausable operations
that use their open minutes and wait through closed time, frozen operations pinned where they
are, and share caps per owner. Used by solver.greedy's builders.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from solver.calendar import Calendar
from solver.problem import (
    Assignment,
    Job,
    Operation,
    Policies,
    Problem,
    operation_cost,
)


def earliest_fit(windows, busy: list[tuple[int, int]], earliest: int, duration: int) -> int | None:
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


def blocked_time(
    busy: list[tuple[int, int]],
    family_work: list[tuple[int, int, str]],
    family: str | None,
    setup: int,
) -> list[tuple[int, int]]:
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


def clash(busy: list[tuple[int, int]], start: int, until: int) -> int | None:
    """The end of the first busy interval overlapping [start, until), if any."""
    i = max(0, bisect.bisect_left(busy, (start, start)) - 1)
    for bs, be in busy[i:]:
        if bs >= until:
            break
        if be > start:
            return be
    return None


def earliest_fit_on(
    calendar: Calendar,
    busy: list[tuple[int, int]],
    earliest: int,
    duration: int,
    grid: int,
    pausable: bool,
) -> tuple[int, int] | None:
    """(start, end) of the earliest placement from `earliest` with the start on the grid and
    the machine free until the end rounded up to it; a pausable operation may wait through
    closed time, any other stays inside one window."""
    if pausable:
        starts, ends = calendar.starts, calendar.ends
    else:
        starts, ends = calendar.window_starts, calendar.window_ends
    start = -(-earliest // grid) * grid
    k = bisect.bisect_right(ends, start)
    # Busy intervals before i end before `start`; `start` only grows, so i only grows.
    i = max(0, bisect.bisect_left(busy, (start, start)) - 1)
    n_windows, n_busy = len(ends), len(busy)
    while True:
        while k < n_windows:
            s = -(-starts[k] // grid) * grid
            s = max(s, start)
            if (s < ends[k]) if pausable else (s + duration <= ends[k]):
                break
            k += 1
        else:
            return None
        end = calendar.pausable_end(s, duration, k) if pausable else s + duration
        if end is None:
            return None  # too little open time left in the horizon
        until = -(-end // grid) * grid
        clash = None
        while i < n_busy:
            bs, be = busy[i]
            if bs >= until:
                break
            if be > s:
                clash = be
                break
            i += 1
        if clash is None:
            return s, end
        start = -(-clash // grid) * grid


class PlacementState:
    """Machine calendars being filled: busy time, each family's work, owners' capped minutes.
    Frozen operations hold their place from the start (`reserved`) until placed or given up."""

    def __init__(self, problem: Problem, policies: Policies) -> None:
        self.problem = problem
        self.policies = policies
        self.grid = problem.grid
        self.setup = policies.setup.minutes if policies.setup else 0
        self.busy: dict[str, list[tuple[int, int]]] = {m.id: [] for m in problem.machines}
        self.family_work: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        self.share_used: dict[tuple[int, str], int] = defaultdict(int)
        self.caps_of: dict[str, list[int]] = defaultdict(list)
        for k, cap in enumerate(policies.share_caps):
            for m in cap.machines:
                self.caps_of[m].append(k)
        for f in problem.fixed:
            bisect.insort(self.busy[f.machine], (f.start, f.end))
        self.windows = {m.id: problem.windows(m.id) for m in problem.machines}
        self.calendars = {m: Calendar(w) for m, w in self.windows.items()}
        self.duration = {
            (o.id, m.machine): m.duration
            for j in problem.jobs
            for o in j.operations
            for m in o.modes
        }
        rate = {m.id: m.cost_per_hour for m in problem.machines}
        self.cost = (
            {key: operation_cost(d, rate[key[1]]) for key, d in self.duration.items()}
            if problem.objective.cost
            else {}
        )
        self.reserved: set[str] = set()
        for job in problem.jobs:
            for op in job.operations:
                pin = self.pinned(op)
                if pin is not None:
                    self._hold(pin, policies.family(job.id), 1)
                    self.reserved.add(op.id)

    def pinned(self, op: Operation) -> Assignment | None:
        """A frozen operation where it is frozen, if that is open on its machine and on the grid."""
        if op.frozen is None or (op.id, op.frozen.machine) not in self.duration:
            return None
        machine, start = op.frozen.machine, op.frozen.start
        duration = self.duration[(op.id, machine)]
        if start % self.grid:
            return None
        if op.pausable:
            end = self.calendars[machine].pausable_end(start, duration)
            if end is None:
                return None
        else:
            end = start + duration
            if not any(ws <= start and end <= we for ws, we in self.windows[machine]):
                return None
        return Assignment(op.id, machine, start, end)

    def _hold(self, a: Assignment, family: str | None, sign: int) -> None:
        held = (a.start, self.problem.held_until(a.end))
        if sign > 0:
            bisect.insort(self.busy[a.machine], held)
            if family is not None:
                self.family_work[a.machine].append((*held, family))
        else:
            self.busy[a.machine].remove(held)
            if family is not None:
                self.family_work[a.machine].remove((*held, family))

    def best_mode(
        self,
        op: Operation,
        earliest: int,
        family: str | None,
        owner: str,
        fits: dict[str, tuple[int, int] | None] | None = None,
    ) -> tuple[Assignment | None, bool]:
        """The mode that ends earliest from `earliest` (then the cheaper machine, when cost
        counts), and whether a share cap ruled one out. A frozen operation only where it is.
        `fits`: each machine's earliest (start, end) for this operation and `earliest`, kept
        by the caller while that machine's busy time does not change across it."""
        best = None
        best_key = None
        capped = False
        for mode in op.modes:
            if op.frozen is not None and mode.machine != op.frozen.machine:
                continue
            if any(
                self.share_used[(k, owner)] + mode.duration
                > self.policies.share_caps[k].max_minutes
                for k in self.caps_of.get(mode.machine, ())
            ):
                capped = True
                continue
            if op.frozen is not None:
                pin = self.pinned(op)
                if pin is None or pin.start < earliest or op.id not in self.reserved:
                    continue
                # Free but for its own reservation.
                held = (pin.start, self.problem.held_until(pin.end))
                busy = [b for b in self.busy[mode.machine] if b != held]
                work = [w for w in self.family_work[mode.machine] if w != (*held, family)]
                blocked = blocked_time(busy, work, family, self.setup)
                if clash(blocked, *held) is None:
                    best = pin
                continue
            if fits is not None and mode.machine in fits:
                fit = fits[mode.machine]
            else:
                fit = self._fit(op, mode.machine, mode.duration, earliest, family)
                if fits is not None:
                    fits[mode.machine] = fit
            if fit is None:
                continue
            key = (fit[1], self.cost.get((op.id, mode.machine), 0))
            if best is None or key < best_key:  # type: ignore[operator]
                best, best_key = Assignment(op.id, mode.machine, *fit), key
        return best, capped

    def _fit(
        self, op: Operation, machine: str, duration: int, earliest: int, family: str | None
    ) -> tuple[int, int] | None:
        blocked = blocked_time(self.busy[machine], self.family_work[machine], family, self.setup)
        if self.grid == 1 and not op.pausable:
            start = earliest_fit(self.windows[machine], blocked, earliest, duration)
            return None if start is None else (start, start + duration)
        return earliest_fit_on(
            self.calendars[machine], blocked, earliest, duration, self.grid, op.pausable
        )

    def place(self, a: Assignment, family: str | None, owner: str, sign: int = 1) -> None:
        if sign > 0 and a.operation in self.reserved:
            self.reserved.discard(a.operation)  # its time is held already
        else:
            self._hold(a, family, sign)
        for k in self.caps_of.get(a.machine, ()):
            self.share_used[(k, owner)] += sign * self.duration.get(
                (a.operation, a.machine), a.end - a.start
            )

    def give_up(self, job: Job, family: str | None) -> None:
        """Free the reservations of a job left out: its frozen operations not yet placed."""
        for op in job.operations:
            if op.id in self.reserved:
                pin = self.pinned(op)
                assert pin is not None
                self._hold(pin, family, -1)
                self.reserved.discard(op.id)
