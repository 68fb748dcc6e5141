"""The solver's input and output: frozen dataclasses mirroring factoryshare-problem/1 and
factoryshare-solution/1. Times are integer minutes from the start of the horizon."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("optimal", "feasible", "infeasible", "unknown")


@dataclass(frozen=True)
class Machine:
    id: str
    # Half-open windows [start, end) in which the machine may work; None means always open.
    open: tuple[tuple[int, int], ...] | None = None


@dataclass(frozen=True)
class FixedInterval:
    id: str
    machine: str
    start: int
    end: int


@dataclass(frozen=True)
class Mode:
    machine: str
    duration: int


@dataclass(frozen=True)
class Operation:
    id: str
    modes: tuple[Mode, ...]
    min_lag: int = 0


@dataclass(frozen=True)
class Job:
    id: str
    operations: tuple[Operation, ...]
    owner: str | None = None
    release: int = 0
    due: int | None = None
    deadline: int | None = None
    weight: int = 1


@dataclass(frozen=True)
class Objective:
    weighted_tardiness: int = 0
    makespan: int = 0


@dataclass(frozen=True)
class Problem:
    name: str
    horizon: int
    machines: tuple[Machine, ...]
    jobs: tuple[Job, ...]
    fixed: tuple[FixedInterval, ...] = ()
    objective: Objective = field(default_factory=Objective)

    def machine(self, machine_id: str) -> Machine:
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(machine_id)

    def windows(self, machine_id: str) -> tuple[tuple[int, int], ...]:
        """The machine's open windows, clipped to the horizon."""
        m = self.machine(machine_id)
        if m.open is None:
            return ((0, self.horizon),)
        return tuple((max(0, s), min(self.horizon, e)) for s, e in m.open if min(self.horizon, e) > max(0, s))


@dataclass(frozen=True)
class Assignment:
    operation: str
    machine: str
    start: int
    end: int


@dataclass(frozen=True)
class Unscheduled:
    job: str
    reason: str


@dataclass(frozen=True)
class Solution:
    status: str
    objective: int | None
    bound: int | None
    seconds: float
    assignments: tuple[Assignment, ...]
    unscheduled: tuple[Unscheduled, ...] = ()
    # Each objective term unweighted, reported separately (not part of the file format).
    terms: dict[str, int] = field(default_factory=dict)
    first_feasible_seconds: float | None = None


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    log: bool = False
