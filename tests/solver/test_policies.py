"""The house's rules beyond the problem format: family cleaning, share caps, stability."""

from __future__ import annotations

import pytest

import solver
from solver import (
    Assignment,
    FamilySetup,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Policies,
    Problem,
    ShareCap,
    Solution,
    SolveOptions,
    Stability,
)
from solver.greedy import greedy

FAST = SolveOptions(time_limit=2, workers=2, seed=1)


def job(job_id: str, duration: int, machines=("fryer",), **kw) -> Job:
    return Job(
        job_id, (Operation(f"{job_id}/1", tuple(Mode(m, duration) for m in machines)),), **kw
    )


def solved(problem: Problem, policies: Policies) -> Solution:
    solution = solver.solve(problem, FAST, policies)
    assert solver.check(problem, solution, policies) == []
    return solution


def starts(solution: Solution) -> dict[str, tuple[str, int]]:
    return {a.operation: (a.machine, a.start) for a in solution.assignments}


HALAL = FamilySetup(families={"a": "halal", "b": "non_halal", "c": "halal"}, minutes=60)


def test_a_non_halal_run_is_kept_a_cleaning_gap_away_from_halal_work():
    problem = Problem(
        "clean",
        2000,
        (Machine("fryer"),),
        (job("a", 100), job("b", 100), job("c", 100)),
        objective=Objective(0, 1),
    )
    solution = solved(problem, Policies(setup=HALAL))
    by_start = sorted(solution.assignments, key=lambda a: a.start)
    # Both halal jobs together, one cleaning, then the other family: 100+100+60+100.
    assert solution.terms["makespan"] == 360
    assert {by_start[0].operation, by_start[1].operation} == {"a/1", "c/1"}
    assert by_start[2].start - by_start[1].end == 60


def test_without_the_setup_policy_the_same_jobs_run_back_to_back():
    problem = Problem(
        "clean",
        2000,
        (Machine("fryer"),),
        (job("a", 100), job("b", 100), job("c", 100)),
        objective=Objective(0, 1),
    )
    assert solved(problem, Policies()).terms["makespan"] == 300


def test_the_checker_refuses_a_schedule_without_the_cleaning_gap():
    problem = Problem(
        "clean",
        2000,
        (Machine("fryer"),),
        (job("a", 100), job("b", 100)),
        objective=Objective(0, 1),
    )
    tight = Solution(
        "feasible",
        200,
        None,
        0.0,
        (Assignment("a/1", "fryer", 0, 100), Assignment("b/1", "fryer", 100, 200)),
    )
    problems = solver.check(problem, tight, Policies(setup=HALAL))
    assert any("cleaning" in p for p in problems)


def test_the_greedy_schedule_alone_respects_the_cleaning_gap():
    problem = Problem(
        "clean",
        2000,
        (Machine("fryer"),),
        (job("a", 100, due=100), job("b", 100, due=200), job("c", 100, due=300)),
        objective=Objective(1, 0),
    )
    assignments, unscheduled = greedy(problem, Policies(setup=HALAL))
    solution = Solution("feasible", None, None, 0.0, tuple(assignments), tuple(unscheduled))
    assert solver.check(problem, solution, Policies(setup=HALAL)) == []


def test_one_member_cannot_take_more_than_its_share_of_the_scarce_fryer():
    problem = Problem(
        "fair",
        2000,
        (Machine("fryer"),),
        (
            job("big-1", 120, owner="member-1"),
            job("big-2", 120, owner="member-1"),
            job("small", 60, owner="member-2"),
        ),
        objective=Objective(0, 1),
    )
    cap = ShareCap(machines=("fryer",), max_minutes=150, name="vacuum frying")
    solution = solved(problem, Policies(share_caps=(cap,)))
    assert len(solution.unscheduled) == 1
    assert solution.unscheduled[0].job.startswith("big-")
    assert solution.unscheduled[0].kind == "share_cap"
    assert "small/1" in starts(solution)


def test_a_previous_schedule_is_kept_when_moving_gains_little():
    # Two equal jobs on two equal machines: any assignment is optimal for the makespan,
    # so stability decides, and the previous one (crossed over) is kept exactly.
    problem = Problem(
        "stable",
        2000,
        (Machine("m1"), Machine("m2")),
        (job("x", 100, machines=("m1", "m2")), job("y", 100, machines=("m1", "m2"))),
        objective=Objective(0, 1),
    )
    previous = (Assignment("x/1", "m2", 0, 100), Assignment("y/1", "m1", 0, 100))
    solution = solved(problem, Policies(stability=Stability(previous=previous, weight=1)))
    assert starts(solution) == {"x/1": ("m2", 0), "y/1": ("m1", 0)}
    assert solution.terms["moved_minutes"] == 0 and solution.terms["machines_changed"] == 0


