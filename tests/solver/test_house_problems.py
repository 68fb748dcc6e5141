"""The benchmark's generated production-house problems: realistic, reproducible, solvable."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections import defaultdict
from pathlib import Path

import solver
from solver import SolveOptions

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "house_problems.py"
_spec = importlib.util.spec_from_file_location("house_problems", _PATH)
assert _spec is not None and _spec.loader is not None
house_problems = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("house_problems", house_problems)
_spec.loader.exec_module(house_problems)


def test_the_same_size_and_seed_give_the_same_problem_and_another_seed_a_different_one():
    first = house_problems.generate("small", 1)
    assert house_problems.generate("small", 1) == first
    assert solver.problem_to_dict(house_problems.generate("small", 1)) == solver.problem_to_dict(
        first
    )
    assert house_problems.generate("small", 2) != first


def test_each_size_has_its_machines_and_jobs_in_capability_groups_of_two_to_eight():
    for size, machines, jobs in (
        ("small", 8, 30),
        ("medium", 17, 140),
        ("large", 30, 200),
        ("xl", 40, 250),
    ):
        problem = house_problems.generate(size, 1)
        assert (len(problem.machines), len(problem.jobs)) == (machines, jobs)
        groups = defaultdict(int)
        for m in problem.machines:
            groups[m.id.rsplit("-", 1)[0]] += 1
        assert all(2 <= n <= 8 for n in groups.values()), groups


def test_a_small_house_is_open_on_weekdays_and_saturday_morning_and_closed_on_its_holiday():
    problem = house_problems.generate("small", 1)
    day = 1440
    for machine in problem.machines:
        for start, end in machine.open:
            assert 0 <= start < end <= problem.horizon
            assert (
                start % day >= 8 * 60
                and (end - 1) % day < 16 * 60
                and start // day == (end - 1) // day
            )
            assert start // day % 7 != 6, "open on a Sunday"
            if start // day % 7 == 5:
                assert end % day <= 12 * 60, "open on Saturday afternoon"
    open_days = [{s // day for s, _ in m.open} for m in problem.machines]
    weekdays = set(range(5))
    closed_for_all = weekdays - set().union(*open_days)
    assert len(closed_for_all) == 1, "exactly one holiday closes the whole house"


def test_bookings_take_a_tenth_to_a_fifth_of_open_time_inside_open_windows_without_overlap():
    problem = house_problems.generate("medium", 2)
    for machine in problem.machines:
        booked = sorted((f.start, f.end) for f in problem.fixed if f.machine == machine.id)
        assert all(any(s <= b0 and b1 <= e for s, e in machine.open) for b0, b1 in booked)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(booked))
        open_minutes = sum(e - s for s, e in machine.open)
        assert 0.08 <= sum(b1 - b0 for b0, b1 in booked) / open_minutes <= 0.25


def test_jobs_have_one_to_three_operations_each_fitting_some_open_window_with_due_dates_and_weights():
    problem = house_problems.generate("large", 3)
    lags = 0
    for job in problem.jobs:
        assert 1 <= len(job.operations) <= 3
        assert 1 <= job.weight <= 3 and job.due is not None and job.due > job.release
        for op in job.operations:
            assert any(
                any(e - s >= mode.duration for s, e in problem.windows(mode.machine))
                for mode in op.modes
            )
            lags += op.min_lag > 0
    assert lags > 0, "some operations wait for drying or cooling"
    assert problem.objective.weighted_tardiness > problem.objective.makespan > 0


def test_our_two_second_solve_places_every_job_of_a_small_house_and_the_checker_accepts_it():
    problem = house_problems.generate("small", 1)
    solution = solver.solve(problem, SolveOptions(time_limit=2, workers=2, seed=1))
    assert solution.status in ("optimal", "feasible")
    assert solution.unscheduled == ()
    assert solver.check(problem, solution) == []
    assert len(solution.assignments) == sum(len(j.operations) for j in problem.jobs)


def test_with_the_real_flag_a_house_has_overnight_steps_the_grid_and_machine_costs_and_solves_validly():
    plain = house_problems.generate("small", 1)
    problem = house_problems.generate("small", 1, real=True)
    assert problem.grid == 15 and problem.objective.cost > 0
    assert all(m.cost_per_hour > 0 for m in problem.machines)
    pausable = [o for j in problem.jobs for o in j.operations if o.pausable]
    assert pausable and any(min(m.duration for m in o.modes) > 8 * 60 for o in pausable), (
        "some steps take more than a day's opening hours"
    )
    # The rest of the house is the plain one: same machines' hours, bookings and jobs.
    assert [m.open for m in problem.machines] == [m.open for m in plain.machines]
    assert problem.fixed == plain.fixed and [j.id for j in problem.jobs] == [
        j.id for j in plain.jobs
    ]
    solution = solver.solve(problem, SolveOptions(time_limit=2, workers=2, seed=1))
    assert solution.status in ("optimal", "feasible")
    assert solver.check(problem, solution) == []
    assert solution.cost and solution.cost > 0
