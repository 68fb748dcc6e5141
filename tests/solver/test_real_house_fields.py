"""The problem format's fields for real houses: steps that pause overnight, the slot grid,
machine cost and frozen work, in the model, the greedy start, the checker and the files."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

import solver
from solver import (
    Assignment,
    Frozen,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    ProblemFormatError,
    Solution,
    SolveOptions,
)
from solver.check import objective_terms, objective_value
from solver.greedy import greedy

FAST = SolveOptions(time_limit=2, workers=2, seed=1)
# An optimum asserted: one worker and CP-SAT's deterministic time, whatever the machine's load.
EXACT = SolveOptions(time_limit=60, workers=1, seed=1, deterministic_time=5.0)
DAY = 1440
DATA = Path(__file__).resolve().parent / "data"


def weekdays(
    days: int = 5, open_: int = 8 * 60, close: int = 16 * 60
) -> tuple[tuple[int, int], ...]:
    """Open 08:00-16:00 (8 hours) Monday to Friday, from Monday 00:00."""
    return tuple((d * DAY + open_, d * DAY + close) for d in range(days))


def sewing_problem(pausable: bool, duration: int = 615, **kw) -> Problem:
    op = Operation("jackets/sew", (Mode("sew-1", duration),), pausable=pausable)
    return Problem(
        "jackets",
        7 * DAY,
        (Machine("sew-1", weekdays()),),
        (Job("jackets", (op,), due=3 * DAY),),
        objective=Objective(weighted_tardiness=10, makespan=1),
        **kw,
    )


def solve_checked(problem: Problem, options: SolveOptions = FAST) -> Solution:
    solution = solver.solve(problem, options)
    assert solver.check(problem, solution) == [], solver.check(problem, solution)
    return solution


def test_a_615_minute_pausable_sewing_step_is_placed_over_two_days_on_machines_open_8_hours_a_day():
    problem = sewing_problem(pausable=True)
    solution = solve_checked(problem)
    assert solution.unscheduled == ()
    (a,) = solution.assignments
    # 8 hours on Monday, the remaining 135 minutes on Tuesday morning, the night in between.
    assert (a.machine, a.start, a.end) == ("sew-1", 8 * 60, DAY + 8 * 60 + 135)
    assert a.end - a.start >= 615
    # The greedy start places it the same way.
    (g,), _ = greedy(problem)
    assert g == a


def test_an_unpausable_step_longer_than_every_window_is_left_out_as_fitting_no_window():
    solution = solve_checked(sewing_problem(pausable=False))
    assert solution.assignments == ()
    (u,) = solution.unscheduled
    assert (u.job, u.kind) == ("jackets", "no_window")


def test_a_pausable_step_waits_through_the_weekend_and_a_holiday_and_is_checked_valid():
    # Friday and Monday open, the weekend closed, Monday a holiday: Thursday 15:00 onwards.
    windows = (
        (3 * DAY + 480, 3 * DAY + 960),
        (4 * DAY + 480, 4 * DAY + 960),
        (8 * DAY + 480, 8 * DAY + 960),
    )
    op = Operation("j/1", (Mode("m", 600),), pausable=True)
    problem = Problem(
        "weekend",
        14 * DAY,
        (Machine("m", windows),),
        (Job("j", (op,), release=3 * DAY + 900),),
        objective=Objective(makespan=1),
    )
    (a,) = solve_checked(problem).assignments
    # 60 minutes on Thursday, 480 on Friday, 60 on the Tuesday after the holiday Monday.
    assert (a.start, a.end) == (3 * DAY + 900, 8 * DAY + 540)


def test_two_pausable_steps_on_one_machine_never_overlap_and_the_second_waits_for_the_first():
    ops = [
        Job(
            f"lot-{k}",
            (Operation(f"lot-{k}/sew", (Mode("sew-1", 600), Mode("sew-2", 700)), pausable=True),),
            owner="member-1",
            due=2 * DAY,
        )
        for k in range(3)
    ]
    problem = Problem(
        "lots",
        7 * DAY,
        (Machine("sew-1", weekdays()), Machine("sew-2", weekdays())),
        tuple(ops),
        objective=Objective(weighted_tardiness=1, makespan=1),
    )
    solution = solve_checked(problem)
    assert len(solution.assignments) == 3 and solution.unscheduled == ()
    greedy_assignments, greedy_left_out = greedy(problem)
    assert greedy_left_out == []
    assert (
        solver.check(problem, Solution("feasible", None, None, 0.0, tuple(greedy_assignments)))
        == []
    )


def test_every_start_is_on_the_grid_and_the_machine_is_held_until_the_end_rounded_up_to_it():
    jobs = tuple(
        Job(f"j{k}", (Operation(f"j{k}/1", (Mode("m", 50),)),), release=485) for k in range(4)
    )
    problem = Problem(
        "grid", DAY, (Machine("m", ((480, 960),)),), jobs, objective=Objective(makespan=1), grid=30
    )
    solution = solve_checked(problem)
    spans = sorted((a.start, a.end) for a in solution.assignments)
    assert len(spans) == 4
    assert all(start % 30 == 0 for start, _ in spans)
    # 50 minutes hold the machine for 60: back to back every hour from 08:30.
    assert [start for start, _ in spans] == [510, 570, 630, 690]
    greedy_assignments, _ = greedy(problem)
    assert sorted(a.start for a in greedy_assignments) == [510, 570, 630, 690]


def test_a_pausable_step_on_the_grid_starts_on_it_and_holds_its_machine_to_the_grid():
    follow = Job("after", (Operation("after/1", (Mode("sew-1", 30),)),), release=DAY + 480)
    problem = sewing_problem(pausable=True, duration=500, grid=15)
    problem = Problem(
        problem.name,
        problem.horizon,
        problem.machines,
        problem.jobs + (follow,),
        objective=problem.objective,
        grid=15,
    )
    solution = solve_checked(problem)
    by_op = {a.operation: a for a in solution.assignments}
    sew = by_op["jackets/sew"]
    # 500 minutes from Monday 08:00 end Tuesday 08:20; the machine is held until 08:30.
    assert (sew.start, sew.end) == (480, DAY + 500)
    assert by_op["after/1"].start >= DAY + 510


def test_the_cheaper_of_two_free_machines_is_chosen_when_cost_counts_and_the_cost_is_reported():
    op = Operation("cut/1", (Mode("cutter-75k", 60), Mode("cutter-60k", 60)))
    machines = (
        Machine("cutter-75k", cost_per_hour=75_000),
        Machine("cutter-60k", cost_per_hour=60_000),
    )
    problem = Problem(
        "cost", 1000, machines, (Job("cut", (op,)),), objective=Objective(makespan=1, cost=1)
    )
    solution = solve_checked(problem, EXACT)
    (a,) = solution.assignments
    assert a.machine == "cutter-60k"
    assert solution.cost == 60_000
    assert solution.terms["cost"] == 60_000
    assert solver.solution_to_dict(solution)["cost"] == 60_000
    assert solution.objective == 60 + 60_000
    (g,), _ = greedy(problem)
    assert g.machine == "cutter-60k"


def test_the_machine_cost_of_an_operation_is_rounded_to_the_nearest_rupiah():
    assert solver.operation_cost(7, 10_000) == 1167  # 1 166.67
    assert solver.operation_cost(1, 90) == 2  # 1.5, halves up
    assert solver.operation_cost(1, 89) == 1
    assert solver.operation_cost(615, 60_000) == 615_000


def test_a_frozen_operation_stays_where_it_is_in_a_re_solve():
    machines = (Machine("a"), Machine("b"))
    jobs = tuple(
        Job(
            f"j{k}",
            (
                Operation(f"j{k}/1", (Mode("a", 60), Mode("b", 60))),
                Operation(f"j{k}/2", (Mode("a", 30), Mode("b", 30))),
            ),
            due=200,
        )
        for k in range(3)
    )
    problem = Problem(
        "frozen", 2000, machines, jobs, objective=Objective(weighted_tardiness=10, makespan=1)
    )
    first = solve_checked(problem)
    # The house freezes j1's first step later and on the other machine than the plan had it.
    was = next(a for a in first.assignments if a.operation == "j1/1")
    moved_to = ("b" if was.machine == "a" else "a", 300)
    frozen_op = Operation("j1/1", jobs[1].operations[0].modes, frozen=Frozen(*moved_to))
    replan = Problem(
        "frozen",
        2000,
        machines,
        (jobs[0], Job("j1", (frozen_op, jobs[1].operations[1]), due=200), jobs[2]),
        objective=problem.objective,
    )
    again = solve_checked(replan)
    now = next(a for a in again.assignments if a.operation == "j1/1")
    assert (now.machine, now.start, now.end) == (*moved_to, 360)
    assert again.unscheduled == ()
    (g,) = [a for a in greedy(replan)[0] if a.operation == "j1/1"]
    assert (g.machine, g.start) == moved_to


def test_a_frozen_operation_in_closed_time_leaves_its_job_out_with_the_reason_rather_than_moving():
    op = Operation("j/1", (Mode("m", 60),), frozen=Frozen("m", 1000))
    problem = Problem(
        "closed",
        2000,
        (Machine("m", ((480, 960),)),),
        (Job("j", (op,)),),
        objective=Objective(makespan=1),
    )
    solution = solve_checked(problem)
    assert solution.assignments == ()
    assert solution.unscheduled[0].job == "j" and "frozen" in solution.unscheduled[0].reason


def test_many_small_lots_of_one_owner_run_in_parallel_on_several_machines():
    machines = tuple(Machine(f"sew-{k}", weekdays()) for k in range(1, 4))
    lots = tuple(
        Job(
            f"req-9/lot-{n}",
            (
                Operation(
                    f"req-9/lot-{n}/sew", tuple(Mode(m.id, 240) for m in machines), pausable=True
                ),
            ),
            owner="member-3",
            due=DAY + 960,
            weight=2,
        )
        for n in range(12)
    )
    problem = Problem(
        "lots", 7 * DAY, machines, lots, objective=Objective(weighted_tardiness=10, makespan=1)
    )
    solution = solve_checked(problem)
    assert solution.unscheduled == ()
    assert {a.machine for a in solution.assignments} == {m.id for m in machines}
    # 12 lots of 4 hours on three machines open 8 hours a day: two days, nobody late.
    assert max(a.end for a in solution.assignments) <= DAY + 960
    assert solution.terms["weighted_tardiness"] == 0


@pytest.mark.parametrize(
    ("tamper", "phrase"),
    [
        # From Monday 13:45 it uses its 615 open minutes by Tuesday 16:00, but "ends" at 16:30,
        # when the machine is closed.
        (lambda a: Assignment(a.operation, a.machine, 825, DAY + 16 * 60 + 30), "ends at"),
        (
            lambda a: Assignment(a.operation, a.machine, a.start, DAY + 16 * 60 + 30),
            "uses 960 open minutes",
        ),
        (lambda a: Assignment(a.operation, a.machine, a.start + 5, a.end + 5), "off the grid"),
    ],
)
def test_the_checker_rejects_a_pausable_step_ending_in_closed_time_and_a_start_off_the_grid(
    tamper, phrase
):
    problem = sewing_problem(pausable=True, grid=15)
    good = solve_checked(problem)
    bad = Solution("feasible", None, None, 0.0, (tamper(good.assignments[0]),))
    violations = solver.check(problem, bad)
    assert any(phrase in v for v in violations), violations


def test_the_checker_rejects_a_frozen_operation_moved_and_work_inside_another_operations_grid_hold():
    op = Operation("j/1", (Mode("a", 60), Mode("b", 60)), frozen=Frozen("a", 120))
    other = Job("k", (Operation("k/1", (Mode("a", 30),)),))
    problem = Problem(
        "frozen",
        1000,
        (Machine("a"), Machine("b")),
        (Job("j", (op,)), other),
        objective=Objective(makespan=1),
        grid=60,
    )
    moved = Solution(
        "feasible",
        None,
        None,
        0.0,
        (Assignment("j/1", "b", 120, 180), Assignment("k/1", "a", 0, 30)),
    )
    assert any("frozen operation j/1 moved" in v for v in solver.check(problem, moved))
    later = Solution(
        "feasible",
        None,
        None,
        0.0,
        (Assignment("j/1", "a", 180, 240), Assignment("k/1", "a", 0, 30)),
    )
    assert any("moved" in v for v in solver.check(problem, later))
    # On the hour: j/1 where it is frozen, k/1 right after it.
    held = Solution(
        "feasible",
        None,
        None,
        0.0,
        (Assignment("j/1", "a", 120, 180), Assignment("k/1", "a", 180, 210)),
    )
    assert solver.check(problem, held) == []
    clash = Problem(
        "hold",
        1000,
        (Machine("a"),),
        (
            Job("x", (Operation("x/1", (Mode("a", 30),)),)),
            Job("y", (Operation("y/1", (Mode("a", 30),)),)),
        ),
        grid=60,
    )
    inside = Solution(
        "feasible", None, None, 0.0, (Assignment("x/1", "a", 0, 30), Assignment("y/1", "a", 30, 60))
    )
    violations = solver.check(clash, inside)
    assert any("overlap" in v for v in violations) and any("off the grid" in v for v in violations)


def test_the_checker_rejects_a_wrong_machine_cost():
    problem = Problem(
        "cost",
        1000,
        (Machine("m", cost_per_hour=60_000),),
        (Job("j", (Operation("j/1", (Mode("m", 30),)),)),),
        objective=Objective(makespan=1, cost=1),
    )
    good = solve_checked(problem)
    assert good.cost == 30_000
    lying = Solution(good.status, good.objective, None, 0.0, good.assignments, cost=1)
    assert any("machine cost" in v for v in solver.check(problem, lying))


REAL = {
    "format": "factoryshare-problem/1",
    "name": "real-house",
    "horizon": 7 * DAY,
    "grid": 15,
    "machines": [
        {"id": "sew-1", "open": [list(w) for w in weekdays()], "cost_per_hour": 60000},
        {"id": "sew-2", "open": [list(w) for w in weekdays()], "cost_per_hour": 75000},
    ],
    "fixed": [],
    "jobs": [
        {
            "id": "req-1",
            "owner": "member-1",
            "release": 0,
            "due": 3 * DAY,
            "deadline": None,
            "weight": 1,
            "operations": [
                {
                    "id": "req-1/1",
                    "pausable": True,
                    "modes": [
                        {"machine": "sew-1", "duration": 615},
                        {"machine": "sew-2", "duration": 615},
                    ],
                },
            ],
        },
        {
            "id": "req-2",
            "owner": "member-2",
            "release": 0,
            "due": 3 * DAY,
            "deadline": None,
            "weight": 1,
            "operations": [
                {
                    "id": "req-2/1",
                    "frozen": {"machine": "sew-2", "start": 600},
                    "modes": [
                        {"machine": "sew-1", "duration": 60},
                        {"machine": "sew-2", "duration": 60},
                    ],
                },
            ],
        },
    ],
    "objective": {"weighted_tardiness": 10, "makespan": 1, "cost": 1},
}


def test_the_real_house_fields_round_trip_through_the_files():
    problem = solver.problem_from_dict(REAL)
    assert problem.grid == 15 and problem.objective.cost == 1
    assert problem.machine("sew-2").cost_per_hour == 75000
    assert problem.jobs[0].operations[0].pausable and problem.jobs[1].operations[
        0
    ].frozen == Frozen("sew-2", 600)
    assert (
        solver.problem_from_dict(json.loads(json.dumps(solver.problem_to_dict(problem)))) == problem
    )
    solution = solve_checked(problem)
    back = solver.solution_from_dict(json.loads(json.dumps(solver.solution_to_dict(solution))))
    assert back.cost == solution.cost == 615_000 + 75_000
    assert back.assignments == solution.assignments
    assert solver.check(problem, back) == []


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(grid=0), "grid"),
        (lambda d: d["machines"][0].update(cost_per_hour=-1), "machines[0].cost_per_hour"),
        (lambda d: d["machines"][0].update(cost_per_hour=1.5), "machines[0].cost_per_hour"),
        (
            lambda d: d["jobs"][0]["operations"][0].update(pausable="yes"),
            "jobs[0].operations[0].pausable",
        ),
        (
            lambda d: d["jobs"][1]["operations"][0].update(frozen={"machine": "cut-9", "start": 0}),
            "jobs[1].operations[0].frozen.machine",
        ),
        (
            lambda d: d["jobs"][1]["operations"][0].update(frozen={"machine": "sew-1"}),
            "jobs[1].operations[0].frozen.start",
        ),
        (lambda d: d["objective"].update(cost="cheap"), "objective.cost"),
    ],
)
def test_a_malformed_real_house_field_is_refused_with_the_field_named(mutate, path):
    data = copy.deepcopy(REAL)
    mutate(data)
    with pytest.raises(ProblemFormatError) as exc:
        solver.problem_from_dict(data)
    assert exc.value.path == path


def test_the_solve_command_reads_the_new_fields_and_writes_the_machine_cost(tmp_path):
    from click.testing import CliRunner

    from factoryshare.cli import cli

    problem_file = tmp_path / "p.json"
    problem_file.write_text(json.dumps(REAL))
    out = tmp_path / "s.json"
    result = CliRunner().invoke(
        cli, ["solve", str(problem_file), "--time-limit", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "machine cost Rp690000" in result.output.replace(".", "").replace(",", "")
    written = json.loads(out.read_text())
    assert written["cost"] == 690_000
    assert solver.check(solver.problem_from_dict(REAL), solver.solution_from_dict(written)) == []


# ---------------------------------------------------------------------------------------------
# A file without the new fields means what it meant before: recorded from the solver before
# they existed (greedy schedules exactly, optimal objectives of small problems).


def _house(size: str, seed: int) -> Problem:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "house_problems.py"
    spec = importlib.util.spec_from_file_location("house_problems", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.get("house_problems") or importlib.util.module_from_spec(spec)
    if "house_problems" not in sys.modules:
        sys.modules["house_problems"] = module
        spec.loader.exec_module(module)
    return module.generate(size, seed)


def _fingerprint(value) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


@pytest.mark.parametrize(
    ("name", "objective", "schedule", "problem_file"),
    [
        ("mk01", 43, "1672e482687e", "763d98c387ad"),
        ("small-1", 6415, "4ba9785cc3c5", "46eca1c4b6f5"),
        ("small-2", 6480, "65a518b67257", "92d4e0b53dda"),
    ],
)
def test_an_old_problem_file_reads_writes_and_starts_from_the_same_greedy_schedule_as_before(
    name, objective, schedule, problem_file
):
    problem = (
        solver.read_brandimarte(DATA / "mk01.fjs")
        if name == "mk01"
        else _house("small", int(name[-1]))
    )
    as_dict = solver.problem_to_dict(problem)
    assert _fingerprint(as_dict) == problem_file
    assert solver.problem_from_dict(as_dict) == problem
    assignments, unscheduled = greedy(problem)
    assert unscheduled == []
    by_op = {a.operation: a for a in assignments}
    assert objective_value(problem, objective_terms(problem, by_op)) == objective
    assert (
        hashlib.sha1(
            json.dumps([(a.operation, a.machine, a.start, a.end) for a in assignments]).encode()
        ).hexdigest()[:12]
        == schedule
    )


def _one(job_id: str, duration: int, machine: str = "m", **kw) -> Job:
    return Job(job_id, (Operation(f"{job_id}/1", (Mode(machine, duration),)),), **kw)


@pytest.mark.parametrize(
    ("problem", "objective"),
    [
        (
            Problem(
                "gap",
                2000,
                (Machine("m", ((0, 240), (600, 900))),),
                (_one("a", 200), _one("b", 200)),
                objective=Objective(makespan=1),
            ),
            800,
        ),
        (
            Problem(
                "weights",
                1000,
                (Machine("m"),),
                (_one("light", 100, due=100, weight=1), _one("heavy", 100, due=100, weight=5)),
                objective=Objective(weighted_tardiness=1),
            ),
            100,
        ),
        (
            Problem(
                "two",
                3000,
                (Machine("a", ((480, 960), (1920, 2400))), Machine("b", ((480, 960),))),
                tuple(
                    Job(
                        f"j{i}",
                        (
                            Operation(f"j{i}/1", (Mode("a", 60 + 10 * i), Mode("b", 90))),
                            Operation(f"j{i}/2", (Mode("b", 30 + 5 * i),), min_lag=20),
                        ),
                        due=600 + 50 * i,
                        weight=1 + i % 3,
                    )
                    for i in range(6)
                ),
                objective=Objective(weighted_tardiness=10, makespan=1),
            ),
            3770,
        ),
    ],
    ids=["gap", "weights", "two"],
)
def test_an_old_small_problem_solves_to_the_same_optimal_objective_as_before(problem, objective):
    solution = solve_checked(problem, EXACT)
    assert (solution.status, solution.objective) == ("optimal", objective)
    assert solution.cost == 0
    assert "cost" not in solver.problem_to_dict(problem)["objective"]