def test_stability_moves_only_what_a_lost_window_forces_to_move():
    # The previous plan used m1 at 0..100 and 100..200; m1 is now closed until 500.
    problem = Problem(
        "replan",
        2000,
        (Machine("m1", open=((500, 2000),)), Machine("m2")),
        (job("p", 100, machines=("m1", "m2")), job("q", 100, machines=("m1",))),
        objective=Objective(0, 1),
    )
    previous = (Assignment("p/1", "m2", 0, 100), Assignment("q/1", "m1", 100, 200))
    solution = solved(problem, Policies(stability=Stability(previous=previous, weight=5)))
    assert starts(solution)["p/1"] == ("m2", 0)
    assert starts(solution)["q/1"] == ("m1", 500)


@pytest.mark.parametrize("seed", [1, 2])
def test_all_policies_together_still_give_a_schedule_the_checker_accepts(seed):
    jobs = tuple(
        job(
            f"j{i}",
            30 + 10 * (i % 4),
            machines=("f1", "f2"),
            owner=f"member-{i % 3}",
            due=200 + 50 * i,
            weight=1 + i % 2,
        )
        for i in range(12)
    )
    problem = Problem(
        "mixed",
        3000,
        (Machine("f1", open=((0, 480), (600, 1080))), Machine("f2")),
        jobs,
        objective=Objective(100, 1),
    )
    policies = Policies(
        setup=FamilySetup(
            {j.id: ("halal" if i % 2 else "non_halal") for i, j in enumerate(jobs)}, 30
        ),
        share_caps=(ShareCap(("f1", "f2"), 250, "frying"),),
        stability=Stability(previous=(Assignment("j0/1", "f1", 0, 30),), weight=1),
    )
    solution = solver.solve(problem, SolveOptions(time_limit=2, workers=2, seed=seed), policies)
    assert solver.check(problem, solution, policies) == []


def test_the_interleaved_builder_beats_whole_jobs_first_when_only_the_makespan_counts():
    from solver.greedy import _interleaved, _job_by_job

    def two_steps(job_id, first, second):
        return Job(
            job_id,
            (Operation(f"{job_id}/1", (Mode(*first),)), Operation(f"{job_id}/2", (Mode(*second),))),
        )

    # Taking whole jobs one after the other leaves m2 idle while j0 holds m1 for both its steps.
    jobs = (
        two_steps("j0", ("m1", 25), ("m1", 15)),
        two_steps("j1", ("m2", 25), ("m1", 25)),
        two_steps("j2", ("m1", 20), ("m2", 25)),
    )
    problem = Problem(
        "cross", 1000, (Machine("m1"), Machine("m2")), jobs, objective=Objective(0, 1)
    )
    whole, _ = _job_by_job(problem, Policies())
    interleaved, _ = _interleaved(problem, Policies())
    assert max(x.end for x in interleaved) == 85 < max(x.end for x in whole) == 110
    assignments, unscheduled = greedy(problem)
    solution = Solution("feasible", None, None, 0.0, tuple(assignments), tuple(unscheduled))
    assert solver.check(problem, solution) == [] and max(x.end for x in assignments) == 85


def test_the_greedy_start_gives_the_shared_machine_first_to_the_job_with_most_work_left():
    from solver.greedy import _interleaved

    # j0 is one short step on m1; j1 needs m1 a little longer and then m2 for a long time.
    # Earliest finish first puts j0 on m1 and delays j1's long step; most work left does not.
    jobs = (
        Job("j0", (Operation("j0/1", (Mode("m1", 1),)),)),
        Job("j1", (Operation("j1/1", (Mode("m1", 2),)), Operation("j1/2", (Mode("m2", 10),)))),
    )
    problem = Problem("chain", 100, (Machine("m1"), Machine("m2")), jobs, objective=Objective(0, 1))
    earliest_finish, _ = _interleaved(problem, Policies())
    most_work_left, _ = _interleaved(problem, Policies(), most_work_left=True)
    assert max(x.end for x in earliest_finish) == 13
    assert max(x.end for x in most_work_left) == 12
    assignments, unscheduled = greedy(problem)
    solution = Solution("feasible", None, None, 0.0, tuple(assignments), tuple(unscheduled))
    assert solver.check(problem, solution) == [] and max(x.end for x in assignments) == 12
