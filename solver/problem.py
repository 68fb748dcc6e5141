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


# Why a job was left out, for whoever has to act on it (the words are in `reason`):
# no_window - an operation fits in no open window of its machines (too long, or nothing open
#             between its release and its deadline);
# deadline  - the job cannot end by its deadline;
# share_cap - placing it would take its owner above a share cap;
# capacity  - it does not fit beside the other jobs and the fixed time;
# unknown   - read back from a solution file, which carries the words only.
UNSCHEDULED_KINDS = ("no_window", "deadline", "share_cap", "capacity", "unknown")


@dataclass(frozen=True)
class Unscheduled:
    job: str
    reason: str
    kind: str = "unknown"

    def __post_init__(self) -> None:
        if self.kind not in UNSCHEDULED_KINDS:
            raise ValueError(f"unscheduled kind must be one of {', '.join(UNSCHEDULED_KINDS)}")


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


# ---------------------------------------------------------------------------------------------
# Policies beyond the problem format: a house's rules that the service passes alongside.

@dataclass(frozen=True)
class FamilySetup:
    """Cleaning between product families: on one machine, an operation of a job of one family
    and an operation of a job of another family are at least `minutes` apart (halal and
    non-halal lines, allergen-free runs). Jobs without a family need no cleaning."""

    families: dict[str, str]  # job id -> family
    minutes: int


@dataclass(frozen=True)
class ShareCap:
    """Fairness on a scarce capability: one owner holds at most `max_minutes` of the work on
    these machines over the horizon, so nobody takes every slot of the only vacuum fryer."""

    machines: tuple[str, ...]
    max_minutes: int
    name: str = ""


@dataclass(frozen=True)
class Stability:
    """A previous solution to stay close to: each operation that was placed before costs
    `weight` per minute its start moves, plus `machine_change` minutes if its machine changes."""

    previous: tuple[Assignment, ...]
    weight: int = 1
    machine_change: int = 60


@dataclass(frozen=True)
class Policies:
    setup: FamilySetup | None = None
    share_caps: tuple[ShareCap, ...] = ()
    stability: Stability | None = None

    def family(self, job_id: str) -> str | None:
        return self.setup.families.get(job_id) if self.setup else None
