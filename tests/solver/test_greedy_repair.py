"""The greedy start's reasons and its repair: a job left out for lack of machine time is called
so (not "fits in no window"), and a job that fits when it goes first is placed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import solver
from solver import Job, Machine, Mode, Objective, Operation, Problem, SolveOptions
from solver.greedy import greedy
from solver.problem import Solution, Status, UnscheduledKind

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "house_problems.py"
_spec = importlib.util.spec_from_file_location("house_problems", _PATH)
assert _spec is not None and _spec.loader is not None
house_problems = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("house_problems", house_problems)
_spec.loader.exec_module(house_problems)

FAST = SolveOptions(time_limit=2, workers=2, seed=1)
# Machine m is open 0-100 and 200-300: 200 open minutes in all.
TWO_OPENINGS = ((0, 100), (200, 300))


def _greedy_checked(problem: Problem) -> Solution:
    """The greedy schedule as a solution, accepted by the independent checker."""
    from solver.check import objective_terms, objective_value

    assignments, unscheduled = greedy(problem)
    terms = objective_terms(problem, {a.operation: a for a in assignments})
    solution = Solution(
        status=Status.feasible,
        objective=objective_value(problem, terms),
        bound=None,
        seconds=0.0,
        assignments=tuple(assignments),
        unscheduled=tuple(unscheduled),
        terms=terms,
    )
    assert solver.check(problem, solution) == [], solver.check(problem, solution)
    return solution


def _pausable_job(job_id: str, duration: int, due: int) -> Job:
    op = Operation(f"{job_id}/1", (Mode("m", duration),), pausable=True)
    return Job(job_id, (op,), due=due)


def test_a_job_that_fits_alone_but_not_beside_the_others_is_left_out_for_capacity_not_no_window():
    # Each 150-minute step fits alone (pausing over the closed 100-200), but not both in 200
    # open minutes: the one left out is a capacity case, for a later run or another machine.
    problem = Problem(
        "two long steps",
        1000,
        (Machine("m", TWO_OPENINGS),),
        (_pausable_job("first", 150, due=300), _pausable_job("second", 150, due=400)),
        objective=Objective(weighted_tardiness=1, makespan=1),
    )
    greedy_solution = _greedy_checked(problem)
    assert [(u.job, u.kind) for u in greedy_solution.unscheduled] == [
        ("second", UnscheduledKind.capacity)
    ]
    solution = solver.solve(problem, FAST)
    assert solver.check(problem, solution) == []
    assert [(u.job, u.kind) for u in solution.unscheduled] == [("second", "capacity")]


def test_a_pausable_step_longer_than_all_open_time_of_its_machines_is_no_window():
    problem = Problem(
        "too long",
        1000,
        (Machine("m", TWO_OPENINGS),),
        (_pausable_job("huge", 250, due=300),),
        objective=Objective(makespan=1),
    )
    assert [(u.job, u.kind) for u in _greedy_checked(problem).unscheduled] == [
        ("huge", UnscheduledKind.no_window)
    ]


def _room_made_by_going_first() -> Problem:
    """`early` (due first, and with the most work left) takes m at 0-60 in both builders'
    first pass, leaving `long` (150 minutes pausable on m only) 140 open minutes: too few.
    With `long` first on m (0-250), `early` takes the slower m2 and every job is placed."""
    early = Job(
        "early",
        (
            Operation("early/1", (Mode("m", 60), Mode("m2", 90))),
            Operation("early/2", (Mode("p", 200),)),
        ),
        due=50,
    )
    long = Job(
        "long",
        (Operation("long/1", (Mode("m", 150),), pausable=True),),
        due=500,
    )
    return Problem(
        "room made by going first",
        1000,
        (Machine("m", TWO_OPENINGS), Machine("m2", ((0, 100),)), Machine("p")),
        (early, long),
        objective=Objective(weighted_tardiness=1, makespan=1),
    )


def test_the_repair_places_a_job_left_out_for_capacity_when_going_first_makes_room():
    from solver.greedy import _interleaved, _job_by_job
    from solver.problem import Policies

    problem = _room_made_by_going_first()
    # Both builders alone leave `long` out, for capacity ...
    for build in (_job_by_job, lambda p, pol: _interleaved(p, pol, most_work_left=True)):
        _, unscheduled = build(problem, Policies())
        assert [(u.job, u.kind) for u in unscheduled] == [("long", UnscheduledKind.capacity)]
    # ... the repair places it, and the checker accepts the schedule.
    solution = _greedy_checked(problem)
    assert solution.unscheduled == ()
    by_op = {a.operation: a for a in solution.assignments}
    assert (by_op["long/1"].machine, by_op["long/1"].start, by_op["long/1"].end) == ("m", 0, 250)
    assert by_op["early/1"].machine == "m2"


def test_the_greedy_places_every_job_of_the_small_real_house_with_lots_and_the_checker_accepts_it():
    # House small-1 with lots: job-024 (cut-3 from Wednesday 08:00, pausing through the
    # Thursday holiday) was left out as fitting no window; it fits, and so does every job.
    problem = house_problems.generate("small", 1, real=True, lots=True)
    assert _greedy_checked(problem).unscheduled == ()
    solution = solver.solve(problem, FAST)
    assert solver.check(problem, solution) == []
    assert solution.unscheduled == ()


def test_no_job_of_the_generated_real_houses_that_fits_alone_is_reported_no_window():
    for seed in (1, 2, 3):
        problem = house_problems.generate("small", seed, real=True, lots=True)
        jobs = {j.id: j for j in problem.jobs}
        for u in _greedy_checked(problem).unscheduled:
            alone = Problem(
                "alone",
                problem.horizon,
                problem.machines,
                (jobs[u.job],),
                grid=problem.grid,
                objective=problem.objective,
            )
            fits_alone = greedy(alone)[1] == []
            assert not (fits_alone and u.kind == UnscheduledKind.no_window), (seed, u)
