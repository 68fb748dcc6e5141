"""How a house's problem is solved: within a time limit on the wall clock, or reproducibly."""

from __future__ import annotations

import solver

# A reproducible run's wall-clock guard, in multiples of its time limit: its deterministic
# budget, not the wall clock, is what ends it on any load short of this.
REPRODUCIBLE_WALL_GUARD = 10


def solve_options(
    time_limit: float, workers: int, work_per_second: float = 0.0
) -> solver.SolveOptions:
    """How a run is solved: within its time limit on `workers` CP-SAT threads. With
    `work_per_second` (SOLVER_WORK_PER_SECOND) reproducibly instead: the limit counted in
    CP-SAT's deterministic time (that many units a second) on one thread, so the same problem
    gives the same plan however loaded the machine; the wall clock is only a guard."""
    if work_per_second > 0:
        return solver.SolveOptions(
            time_limit=time_limit * REPRODUCIBLE_WALL_GUARD,
            workers=1,
            deterministic_time=time_limit * work_per_second,
        )
    return solver.SolveOptions(time_limit=time_limit, workers=workers)
