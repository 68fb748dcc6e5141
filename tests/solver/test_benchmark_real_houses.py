"""The benchmark's real houses (issue 17): generated houses with large orders in lots and the
scale instance, the plain CP-SAT baseline, and PyJobShop's view of a step that pauses overnight,
each judged by our checker."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

import solver
from solver import FixedInterval, Job, Machine, Mode, Objective, Operation, Problem

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import house_problems, solver_bench
from benchmarks.plain_cpsat import solve_plain

DAY = 1440


def test_a_house_with_lots_has_large_orders_split_into_lot_jobs_sharing_their_orders_dates():
    plain = house_problems.generate("medium", 2, real=True)
    problem = house_problems.generate("medium", 2, real=True, lots=True)
    lots: dict[str, list[Job]] = {}
    for job in problem.jobs:
        if "-lot-" in job.id:
            lots.setdefault(job.id.split("-lot-")[0], []).append(job)
    assert lots and all(2 <= len(js) <= 4 for js in lots.values())
    for order, js in lots.items():
        assert len({(j.release, j.due, j.weight, j.owner) for j in js}) == 1, order
        assert [j.id for j in js] == [f"{order}-lot-{n}" for n in range(1, len(js) + 1)]
    # Machines, hours and bookings are those of the house without lots; the grid and costs too.
    assert [m.open for m in problem.machines] == [m.open for m in plain.machines]
    assert problem.fixed == plain.fixed and problem.grid == 15 and problem.objective.cost > 0
    assert (
        house_problems.generate("medium", 2, real=True) == plain
    )  # lots leave the real house alone
    with pytest.raises(ValueError):
        house_problems.generate("small", 1, lots=True)


def test_the_scale_instance_has_60_machines_and_exactly_1000_operations_over_four_weeks():
    problem = house_problems.generate("scale", 1, real=True, lots=True)
    assert len(problem.machines) == 60
    assert sum(len(j.operations) for j in problem.jobs) == 1000
    assert problem.horizon == 4 * 7 * DAY
    assert any(o.pausable for j in problem.jobs for o in j.operations)
    assert any("-lot-" in j.id for j in problem.jobs)


def test_the_plain_cp_sat_model_gives_a_schedule_our_checker_accepts_on_part_of_a_real_house():
    house = house_problems.generate("small", 2, real=True, lots=True)
    # An order in lots and a few others, pausable steps among them: small enough that CP-SAT's
    # first schedule never waits for the time limit.
    lots = [j for j in house.jobs if "-lot-" in j.id][:2]
    others = [j for j in house.jobs if "-lot-" not in j.id][:4]
    problem = dataclasses.replace(house, jobs=tuple(lots + others))
    assert any(o.pausable for j in problem.jobs for o in j.operations)
    # One worker and CP-SAT's deterministic time: the same schedule whatever the machine's
    # load (the wall-clock limit is only a guard).
    solution = solve_plain(problem, time_limit=120, workers=1, seed=1, deterministic_time=5.0)
    assert solution.status in ("optimal", "feasible")
    assert solver.check(problem, solution) == []
    assert len(solution.assignments) + sum(
        len(j.operations) for j in problem.jobs if j.id in {u.job for u in solution.unscheduled}
    ) == sum(len(j.operations) for j in problem.jobs)


def _overnight() -> Problem:
    """A 615-minute pausable step on a machine open 08:00-17:00, a booking on day two's
    morning, the 15-minute grid, then a 50-minute step 20 minutes later."""
    open_ = tuple((d * DAY + 480, d * DAY + 1020) for d in range(4))
    return Problem(
        name="overnight",
        horizon=4 * DAY,
        machines=(Machine("sew-1", open_, cost_per_hour=60_000), Machine("pack-1", open_)),
        jobs=(
            Job(
                "vest",
                (
                    Operation("vest/1", (Mode("sew-1", 615),), pausable=True),
                    Operation("vest/2", (Mode("pack-1", 50),), min_lag=20),
                ),
                due=2 * DAY,
            ),
        ),
        fixed=(FixedInterval("booking-1", "sew-1", DAY + 480, DAY + 600),),
        objective=Objective(weighted_tardiness=10, makespan=1, cost=1),
        grid=15,
    )


@pytest.mark.parametrize("which", ["plain", "pyjobshop"])
def test_a_step_that_pauses_overnight_is_placed_validly_by_the_baselines_and_never_through_a_booking(
    which,
):
    problem = _overnight()
    if which == "plain":
        s = solve_plain(problem, time_limit=5, workers=1)
        assert solver.check(problem, s) == []
        assignments = s.assignments
    else:
        pytest.importorskip("pyjobshop")
        out = solver_bench.run_pyjobshop(problem, 5, 1, 0)
        assert out is not None and out["valid"], out
        assert any("machine cost" in note for note in out["limits"])
        assignments = tuple(solver.Assignment(*row) for row in out["schedule"])
    sew = next(a for a in assignments if a.operation == "vest/1")
    assert (
        sew.start % 15 == 0 and sew.end - sew.start > 615
    )  # on the grid; it waited through the night
    assert not (sew.start < DAY + 600 and sew.end > DAY + 480), "it ran through the booking"
    pack = next(a for a in assignments if a.operation == "vest/2")
    assert pack.start >= sew.end + 20
