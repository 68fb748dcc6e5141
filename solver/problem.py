"""The solver's input and output: frozen dataclasses mirroring factoryshare-problem/1 and
factoryshare-solution/1. Times are integer minutes from the start of the horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """How far the solver got: a string enum, so `status == "optimal"` and JSON keep working."""

    optimal = "optimal"
    feasible = "feasible"
    infeasible = "infeasible"
    unknown = "unknown"


STATUSES = tuple(s.value for s in Status)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check_windows(windows: tuple[tuple[int, int], ...], what: str) -> None:
    last_end = None
    for s, e in windows:
        _require(0 <= s < e, f"{what}: window ({s}, {e}) must have 0 <= start < end")
        _require(
            last_end is None or s >= last_end,
            f"{what}: windows must be sorted and must not overlap",
        )
        last_end = e


@dataclass(frozen=True)
class Machine:
    id: str
    # Half-open windows [start, end) in which the machine may work; None means always open.
    open: tuple[tuple[int, int], ...] | None = None
    # What an hour of this machine costs, in whole rupiah (0: nothing, or not known).
    cost_per_hour: int = 0

    def __post_init__(self) -> None:
        if self.open is not None:
            _check_windows(self.open, f"machine {self.id}")
        _require(self.cost_per_hour >= 0, f"machine {self.id}: cost_per_hour must be at least 0")


@dataclass(frozen=True)
class FixedInterval:
    id: str
    machine: str
    start: int
    end: int

    def __post_init__(self) -> None:
        _require(0 <= self.start < self.end, f"fixed {self.id}: must have 0 <= start < end")


@dataclass(frozen=True)
class Mode:
    machine: str
    duration: int

    def __post_init__(self) -> None:
        _require(self.duration >= 1, f"mode on {self.machine}: duration must be at least 1")


@dataclass(frozen=True)
class Frozen:
    """Where a frozen operation stays in every re-plan: its machine and its start (published work
    in the house's frozen window). Its end follows from the mode's duration and the calendar."""

    machine: str
    start: int

    def __post_init__(self) -> None:
        _require(self.start >= 0, f"frozen on {self.machine}: start must be at least 0")


@dataclass(frozen=True)
class Operation:
    id: str
    modes: tuple[Mode, ...]
    min_lag: int = 0
    # May pause while its machine is closed: starts inside an open window, uses exactly the
    # mode's duration of open minutes of one machine, may span closed time, ends inside a
    # window and holds the machine from start to end. Otherwise it runs inside one window.
    pausable: bool = False
    frozen: Frozen | None = None

    def __post_init__(self) -> None:
        _require(bool(self.modes), f"operation {self.id}: needs at least one mode")
        _require(self.min_lag >= 0, f"operation {self.id}: min_lag must be at least 0")
        _require(
            self.frozen is None or any(m.machine == self.frozen.machine for m in self.modes),
            f"operation {self.id}: frozen on a machine that is not one of its modes",
        )


@dataclass(frozen=True)
class Job:
    id: str
    operations: tuple[Operation, ...]
    owner: str | None = None
    release: int = 0
    due: int | None = None
    deadline: int | None = None
    weight: int = 1

    def __post_init__(self) -> None:
        _require(bool(self.operations), f"job {self.id}: needs at least one operation")
        _require(
            self.release >= 0 and self.weight >= 0,
            f"job {self.id}: release and weight must be at least 0",
        )
        _require(self.due is None or self.due >= 0, f"job {self.id}: due must be at least 0")
        _require(
            self.deadline is None or self.deadline >= 0,
            f"job {self.id}: deadline must be at least 0",
        )


@dataclass(frozen=True)
class Objective:
    weighted_tardiness: int = 0
    makespan: int = 0
    # The weight of one rupiah of machine cost (see operation_cost).
    cost: int = 0

    def __post_init__(self) -> None:
        _require(
            min(self.weighted_tardiness, self.makespan, self.cost) >= 0,
            "objective weights must be at least 0",
        )


@dataclass(frozen=True)
class Problem:
    name: str
    horizon: int
    machines: tuple[Machine, ...]
    jobs: tuple[Job, ...]
    fixed: tuple[FixedInterval, ...] = ()
    objective: Objective = field(default_factory=Objective)
    # Every operation starts on a multiple of `grid` minutes (the horizon starts at midnight
    # house time) and holds its machine until its end rounded up to the grid; 1: no grid.
    grid: int = 1

    def __post_init__(self) -> None:
        _require(self.horizon >= 1, "horizon must be at least 1")
        _require(self.grid >= 1, "grid must be at least 1")
        machines = {m.id for m in self.machines}
        _require(len(machines) == len(self.machines), "machine ids must be unique")
        _require(len({j.id for j in self.jobs}) == len(self.jobs), "job ids must be unique")
        operations = [o for j in self.jobs for o in j.operations]
        _require(len({o.id for o in operations}) == len(operations), "operation ids must be unique")
        for o in operations:
            for m in o.modes:
                _require(m.machine in machines, f"operation {o.id}: unknown machine {m.machine}")
        for f in self.fixed:
            _require(f.machine in machines, f"fixed {f.id}: unknown machine {f.machine}")

    def held_until(self, end: int) -> int:
        """Until when an operation ending at `end` keeps its machine: the end rounded up to the grid."""
        return -(-end // self.grid) * self.grid

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
        return tuple(
            (max(0, s), min(self.horizon, e)) for s, e in m.open if min(self.horizon, e) > max(0, s)
        )


def operation_cost(duration: int, cost_per_hour: int) -> int:
    """The machine cost of `duration` minutes at `cost_per_hour` rupiah, in whole rupiah, rounded
    to the nearest (halves up). A plan's cost is the sum of its operations' costs, each rounded."""
    return (duration * cost_per_hour + 30) // 60


@dataclass(frozen=True)
class Assignment:
    operation: str
    machine: str
    start: int
    end: int


# Why a job was left out, for whoever has to act on it (the words are in `reason`):
# no_window - an operation fits in no open window of its machines (too long, or nothing open
#             between its release and its deadline);
# deadline  - the job cannot end by its deadline;
# share_cap - placing it would take its owner above a share cap;
# capacity  - it does not fit beside the other jobs and the fixed time;
# unknown   - read back from a solution file, which carries the words only.
class UnscheduledKind(StrEnum):
    no_window = "no_window"
    deadline = "deadline"
    share_cap = "share_cap"
    capacity = "capacity"
    unknown = "unknown"


UNSCHEDULED_KINDS = tuple(k.value for k in UnscheduledKind)


@dataclass(frozen=True)
class Unscheduled:
    job: str
    reason: str
    kind: UnscheduledKind = UnscheduledKind.unknown

    def __post_init__(self) -> None:
        if self.kind not in UNSCHEDULED_KINDS:
            raise ValueError(f"unscheduled kind must be one of {', '.join(UNSCHEDULED_KINDS)}")
        object.__setattr__(self, "kind", UnscheduledKind(self.kind))


@dataclass(frozen=True)
class Solution:
    status: Status
    objective: int | None
    bound: int | None
    seconds: float
    assignments: tuple[Assignment, ...]
    unscheduled: tuple[Unscheduled, ...] = ()
    # Each objective term unweighted, reported separately (not part of the file format).
    terms: dict[str, int] = field(default_factory=dict)
    first_feasible_seconds: float | None = None
    # The plan's machine cost in rupiah (sum of operation_cost over its operations), reported
    # apart from the objective; None when not known (a solution file that does not say).
    cost: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        object.__setattr__(self, "status", Status(self.status))

    @property
    def gap(self) -> float | None:
        """How far the objective may still be from the optimum, as a share of it:
        (objective - bound) / objective; 0 when proven optimal, None without a bound."""
        if self.bound is None or self.objective is None:
            return None
        return (self.objective - self.bound) / self.objective if self.objective else 0.0


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    log: bool = False
    # CP-SAT's deterministic time (its own measure of work, in "seconds") for the search, on top
    # of the wall-clock `time_limit`: with one worker the same problem, seed and limit give the
    # same schedule however loaded the machine is. None: the clock alone.
    deterministic_time: float | None = None

    def __post_init__(self) -> None:
        _require(self.time_limit > 0, "time_limit must be above 0")
        _require(self.workers >= 1, "workers must be at least 1")
        _require(
            self.deterministic_time is None or self.deterministic_time > 0,
            "deterministic_time must be above 0",
        )


# ---------------------------------------------------------------------------------------------
# Policies beyond the problem format: a house's rules that the service passes alongside.


@dataclass(frozen=True)
class FamilySetup:
    """Cleaning between product families: on one machine, an operation of a job of one family
    and an operation of a job of another family are at least `minutes` apart (halal and
    non-halal lines, allergen-free runs). Jobs without a family need no cleaning."""

    families: dict[str, str]  # job id -> family
    minutes: int

    def __post_init__(self) -> None:
        _require(self.minutes >= 0, "setup minutes must be at least 0")


@dataclass(frozen=True)
class ShareCap:
    """Fairness on a scarce capability: one owner holds at most `max_minutes` of the work on
    these machines over the horizon, so nobody takes every slot of the only vacuum fryer."""

    machines: tuple[str, ...]
    max_minutes: int
    name: str = ""

    def __post_init__(self) -> None:
        _require(self.max_minutes >= 0, f"share cap {self.name}: max_minutes must be at least 0")


@dataclass(frozen=True)
class Stability:
    """A previous solution to stay close to: each operation that was placed before costs
    `weight` per minute its start moves, plus `machine_change` minutes if its machine changes."""

    previous: tuple[Assignment, ...]
    weight: int = 1
    machine_change: int = 60

    def __post_init__(self) -> None:
        _require(
            self.weight >= 0 and self.machine_change >= 0,
            "stability weight and machine_change must be at least 0",
        )


@dataclass(frozen=True)
class Policies:
    setup: FamilySetup | None = None
    share_caps: tuple[ShareCap, ...] = ()
    stability: Stability | None = None

    def family(self, job_id: str) -> str | None:
        return self.setup.families.get(job_id) if self.setup else None
